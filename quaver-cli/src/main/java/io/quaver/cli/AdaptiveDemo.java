package io.quaver.cli;

import io.quaver.FlowFundamentals;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.PacketPriority;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSink;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.SinkOptions;
import io.quaver.TrafficType;
import io.quaver.dashboard.CongestionState;
import io.quaver.dashboard.Dashboard;
import io.quaver.dashboard.DashboardSnapshot;
import io.quaver.dashboard.DashboardSource;
import io.quaver.dashboard.FlowSample;
import io.quaver.internal.Engine;
import io.quaver.testkit.LinkConfig;
import io.quaver.testkit.LinkEmulator;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/// The engine of `./quaver demo`: the QoS2 SDK sample's adaptive loop over an emulated
/// bottleneck on loopback, with congestion induced and removed on a schedule.
///
/// ```
/// prober ──▶ LinkEmulator ingress ══ 20 Mbit/s, 10 ms ══▶ QosSink (UDP)     probes and reflections
///        ◀══════════════════════════ 10 ms ════════════ (cross traffic switched on and off)
/// media ──▶ adaptive flow (AUDIO_VIDEO, SHAPE_AND_MARK) ──▶ receiver on 127.0.0.1
/// ```
///
/// The sink and the media receiver both listen on 127.0.0.1, so the adaptive flow's path
/// estimates are those of the emulated link (the prober's probes are sent to the emulator's
/// ingress through the engine's prober-config hook, as in `AdaptiveLoopEmulatedTest`); the
/// media datagrams go straight to the receiver, which measures the actual rate. Cross traffic
/// is the emulator's model (no packets), 1.2 × the bottleneck, which fills the queue.
///
/// The adaptive loop (its own thread): poll fundamentals until estimates exist, set the
/// stream's rate with SHAPE_AND_MARK (retried while the estimates are insufficient or admission
/// refuses it), wait for Congested, drop to a tenth, wait for Available at the original rate,
/// restore; repeat. The main thread samples once every 250 ms, switches cross traffic and
/// prints a line a second.
final class AdaptiveDemo implements DashboardSource {
    static final long LINK_BPS = 20_000_000;
    static final long ONE_WAY_DELAY_NS = 10_000_000;
    static final long CROSS_TRAFFIC_BPS = LINK_BPS * 12 / 10;
    static final long STREAM_BPS = 3_000_000;
    /// Cross traffic starts this long after the rate was admitted, then every [#EPISODE_PERIOD_NS].
    static final long FIRST_ONSET_NS = 4_000_000_000L;
    static final long EPISODE_PERIOD_NS = 15_000_000_000L;
    static final long EPISODE_ON_NS = 6_000_000_000L;
    /// An episode is only started when this much time remains after it ends (to see it clear).
    static final long CLEAR_MARGIN_NS = 3_000_000_000L;
    /// How long after the cross traffic stops a Congested still counts as the episode's.
    static final long DETECTION_GRACE_NS = 1_000_000_000L;
    private static final long ESTIMATES_TIMEOUT_NS = 15_000_000_000L;
    private static final long ADMIT_TIMEOUT_NS = 15_000_000_000L;
    private static final long TICK_NS = 250_000_000L;
    private static final long FRAME_NS = 20_000_000L;
    private static final int UDP_IPV4_OVERHEAD = 28;
    private static final int MAX_DATAGRAM_IP_BYTES = 1228;

    /// What the run is asked for.
    ///
    /// @param live where live lines and events go, or `null` for none
    record Settings(Duration duration, boolean dashboard, int dashboardPort, PrintStream live) {
    }

    /// One induced congestion episode, times in ms since the demo started (-1: did not happen).
    record Episode(int number, long onsetMs, long offMs, long congestedMs, long uncongestedMs, long availableMs,
                   long availableBps, long restoredMs) {
        long congestedAfterMs() {
            return congestedMs < 0 ? -1 : congestedMs - onsetMs;
        }

        long availableAfterMs() {
            return availableMs < 0 || offMs < 0 ? -1 : availableMs - offMs;
        }

        long uncongestedAfterMs() {
            return uncongestedMs < 0 || offMs < 0 ? -1 : uncongestedMs - offMs;
        }
    }

    /// The outcome.
    record Result(boolean ok, String failure, long durationMs, String dashboardUrl, int flowId, PacketPriority marks,
                  long firstEstimateMs, long admittedMs, OptionalLong bottleneckBps, OptionalLong availableBps,
                  OptionalLong rttUs, List<Episode> episodes, int congestedSeen, int uncongestedSeen,
                  int availableSeen, int restored, long packetsSent, long bytesSent, long bytesReceived,
                  long averageRateBps) {
    }

    private final class EpisodeState {
        final int number;
        final long onsetNs;
        long offNs = -1;
        long congestedNs = -1;
        long uncongestedNs = -1;
        long availableNs = -1;
        long availableBps = -1;
        long restoredNs = -1;

        EpisodeState(int number, long onsetNs) {
            this.number = number;
            this.onsetNs = onsetNs;
        }

        Episode snapshot() {
            return new Episode(number, ms(onsetNs), ms(offNs), ms(congestedNs), ms(uncongestedNs), ms(availableNs),
                    availableBps, ms(restoredNs));
        }
    }

    private final Settings settings;
    private final long t0 = System.nanoTime();
    private final Object lock = new Object();

    private volatile String dashboardUrl;
    private volatile boolean stopping;
    private volatile String failure;
    private volatile QosFlow flow;
    private volatile long encoderBps;
    private volatile long admittedBps = -1;
    private volatile CongestionState congestion = CongestionState.UNKNOWN;
    private volatile FlowSample sample;
    private volatile String status = "starting";
    private volatile long firstEstimateNs = -1;
    private volatile long admittedNs = -1;
    private volatile long lastSentNs = -1;
    private final AtomicLong packetsSent = new AtomicLong();
    private final AtomicLong payloadSent = new AtomicLong();
    private final AtomicLong packetsReceived = new AtomicLong();
    private final AtomicLong payloadReceived = new AtomicLong();
    private final AtomicInteger congestedSeen = new AtomicInteger();
    private final AtomicInteger uncongestedSeen = new AtomicInteger();
    private final AtomicInteger availableSeen = new AtomicInteger();
    private final AtomicInteger restored = new AtomicInteger();
    private final List<EpisodeState> episodes = new ArrayList<>(); // guarded by lock
    private EpisodeState current; // guarded by lock
    private final List<long[]> receivedWindow = new ArrayList<>(); // main thread only (about 5 entries)

    AdaptiveDemo(Settings settings) {
        this.settings = settings;
    }

    /// Asks a running demo to stop (Ctrl-C); [#run()] then closes everything and returns.
    void stop() {
        stopping = true;
    }

    /// Runs the demo to its end (or [#stop()]) and closes everything it opened.
    Result run() throws IOException, InterruptedException {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        Thread receiverThread = null;
        Thread mediaThread = null;
        Thread loopThread = null;
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(lo).withPort(0));
             LinkEmulator link = LinkEmulator.builder()
                     .target(new InetSocketAddress(lo, sink.port()))
                     .forward(LinkConfig.ofRateBps(LINK_BPS).withDelayNs(ONE_WAY_DELAY_NS))
                     .reverse(LinkConfig.unshaped().withDelayNs(ONE_WAY_DELAY_NS))
                     .build();
             DatagramChannel receiver = DatagramChannel.open();
             DatagramChannel socket = DatagramChannel.open();
             Dashboard dashboard = settings.dashboard()
                     ? Dashboard.start(this, new InetSocketAddress(lo, settings.dashboardPort())) : null) {
            dashboardUrl = dashboard == null ? null : dashboard.url().toString();
            say(String.format(Locale.ROOT, "quaver demo: an adaptive AUDIO_VIDEO flow at %s over an emulated %s"
                    + " bottleneck (%d ms each way) on loopback, for %d s", mbps(STREAM_BPS), mbps(LINK_BPS),
                    ONE_WAY_DELAY_NS / 1_000_000, settings.duration().toSeconds()));
            say("sink on 127.0.0.1:" + sink.port() + ", bottleneck ingress " + link.ingressAddress().getPort()
                    + "; cross traffic of " + mbps(CROSS_TRAFFIC_BPS) + " is switched on for "
                    + EPISODE_ON_NS / 1_000_000_000L + " s every " + EPISODE_PERIOD_NS / 1_000_000_000L + " s");
            if (dashboard != null) {
                say("dashboard: " + dashboardUrl);
            }
            receiver.bind(new InetSocketAddress(lo, 0));
            socket.connect(receiver.getLocalAddress());
            receiverThread = Thread.ofPlatform().daemon(true).name("quaver-demo-receiver")
                    .start(() -> receive(receiver));
            Engine.embedded().tracking().setProberConfigHook(
                    c -> c.withProbeTarget(link.ingressAddress()).withRouteCheck(false));
            // unprivileged as in AdaptiveLoopEmulatedTest: the same behaviour for root and other users
            // (the rate is paced by Quaver's send path, never by a tc class)
            try (QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false)
                    .withSinkPort(sink.port()).withTrackingGracePeriod(Duration.ZERO))) {
                flow = qos.addFlow(socket, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
                status = "waiting for path estimates";
                loopThread = Thread.ofPlatform().daemon(true).name("quaver-demo-adaptive").start(this::adaptiveLoop);
                mediaThread = Thread.ofPlatform().daemon(true).name("quaver-demo-media").start(this::sendMedia);
                drive(link);
                link.forward().setCrossTrafficBps(0);
                stopping = true;
                finishEpisode(System.nanoTime());
            } finally {
                stopping = true; // the handle is closed: pending notifications and sends end with 995
                join(loopThread);
                join(mediaThread);
                Engine.embedded().tracking().setProberConfigHook(null);
            }
        } finally {
            // the channels are closed by now, which ends the receiver
            stopping = true;
            join(loopThread);
            join(mediaThread);
            join(receiverThread);
        }
        return result();
    }

    /// The dashboard's address once it is serving (`null` before, or without a dashboard).
    String dashboardUrl() {
        return dashboardUrl;
    }

    /// The main thread: samples, switches cross traffic on schedule, prints a line a second.
    private void drive(LinkEmulator link) throws InterruptedException {
        long end = t0 + settings.duration().toNanos();
        long nextLine = t0 + 1_000_000_000L;
        int nextEpisode = 0;
        for (long now = System.nanoTime(); !stopping && now - end < 0 && failure == null; now = System.nanoTime()) {
            updateSample(now);
            long admitted = admittedNs;
            synchronized (lock) {
                if (current == null && admitted > 0) {
                    long onset = admitted + FIRST_ONSET_NS + nextEpisode * EPISODE_PERIOD_NS;
                    if (now - onset >= 0 && end - (now + EPISODE_ON_NS + CLEAR_MARGIN_NS) >= 0) {
                        current = new EpisodeState(++nextEpisode, now);
                        episodes.add(current);
                        link.forward().setCrossTrafficBps(CROSS_TRAFFIC_BPS);
                        status = "episode " + current.number + ": cross traffic on";
                        event(">> episode " + current.number + ": cross traffic " + mbps(CROSS_TRAFFIC_BPS)
                                + " on through the " + mbps(LINK_BPS) + " bottleneck"
                                + (congestion == CongestionState.CONGESTED
                                        ? " (the flow is still at a tenth, waiting for Available)" : ""));
                    }
                } else if (current != null && current.offNs < 0 && now - (current.onsetNs + EPISODE_ON_NS) >= 0) {
                    link.forward().setCrossTrafficBps(0);
                    current.offNs = now;
                    status = "episode " + current.number + ": cross traffic off";
                    event("<< episode " + current.number + ": cross traffic off");
                }
            }
            if (now - nextLine >= 0) {
                nextLine += 1_000_000_000L;
                line(now);
            }
            long sleepNs = Math.min(TICK_NS, end - System.nanoTime());
            if (sleepNs > 0) {
                Thread.sleep(Duration.ofNanos(sleepNs));
            }
        }
    }

    /// The SDK sample's loop.
    private void adaptiveLoop() {
        QosFlow f = flow;
        CompletableFuture<Void> uncongested = null;
        try {
            FlowFundamentals est = awaitEstimates(f);
            if (est == null) {
                if (!stopping) {
                    failure = "no path estimates within " + ESTIMATES_TIMEOUT_NS / 1_000_000_000L + " s";
                }
                return;
            }
            firstEstimateNs = System.nanoTime();
            event("estimates: bottleneck " + mbps(est.bottleneckBps()) + ", available " + mbps(est.availableBps())
                    + ", RTT " + rtt(est.rttUs()));
            if (!admit(f, STREAM_BPS)) {
                if (!stopping) {
                    failure = "the stream's rate was not admitted within " + ADMIT_TIMEOUT_NS / 1_000_000_000L + " s";
                }
                return;
            }
            admittedNs = System.nanoTime();
            encoderBps = STREAM_BPS;
            congestion = CongestionState.UNCONGESTED;
            status = "streaming";
            PacketPriority p = f.packetPriority();
            event("rate admitted: " + mbps(STREAM_BPS) + " SHAPE_AND_MARK; marks DSCP " + p.conformantDscp()
                    + ", 802.1p " + p.conformantL2());
            while (!stopping) {
                if (!await(f.notifyCongested())) {
                    return;
                }
                long now = System.nanoTime();
                congestedSeen.incrementAndGet();
                congestion = CongestionState.CONGESTED;
                // a Congested belongs to the latest episode while its cross traffic is on (or went off
                // less than a detection time ago)
                long onsetNs = onEpisode(e -> e.congestedNs < 0 && (e.offNs < 0 || now - e.offNs < DETECTION_GRACE_NS),
                        e -> e.congestedNs = now, e -> e.onsetNs);
                long low = STREAM_BPS / 10;
                encoderBps = low;
                if (!admit(f, low)) {
                    return;
                }
                admittedBps = low;
                event("!! Congested" + (onsetNs < 0 ? " (outside an induced episode: a loaded host?)"
                        : " (" + (now - onsetNs) / 1_000_000 + " ms after the onset)")
                        + ": rate down to a tenth, " + mbps(low));
                if (uncongested == null || uncongested.isDone()) {
                    uncongested = f.notifyUncongested();
                    uncongested.whenComplete((v, e) -> {
                        if (e == null) {
                            onUncongested();
                        }
                    });
                }
                CompletableFuture<Long> available = f.notifyAvailable(STREAM_BPS);
                if (!await(available)) {
                    return;
                }
                long availableBps = available.join();
                long at = System.nanoTime();
                availableSeen.incrementAndGet();
                long offNs = onEpisode(e -> e.availableNs < 0 && e.offNs > 0, e -> {
                    e.availableNs = at;
                    e.availableBps = availableBps;
                }, e -> e.offNs);
                if (!admit(f, STREAM_BPS)) {
                    return;
                }
                long back = System.nanoTime();
                encoderBps = STREAM_BPS;
                restored.incrementAndGet();
                onEpisode(e -> e.restoredNs < 0 && e.availableNs > 0, e -> e.restoredNs = back, e -> e.offNs);
                status = "streaming";
                event("ok Available " + mbps(availableBps) + (offNs < 0 ? "" : " (" + (at - offNs) / 1_000_000
                        + " ms after the cross traffic stopped)") + ": rate restored to " + mbps(STREAM_BPS));
            }
        } catch (QosException e) {
            if (!stopping && e.error() != QosError.OPERATION_ABORTED) {
                failure = e.getMessage();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!stopping) {
                failure = e.toString();
            }
        } finally {
            if (uncongested != null) {
                uncongested.cancel(false);
            }
            encoderBps = 0;
        }
    }

    private void onUncongested() {
        long now = System.nanoTime();
        uncongestedSeen.incrementAndGet();
        if (congestion == CongestionState.CONGESTED) {
            congestion = CongestionState.UNCONGESTED;
        }
        long offNs = onEpisode(e -> e.uncongestedNs < 0 && e.offNs > 0, e -> e.uncongestedNs = now, e -> e.offNs);
        event(".. Uncongested" + (offNs < 0 ? "" : " (" + (now - offNs) / 1_000_000
                + " ms after the cross traffic stopped)"));
    }

    /// Applies `update` to the latest episode when `pending` holds for it; returns `reference`
    /// of that episode (its onset or the time its cross traffic stopped), or -1 when none applies.
    private long onEpisode(Predicate<EpisodeState> pending, Consumer<EpisodeState> update,
                           ToLongFunction<EpisodeState> reference) {
        synchronized (lock) {
            EpisodeState e = episodes.isEmpty() ? null : episodes.getLast();
            if (e == null || !pending.test(e)) {
                return -1;
            }
            update.accept(e);
            return reference.applyAsLong(e);
        }
    }

    private void finishEpisode(long now) {
        synchronized (lock) {
            if (current != null && current.offNs < 0) {
                current.offNs = now;
            }
        }
    }

    private FlowFundamentals awaitEstimates(QosFlow f) throws InterruptedException {
        long deadline = System.nanoTime() + ESTIMATES_TIMEOUT_NS;
        while (!stopping && System.nanoTime() - deadline < 0) {
            try {
                FlowFundamentals est = f.fundamentals(false);
                if (est.availableBps().isPresent() && est.bottleneckBps().isPresent()) {
                    return est;
                }
            } catch (QosException e) {
                if (e.error() == QosError.OPERATION_ABORTED || e.error() == QosError.INVALID_HANDLE) {
                    return null;
                }
                // NO_DATA until the first sample: keep polling, as the sample does
            }
            Thread.sleep(50);
        }
        return null;
    }

    /// Sets the rate as the SDK sample does: retried while estimates are insufficient (1237) or
    /// admission refuses it (54); `false` when stopping or after [#ADMIT_TIMEOUT_NS].
    private boolean admit(QosFlow f, long rateBps) throws InterruptedException {
        long deadline = System.nanoTime() + ADMIT_TIMEOUT_NS;
        while (!stopping) {
            try {
                f.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
                admittedBps = rateBps;
                return true;
            } catch (QosException e) {
                if ((e.error() != QosError.RETRY && e.error() != QosError.NETWORK_BUSY)
                        || System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
        return false;
    }

    /// Waits for a notification; `false` when stopping (the request is then cancelled) or when
    /// the handle closed under it.
    private boolean await(CompletableFuture<?> f) throws InterruptedException {
        while (!stopping) {
            try {
                f.get(200, TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException e) {
                // check stopping and wait again
            } catch (ExecutionException e) {
                if (e.getCause() instanceof QosException q) {
                    if (q.error() == QosError.OPERATION_ABORTED) {
                        return false;
                    }
                    throw q;
                }
                throw new IllegalStateException(e.getCause());
            }
        }
        f.cancel(false);
        return false;
    }

    /// The synthetic audio/video source: a frame every 20 ms at the encoder's rate, cut into
    /// datagrams of at most 1,200 bytes, sent through the flow's paced send path.
    private void sendMedia() {
        QosFlow f = flow;
        ByteBuffer buf = ByteBuffer.allocate(MAX_DATAGRAM_IP_BYTES);
        long next = System.nanoTime();
        try {
            while (!stopping) {
                long rate = encoderBps;
                if (rate > 0) {
                    long frameIpBytes = rate * FRAME_NS / 8 / 1_000_000_000L;
                    int datagrams = (int) Math.max(1, (frameIpBytes + MAX_DATAGRAM_IP_BYTES - 1) / MAX_DATAGRAM_IP_BYTES);
                    int payload = (int) Math.max(1, frameIpBytes / datagrams - UDP_IPV4_OVERHEAD);
                    for (int i = 0; i < datagrams && !stopping; i++) {
                        buf.clear().limit(payload);
                        int sent = f.send(buf);
                        packetsSent.incrementAndGet();
                        payloadSent.addAndGet(sent);
                        lastSentNs = System.nanoTime();
                    }
                }
                next += FRAME_NS;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                } else if (wait < -10 * FRAME_NS) {
                    next = System.nanoTime(); // far behind (a stall): do not burst to catch up
                }
            }
        } catch (QosException e) {
            if (!stopping && e.error() != QosError.OPERATION_ABORTED) {
                failure = "media send failed: " + e.getMessage();
            }
        }
    }

    private void receive(DatagramChannel receiver) {
        ByteBuffer buf = ByteBuffer.allocate(65_536);
        try {
            while (true) {
                buf.clear();
                receiver.receive(buf);
                packetsReceived.incrementAndGet();
                payloadReceived.addAndGet(buf.position());
            }
        } catch (ClosedChannelException e) {
            // closed at the end of the run
        } catch (IOException e) {
            if (!stopping) {
                failure = "media receiver failed: " + e;
            }
        }
    }

    private void updateSample(long now) {
        long ipBytes = payloadReceived.get() + UDP_IPV4_OVERHEAD * packetsReceived.get();
        receivedWindow.addLast(new long[] {now, ipBytes});
        while (receivedWindow.size() > 2 && now - receivedWindow.get(1)[0] >= 1_000_000_000L) {
            receivedWindow.removeFirst();
        }
        long[] first = receivedWindow.getFirst();
        long actualBps = now - first[0] > 0 ? (ipBytes - first[1]) * 8_000_000_000L / (now - first[0]) : -1;
        QosFlow f = flow;
        FlowFundamentals est = quietly(() -> f.fundamentals(false));
        PacketPriority p = quietly(f::packetPriority);
        sample = new FlowSample(Integer.toUnsignedLong(f.id()), "synthetic A/V stream to 127.0.0.1",
                TrafficType.AUDIO_VIDEO, p == null ? 0 : p.conformantDscp(), p == null ? 0 : p.conformantL2(),
                admittedBps, actualBps, value(est == null ? null : est.bottleneckBps()),
                value(est == null ? null : est.availableBps()), value(est == null ? null : est.rttUs()), congestion);
    }

    private static <T> T quietly(Supplier<T> s) {
        try {
            return s.get();
        } catch (QosException e) {
            return null; // no estimates yet, or the flow is closing
        }
    }

    private static long value(OptionalLong v) {
        return v == null ? -1 : v.orElse(-1);
    }

    @Override
    public DashboardSnapshot snapshot() {
        FlowSample s = sample;
        return new DashboardSnapshot(String.format(Locale.ROOT, "quaver demo — %s emulated bottleneck, %d ms each way",
                mbps(LINK_BPS), ONE_WAY_DELAY_NS / 1_000_000), status, s == null ? List.of() : List.of(s));
    }

    private void line(long now) {
        FlowSample s = sample;
        if (s == null || settings.live() == null) {
            return;
        }
        double total = settings.duration().toNanos() / 1e9;
        double t = (now - t0) / 1e9;
        int width = 10;
        int done = (int) Math.min(width, Math.round(t / total * width));
        say(String.format(Locale.ROOT, "%5.1f/%.0f s [%s%s] bottleneck %s available %s RTT %s | admitted %s"
                        + " actual %s | DSCP %d 802.1p %d | %s", t, total, "#".repeat(done), ".".repeat(width - done),
                num(s.bottleneckBps()), mbps(s.availableBps()), rtt(s.rttUs()), num(s.admittedBps()),
                mbps(s.actualBps()), s.dscp(), s.ieee8021p(), s.congestion().name().toLowerCase(Locale.ROOT)));
    }

    /// Mbit/s without the unit (the unit follows the next value on the line).
    private static String num(long bps) {
        return bps < 0 ? "-" : String.format(Locale.ROOT, "%.2f", bps / 1e6);
    }

    private void event(String what) {
        say(String.format(Locale.ROOT, "%5.1f s  %s", (System.nanoTime() - t0) / 1e9, what));
    }

    private void say(String line) {
        PrintStream out = settings.live();
        if (out != null) {
            synchronized (out) {
                out.println(line);
                out.flush();
            }
        }
    }

    private long ms(long ns) {
        return ns < 0 ? -1 : (ns - t0) / 1_000_000;
    }

    private Result result() {
        List<Episode> eps;
        synchronized (lock) {
            eps = episodes.stream().map(EpisodeState::snapshot).toList();
        }
        FlowSample s = sample;
        long ipSent = payloadSent.get() + UDP_IPV4_OVERHEAD * packetsSent.get();
        long streamingNs = admittedNs < 0 || lastSentNs < 0 ? 0 : lastSentNs - admittedNs;
        String why = failure;
        QosFlow f = flow;
        return new Result(why == null && admittedNs > 0, why, (System.nanoTime() - t0) / 1_000_000, dashboardUrl,
                f == null ? 0 : f.id(), s == null ? new PacketPriority(0, 0, 0, 0)
                        : new PacketPriority(s.dscp(), 0, s.ieee8021p(), 0),
                ms(firstEstimateNs), ms(admittedNs), optional(s == null ? -1 : s.bottleneckBps()),
                optional(s == null ? -1 : s.availableBps()), optional(s == null ? -1 : s.rttUs()), eps,
                congestedSeen.get(), uncongestedSeen.get(), availableSeen.get(), restored.get(), packetsSent.get(),
                payloadSent.get(), payloadReceived.get(), streamingNs <= 0 ? 0 : ipSent * 8_000_000_000L / streamingNs);
    }

    private static OptionalLong optional(long v) {
        return v < 0 ? OptionalLong.empty() : OptionalLong.of(v);
    }

    private static void join(Thread t) {
        if (t == null) {
            return;
        }
        try {
            t.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String mbps(long bps) {
        return bps < 0 ? "-" : String.format(Locale.ROOT, "%.2f Mbit/s", bps / 1e6);
    }

    static String mbps(OptionalLong bps) {
        return mbps(bps.orElse(-1));
    }

    static String rtt(long us) {
        return us < 0 ? "-" : String.format(Locale.ROOT, "%.1f ms", us / 1000.0);
    }

    static String rtt(OptionalLong us) {
        return rtt(us.orElse(-1));
    }
}
