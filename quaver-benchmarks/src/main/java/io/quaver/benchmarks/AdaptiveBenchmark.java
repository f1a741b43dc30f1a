package io.quaver.benchmarks;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSink;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.SinkOptions;
import io.quaver.TrafficType;
import io.quaver.internal.Engine;
import io.quaver.internal.adaptive.DetectorConfig;
import io.quaver.internal.adaptive.sim.DetectorReplay;
import io.quaver.internal.platform.NetNamespace;
import io.quaver.internal.probe.ProbeSockets;
import io.quaver.testkit.Availability;
import io.quaver.testkit.EmulatedLink;
import io.quaver.testkit.LinkConfig;
import io.quaver.testkit.LinkEmulator;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import io.quaver.testkit.Shaper;

import java.time.Duration;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/// Goals G7–G9 (performance-anchors.md §2, §6) measured end to end through the engine: a real
/// adaptive flow, its prober (probegap every 1 ms) and sink, the congestion detector and the
/// notification registry, on the namespace test bed (`tbf` between two namespaces; root) and on
/// the in-process link emulator, in real time.
///
/// Per trial (`--trials N` per scenario and bed): the path is idle but for a base load; a
/// `notifyCongested` is pending; at a random moment the cause is applied —
/// **step-down**: the bottleneck's capacity halves (20 → 10 Mbit/s, `tc qdisc change` / the
/// emulator's rate) under a base load of 13 Mbit/s (1.3× the new capacity);
/// **cross traffic**: 20 Mbit/s of UDP CBR starts on top of a 4 Mbit/s base load (1.2× the
/// capacity) — and the time to the Congested completion is taken. Then `notifyAvailable(4 Mbit/s)`
/// (the flow's admitted rate is 0.4 Mbit/s, as after the SDK sample's drop to a tenth) and
/// `notifyUncongested` are asked for, the cause is removed, the bottleneck's backlog is polled
/// until the queue has drained (`tc -s qdisc` / the emulator's counters), and the times from
/// that moment to Uncongested and to Available are taken (once drained, the true available
/// bandwidth is ≥ 6 Mbit/s, above the target × 1.05). Onset times are taken when the call that
/// makes the change returns (a `tc` process on the test bed: its duration is reported; the
/// kernel applies the change near its end, so latencies err short by at most that much).
///
/// False alarms (G9) in real time: a Congested request kept pending for `--fa-seconds` on the
/// emulator with ±5 ms jitter (clean) and with ±20 ms jitter without reordering (datagrams
/// bunch behind delayed ones: bursty delivery, bursts of up to ~40 ms), and on the test bed at
/// half load; counts are extrapolated to an hour. An hour of wall time per path is too long, so
/// the same detector is also replayed in virtual time over 20-hour synthetic series
/// ([DetectorReplay]: ±5 ms jitter; 20–40 ms delivery bursts, held and released; ±20 ms jitter
/// delivered in order, the emulator's bursty path) — the output says which is which.
///
/// Usage: `AdaptiveBenchmark [--trials N] [--fa-seconds S] [--virtual-hours H] [--no-netns]
/// [--no-emulator] [--json FILE]` (defaults: 10 trials, 120 s, 20 h; JSON to
/// `quaver-benchmarks/results/adaptive-benchmark.json`).
public final class AdaptiveBenchmark {
    private static final long MBIT = 1_000_000L;
    private static final long CAPACITY_BPS = 20 * MBIT;
    private static final long STEP_BASE_BPS = 13 * MBIT;
    private static final long CROSS_BASE_BPS = 4 * MBIT;
    private static final long CROSS_BPS = 20 * MBIT;
    private static final long OWN_RATE_BPS = 400_000L;
    private static final long TARGET_BPS = 4 * MBIT;
    private static final long EMU_DELAY_NS = 10_000_000L;
    private static final long DRAINED_BYTES = 3_000;
    private static final long WAIT_NS = 5_000_000_000L;
    /// How far before an alarm's decision a relay stall counts as its cause: the detector's
    /// floor window and trendline groups (about 100 ms) plus the path's delays, with margin.
    private static final long RELAY_STALL_MEMORY_NS = 300_000_000L;

    /// One bed: how to change its bottleneck and read its queue.
    private interface Bed {
        String name();

        /// RTT/2 of the bed (the allowance G7 gives for feedback).
        long halfRttNs();

        void setCapacity(long bps) throws Exception;

        void setLoad(long bps) throws Exception;

        long backlogBytes();

        /// The stalls of the bed's own relay (the emulator's forward sender, which delays probes as
        /// a queue would) that overlap `[fromNs, toNs]`; `null` for a bed without a user-space relay.
        default List<EmulatedLink.Stall> relayStalls(long fromNs, long toNs) {
            return null;
        }
    }

    /// One trial. `decidedMs`: onset to the detector's decision (the arrival of the reflection
    /// that made it, which includes the path's delays); `dispatchMs`: from that arrival to the
    /// completion seen by the application (receive, detector, registry, notification thread).
    /// `processedMs`: from that arrival to the detector's run on it (the prober's receive thread).
    record Trial(double detectionMs, double uncongestedMs, double availableMs, boolean early, double changeMs,
                 double decidedMs, double dispatchMs, double processedMs, String cause) {
        Trial(double detectionMs, double uncongestedMs, double availableMs, boolean early, double changeMs) {
            this(detectionMs, uncongestedMs, availableMs, early, changeMs, -1, -1, -1, null);
        }
    }

    record Scenario(String bed, String kind, List<Trial> trials) {
        double[] detection() {
            return measured(Trial::detectionMs);
        }

        double[] uncongested() {
            return measured(Trial::uncongestedMs);
        }

        double[] change() {
            return trials.stream().filter(t -> !t.early).mapToDouble(Trial::changeMs).sorted().toArray();
        }

        double[] decided() {
            return measured(Trial::decidedMs);
        }

        double[] dispatch() {
            return measured(Trial::dispatchMs);
        }

        double[] processed() {
            return measured(Trial::processedMs);
        }

        double[] available() {
            return measured(Trial::availableMs);
        }

        /// The values (≥ 0: measured) of the trials that did not alarm early, sorted.
        private double[] measured(java.util.function.ToDoubleFunction<Trial> value) {
            return trials.stream().filter(t -> !t.early).mapToDouble(value).filter(v -> v >= 0).sorted().toArray();
        }

        long misses() {
            return trials.stream().filter(t -> !t.early && t.detectionMs < 0).count();
        }

        long counted() {
            return trials.size() - early();
        }

        long early() {
            return trials.stream().filter(Trial::early).count();
        }
    }

    /// @param relayAlarms alarms whose decision followed a stall of the emulator's own relay of at
    ///                    least the detector's gradient guard (-1: the bed has no relay)
    record FalseAlarmRun(String path, String clock, double hours, int alarms, int relayAlarms, String note) {
        FalseAlarmRun(String path, String clock, double hours, int alarms, String note) {
            this(path, clock, hours, alarms, -1, note);
        }

        double perHour() {
            return alarms / hours;
        }

        /// Alarms per hour not explained by a relay stall.
        double detectorPerHour() {
            return (alarms - Math.max(0, relayAlarms)) / hours;
        }
    }

    private final int trials;
    private final long faSeconds;
    private final SplittableRandom random = new SplittableRandom(20261124L);

    private AdaptiveBenchmark(int trials, long faSeconds) {
        this.trials = trials;
        this.faSeconds = faSeconds;
    }

    public static void main(String[] args) throws Exception {
        int trials = 10;
        long faSeconds = 120;
        double virtualHours = 20;
        boolean netns = true;
        boolean emulator = true;
        Path json = Path.of("quaver-benchmarks", "results", "adaptive-benchmark.json");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--trials" -> trials = Integer.parseInt(args[++i]);
                case "--fa-seconds" -> faSeconds = Long.parseLong(args[++i]);
                case "--virtual-hours" -> virtualHours = Double.parseDouble(args[++i]);
                case "--no-netns" -> netns = false;
                case "--no-emulator" -> emulator = false;
                case "--json" -> json = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: AdaptiveBenchmark [--trials N] [--fa-seconds S] [--virtual-hours H]"
                            + " [--no-netns] [--no-emulator] [--json FILE]");
                    System.exit(2);
                }
            }
        }
        AdaptiveBenchmark bench = new AdaptiveBenchmark(trials, faSeconds);
        List<Scenario> scenarios = new ArrayList<>();
        List<FalseAlarmRun> alarms = new ArrayList<>();
        if (emulator) {
            bench.runEmulator(scenarios, alarms);
        }
        if (netns) {
            Availability avail = NetnsTestBed.availability();
            if (avail.ok()) {
                bench.runNetns(scenarios, alarms);
            } else {
                System.out.println("namespace test bed skipped: " + avail.reason());
            }
        }
        if (virtualHours > 0) {
            System.out.printf(Locale.ROOT, "replaying the detector in virtual time, %.0f h per path...%n", virtualHours);
            DetectorReplay.Report r = DetectorReplay.run(DetectorConfig.DEFAULT, 1_000_000L, 20, virtualHours, 20261124L);
            alarms.add(new FalseAlarmRun("synthetic, +-5 ms jitter", "virtual", r.clean().hours(), r.clean().alarms(),
                    "DetectorReplay"));
            alarms.add(new FalseAlarmRun("synthetic, 20-40 ms delivery bursts", "virtual", r.bursty().hours(),
                    r.bursty().alarms(), "DetectorReplay"));
            alarms.add(new FalseAlarmRun("synthetic, +-20 ms jitter in order (emulator-like)", "virtual",
                    r.inOrderJitter().hours(), r.inOrderJitter().alarms(), String.format(Locale.ROOT,
                            "DetectorReplay; congested %.1f s in all", r.inOrderJitter().congestedMs() / 1e3)));
        }
        String table = table(scenarios, alarms, trials) + "load average at the end (/proc/loadavg): " + loadAverage()
                + "\n";
        System.out.println(table);
        String out = json(scenarios, alarms);
        if (json.getParent() != null) {
            Files.createDirectories(json.getParent());
        }
        Files.writeString(json, out);
        Files.writeString(Path.of(json.toString().replaceAll("\\.json$", "") + ".txt"), table);
        System.out.println("JSON written to " + json.toAbsolutePath());
    }

    // ------------------------------------------------------------------ emulator

    private void runEmulator(List<Scenario> scenarios, List<FalseAlarmRun> alarms) throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(lo).withPort(0));
             LinkEmulator link = LinkEmulator.builder()
                     .target(new InetSocketAddress(lo, sink.port()))
                     .forward(LinkConfig.ofRateBps(CAPACITY_BPS).withDelayNs(EMU_DELAY_NS)
                             .withQueueLimitBytes(CAPACITY_BPS / 2 / 8 / 10)) // 100 ms at the stepped-down rate
                     .reverse(LinkConfig.unshaped().withDelayNs(EMU_DELAY_NS))
                     .build()) {
            Engine.embedded().tracking().setProberConfigHook(
                    c -> c.withProbeTarget(link.ingressAddress()).withRouteCheck(false));
            Bed bed = new Bed() {
                @Override
                public String name() {
                    return "emulator";
                }

                @Override
                public long halfRttNs() {
                    return EMU_DELAY_NS;
                }

                @Override
                public void setCapacity(long bps) {
                    link.forward().setRateBps(bps);
                }

                @Override
                public void setLoad(long bps) {
                    link.forward().setCrossTrafficBps(bps);
                }

                @Override
                public long backlogBytes() {
                    return link.forward().stats().backlogWireBytes();
                }

                @Override
                public List<EmulatedLink.Stall> relayStalls(long fromNs, long toNs) {
                    return link.forward().stalls(fromNs, toNs);
                }
            };
            try (QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false)
                    .withSinkPort(sink.port()));
                 DatagramChannel socket = DatagramChannel.open()) {
                socket.connect(new InetSocketAddress(lo, 9));
                QosFlow flow = qos.addFlow(socket, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
                runBed(bed, flow, scenarios);
                link.forward().setJitterNs(5_000_000);
                alarms.add(falseAlarms(bed, flow, "emulator, +-5 ms jitter", CROSS_BASE_BPS));
                link.forward().setReordering(false);
                link.forward().setJitterNs(20_000_000);
                alarms.add(falseAlarms(bed, flow, "emulator, +-20 ms jitter, no reordering (bursty)",
                        CROSS_BASE_BPS));
            } finally {
                Engine.embedded().tracking().setProberConfigHook(null);
            }
        }
    }

    // ------------------------------------------------------------------ netns

    private void runNetns(List<Scenario> scenarios, List<FalseAlarmRun> alarms) throws Exception {
        try (NetnsTestBed net = NetnsTestBed.builder().ipv6(false)
                .bottleneck(Node.A, Node.B, Shaper.tbf(CAPACITY_BPS).withLatencyNs(100_000_000L)).build()) {
            InetAddress b = net.ipv4(Node.B);
            InetSocketAddress discard = new InetSocketAddress(b, 9);
            QosSink sink = net.inNamespace(Node.B, () -> QosSink.start(SinkOptions.defaults().withBindAddress(b)));
            DatagramChannel drop = net.inNamespace(Node.B, () -> DatagramChannel.open().bind(discard));
            DatagramChannel loadSocket = net.inNamespace(Node.A, () -> DatagramChannel.open().connect(discard));
            NetNamespace nsA = NetNamespace.open(Path.of("/run/netns", net.namespace(Node.A)));
            Engine.embedded().tracking().setSocketFactory(ProbeSockets.in(nsA));
            try (nsA; sink; drop; CbrSender load = new CbrSender(loadSocket);
                 QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false));
                 DatagramChannel socket = net.inNamespace(Node.A, () -> DatagramChannel.open().connect(discard))) {
                Bed bed = new Bed() {
                    @Override
                    public String name() {
                        return "netns tbf";
                    }

                    @Override
                    public long halfRttNs() {
                        return 0;
                    }

                    @Override
                    public void setCapacity(long bps) {
                        net.setRateBps(Node.A, Node.B, bps);
                    }

                    @Override
                    public void setLoad(long bps) {
                        load.setRateBps(bps);
                    }

                    @Override
                    public long backlogBytes() {
                        return net.qdiscStats(Node.A, Node.B).backlogBytes();
                    }
                };
                QosFlow flow = net.inNamespace(Node.A,
                        () -> qos.addFlow(socket, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE));
                runBed(bed, flow, scenarios);
                alarms.add(falseAlarms(bed, flow, "netns tbf, 50 % CBR load", CAPACITY_BPS / 2));
            } finally {
                Engine.embedded().tracking().setSocketFactory(null);
            }
        }
    }

    // ------------------------------------------------------------------ trials

    private void runBed(Bed bed, QosFlow flow, List<Scenario> scenarios) throws Exception {
        bed.setLoad(CROSS_BASE_BPS);
        flow.setOutgoingRate(OutgoingRate.of(OWN_RATE_BPS, Shaping.SHAPE_AND_MARK), Duration.ofSeconds(20));
        System.out.printf(Locale.ROOT, "%s: estimates present, rate admitted; %d trials per scenario%n", bed.name(),
                trials);
        for (String kind : trials == 0 ? new String[0] : new String[] {"step-down", "cross traffic"}) {
            List<Trial> list = new ArrayList<>();
            boolean step = kind.equals("step-down");
            for (int i = 0; i < trials; i++) {
                Trial t = trial(bed, flow, step);
                System.out.printf(Locale.ROOT, "  %s %s #%d: Congested %s (decided %s + %s, detector after %s, %s),"
                                + " Uncongested %s, Available %s%n", bed.name(), kind, i + 1, ms(t.detectionMs, t.early),
                        ms(t.decidedMs, false), ms(t.dispatchMs, false), ms(t.processedMs, false), t.cause,
                        ms(t.uncongestedMs, false),
                        ms(t.availableMs, false));
                list.add(t);
            }
            scenarios.add(new Scenario(bed.name(), kind, list));
        }
        bed.setLoad(CROSS_BASE_BPS);
    }

    private static String ms(double v, boolean early) {
        return early ? "early" : v < 0 ? "missed" : String.format(Locale.ROOT, "%.0f ms", v);
    }

    /// When a future completes (its completion time is stamped by a dependent stage).
    private static AtomicLong stamp(CompletableFuture<?> f) {
        AtomicLong at = new AtomicLong(-1);
        f.whenComplete((v, e) -> at.set(e == null ? System.nanoTime() : -2));
        return at;
    }

    private static long await(CompletableFuture<?> f, AtomicLong at, long timeoutNs) {
        try {
            f.get(timeoutNs, TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            f.cancel(true);
            return -1;
        }
        long t;
        while ((t = at.get()) == -1) {
            Thread.onSpinWait();
        }
        return t;
    }

    private Trial trial(Bed bed, QosFlow flow, boolean step) throws Exception {
        long base = step ? STEP_BASE_BPS : CROSS_BASE_BPS;
        bed.setCapacity(CAPACITY_BPS);
        bed.setLoad(base);
        CompletableFuture<Void> calm = flow.notifyUncongested();
        await(calm, stamp(calm), 10_000_000_000L);
        Thread.sleep(1_000 + random.nextInt(1_000));
        CompletableFuture<Void> congested = flow.notifyCongested();
        AtomicLong congestedAt = stamp(congested);
        Thread.sleep(50);
        if (congested.isDone()) {
            congested.cancel(true);
            System.out.println("    early: " + Engine.embedded().adaptive().lastTransition(flow.id()));
            return new Trial(-1, -1, -1, true, 0);
        }
        long before = System.nanoTime();
        if (step) {
            bed.setCapacity(CAPACITY_BPS / 2);
        } else {
            bed.setLoad(base + CROSS_BPS);
        }
        long onset = System.nanoTime();
        long detected = await(congested, congestedAt, WAIT_NS);
        String congestedTransition = Engine.embedded().adaptive().lastTransition(flow.id());
        CompletableFuture<Long> available = flow.notifyAvailable(TARGET_BPS);
        AtomicLong availableAt = stamp(available);
        CompletableFuture<Void> uncongested = flow.notifyUncongested();
        AtomicLong uncongestedAt = stamp(uncongested);
        if (step) {
            bed.setCapacity(CAPACITY_BPS);
        } else {
            bed.setLoad(base);
        }
        long drained = -1;
        long limit = System.nanoTime() + WAIT_NS;
        while (System.nanoTime() - limit < 0) {
            if (bed.backlogBytes() <= DRAINED_BYTES) {
                drained = System.nanoTime();
                break;
            }
            LockSupport.parkNanos(1_000_000);
        }
        String atDrain = estimates(flow);
        long u = await(uncongested, uncongestedAt, 10_000_000_000L);
        long a = await(available, availableAt, 10_000_000_000L);
        System.out.printf(Locale.ROOT, "    estimates (bottleneck/available) when drained %s, at Available %s%n", atDrain,
                estimates(flow));
        long decided = detected < 0 ? -1 : transitionAtNs(congestedTransition);
        long seen = detected < 0 ? -1 : field(congestedTransition, "seenNs");
        return new Trial(detected < 0 ? -1 : (detected - onset) / 1e6,
                u < 0 || drained < 0 ? -1 : Math.max(0, u - drained) / 1e6,
                a < 0 || drained < 0 ? -1 : Math.max(0, a - drained) / 1e6, false, (onset - before) / 1e6,
                decided < 0 ? -1 : Math.max(0, decided - onset) / 1e6,
                decided < 0 ? -1 : Math.max(0, detected - decided) / 1e6,
                decided < 0 || seen < 0 ? -1 : Math.max(0, seen - decided) / 1e6, causeOf(congestedTransition));
    }

    /// The path's (bottleneck, available) estimates in Mbit/s, for the trial's log.
    private static String estimates(QosFlow flow) {
        long[] e = Engine.embedded().adaptive().estimatesOf(flow.id());
        return e == null ? "none" : String.format(Locale.ROOT, "%.1f/%.1f", e[0] / 1e6, e[1] / 1e6);
    }

    /// The decision time (`atNs`) in an engine's `lastTransition` string, -1 if none.
    static long transitionAtNs(String transition) {
        return field(transition, "atNs");
    }

    /// A `name=<long>` field of an engine's `lastTransition` string, -1 if absent.
    static long field(String transition, String name) {
        if (transition == null) {
            return -1;
        }
        var m = java.util.regex.Pattern.compile("\\b" + name + "=(-?\\d+)").matcher(transition);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static String causeOf(String transition) {
        return transition == null ? "?" : transition.replaceAll("(?s).*cause=([A-Z_]+).*", "$1");
    }

    /// Keeps a Congested request pending for `faSeconds` on a clean path and counts completions.
    private FalseAlarmRun falseAlarms(Bed bed, QosFlow flow, String path, long loadBps) throws Exception {
        bed.setCapacity(CAPACITY_BPS);
        bed.setLoad(loadBps);
        CompletableFuture<Void> calm = flow.notifyUncongested();
        await(calm, stamp(calm), 10_000_000_000L);
        Thread.sleep(2_000); // the detector's base settles with the new delay pattern
        int alarms = 0;
        int relayAlarms = 0;
        long guardNs = DetectorConfig.DEFAULT.gradientMinQueueNs();
        java.util.Map<String, Integer> causes = new java.util.TreeMap<>();
        long congestedNs = 0;
        long start = System.nanoTime();
        long end = start + faSeconds * 1_000_000_000L;
        while (System.nanoTime() - end < 0) {
            CompletableFuture<Void> congested = flow.notifyCongested();
            try {
                congested.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                alarms++;
                String why = Engine.embedded().adaptive().lastTransition(flow.id());
                long at = transitionAtNs(why);
                // a relay stall that delayed probes by at least the gradient guard within the
                // detector's memory before the decision (floor window, gradient groups)
                long stallNs = at < 0 ? -1 : maxLateness(bed.relayStalls(at - RELAY_STALL_MEMORY_NS, at));
                boolean relay = stallNs >= guardNs;
                if (relay) {
                    relayAlarms++;
                }
                System.out.println("    alarm: " + why + (stallNs >= 0 ? String.format(Locale.ROOT,
                        " relay stall %.1f ms before it%s", stallNs / 1e6, relay ? " (relay)" : "") : ""));
                causes.merge(causeOf(why), 1, Integer::sum);
                long congestedFrom = System.nanoTime();
                CompletableFuture<Void> back = flow.notifyUncongested();
                long left = end - System.nanoTime();
                if (left <= 0 || await(back, stamp(back), left) < 0) {
                    back.cancel(true);
                    congestedNs += System.nanoTime() - congestedFrom;
                    break; // still congested at the end: one alarm, not one per request
                }
                congestedNs += System.nanoTime() - congestedFrom;
            } catch (java.util.concurrent.TimeoutException e) {
                congested.cancel(true);
            }
        }
        long stop = System.nanoTime();
        double hours = (stop - start) / 3.6e12;
        System.out.printf(Locale.ROOT, "  %s: %d false alarms in %.1f min%n", path, alarms, hours * 60);
        String note = causes.isEmpty() ? "" : String.format(Locale.ROOT, "causes %s, congested %.1f s in all",
                causes, congestedNs / 1e9);
        List<EmulatedLink.Stall> stalls = bed.relayStalls(start, stop);
        if (stalls != null) {
            long big = stalls.stream().filter(st -> st.maxLatenessNs() >= guardNs).count();
            note = (note.isEmpty() ? "" : note + "; ") + String.format(Locale.ROOT,
                    "relay stalls >= %d ms in the run: %d (largest %.1f ms), alarms after one: %d", guardNs / 1_000_000,
                    big, maxLateness(stalls) / 1e6, relayAlarms);
        }
        return new FalseAlarmRun(path, "real", hours, alarms, stalls == null ? -1 : relayAlarms, note);
    }

    /// The largest lateness among `stalls`, 0 for none, -1 for `null` (no relay).
    private static long maxLateness(List<EmulatedLink.Stall> stalls) {
        return stalls == null ? -1 : stalls.stream().mapToLong(EmulatedLink.Stall::maxLatenessNs).max().orElse(0);
    }

    // ------------------------------------------------------------------ load on the bed

    /// UDP constant bit rate from namespace A (1200-byte payloads; the rate counts Ethernet
    /// frames, 1242 bytes each, as `tbf` does).
    private static final class CbrSender implements AutoCloseable {
        private final DatagramChannel channel;
        private final Thread thread;
        private volatile long rateBps;
        private volatile boolean closed;

        CbrSender(DatagramChannel channel) {
            this.channel = channel;
            this.thread = Thread.ofPlatform().name("bench-cbr").daemon().start(this::loop);
        }

        void setRateBps(long bps) {
            rateBps = bps;
            LockSupport.unpark(thread);
        }

        private void loop() {
            ByteBuffer b = ByteBuffer.allocate(1200);
            long next = System.nanoTime();
            while (!closed) {
                long rate = rateBps;
                if (rate <= 0) {
                    LockSupport.parkNanos(10_000_000);
                    next = System.nanoTime();
                    continue;
                }
                long now = System.nanoTime();
                if (now - next < 0) {
                    LockSupport.parkNanos(next - now);
                    continue;
                }
                try {
                    channel.write(b.clear());
                } catch (IOException e) {
                    if (!channel.isOpen()) {
                        return;
                    }
                }
                next = Math.max(next + 1242L * 8 * 1_000_000_000L / rate, now - 20_000_000L);
            }
        }

        @Override
        public void close() throws Exception {
            closed = true;
            LockSupport.unpark(thread);
            thread.join(2_000);
            channel.close();
        }
    }

    // ------------------------------------------------------------------ output

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static String verdict(boolean met) {
        return met ? "met" : "NOT met";
    }

    static String table(List<Scenario> scenarios, List<FalseAlarmRun> alarms, int trials) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nAdaptive flows end to end (real time, %d trials per row; ms)%n", trials));
        sb.append(String.format(Locale.ROOT, "%-14s %-14s %-22s %9s %9s %9s %6s %6s  %s%n", "bed", "scenario",
                "metric", "p50", "p95", "max", "misses", "early", "goal"));
        for (Scenario s : scenarios) {
            double allowance = s.bed().equals("emulator") ? EMU_DELAY_NS / 1e6 : 0;
            double[] d = s.detection();
            boolean g7 = s.kind().equals("step-down");
            String goal7 = g7 ? String.format(Locale.ROOT, "G7 <=%.0f/<=%.0f: %s", 150 + allowance, 250 + allowance,
                    verdict(s.misses() == 0 && pct(d, 0.5) <= 150 + allowance && pct(d, 0.95) <= 250 + allowance))
                    : "(no goal)";
            row(sb, s, "onset -> Congested", d, s.misses(), s.early(), goal7);
            row(sb, s, "  onset -> decision", s.decided(), 0, 0, "reflection that decided (path delays incl.)");
            row(sb, s, "  decision -> app", s.dispatch(), 0, 0, "receive, detector, registry, notify thread");
            row(sb, s, "  decision -> detector", s.processed(), 0, 0, "of which: the prober's receive thread");
            if (s.bed().startsWith("netns") && s.kind().equals("step-down")) {
                double[] c = s.change();
                sb.append(String.format(Locale.ROOT, "%-14s %-14s %-22s %9.0f %9.0f %9.0f %6s %6s  %s%n", s.bed(),
                        s.kind(), "(tc change call)", pct(c, 0.5), pct(c, 0.95), pct(c, 1), "", "",
                        "onset is its return"));
            }
            double[] u = s.uncongested();
            row(sb, s, "drained -> Uncongested", u, s.counted() - u.length, 0,
                    "G8 <=1000 (all): " + verdict(u.length == s.counted() && pct(u, 1) <= 1000));
            double[] a = s.available();
            row(sb, s, "crossing -> Available", a, s.counted() - a.length, 0,
                    "G8 <=1500 (all; 500 dwell + 1000): " + verdict(a.length == s.counted() && pct(a, 1) <= 1500));
        }
        sb.append(String.format(Locale.ROOT, "%nFalse alarms (G9: <=1/h clean +-5 ms jitter; <=6/h bursty 20-40 ms)%n"));
        sb.append(String.format(Locale.ROOT, "%-52s %-8s %9s %7s %9s %6s %9s %s%n", "path", "clock", "hours", "alarms",
                "per hour", "relay", "w/o relay", "note"));
        for (FalseAlarmRun f : alarms) {
            String note = (f.alarms() == 0 ? String.format(Locale.ROOT, "0 seen, 95 %% upper bound %.1f/h; ",
                    3 / f.hours()) : "") + f.note();
            sb.append(String.format(Locale.ROOT, "%-52s %-8s %9.3f %7d %9.2f %6s %9s %s%n", f.path(), f.clock(),
                    f.hours(), f.alarms(), f.perHour(), f.relayAlarms() < 0 ? "-" : Integer.toString(f.relayAlarms()),
                    f.relayAlarms() < 0 ? "-" : String.format(Locale.ROOT, "%.2f/h", f.detectorPerHour()), note));
        }
        sb.append("relay: alarms decided within 300 ms after a stall of the emulator's relay of at least the detector's"
                + " gradient guard (15 ms);\nw/o relay: the others, per hour. Netns and virtual-time paths have no"
                + " user-space relay.\n");
        return sb.toString();
    }

    private static void row(StringBuilder sb, Scenario s, String metric, double[] v, long misses, long early,
                            String goal) {
        sb.append(String.format(Locale.ROOT, "%-14s %-14s %-22s %9.0f %9.0f %9.0f %6d %6d  %s%n", s.bed(), s.kind(),
                metric, pct(v, 0.5), pct(v, 0.95), pct(v, 1), misses, early, goal));
    }

    static String json(List<Scenario> scenarios, List<FalseAlarmRun> alarms) {
        StringBuilder sb = new StringBuilder("{\n  \"benchmark\": \"adaptive\",\n  \"scenarios\": [\n");
        for (int i = 0; i < scenarios.size(); i++) {
            Scenario s = scenarios.get(i);
            sb.append(String.format(Locale.ROOT, "    {\"bed\": \"%s\", \"scenario\": \"%s\", \"trials\": %d,"
                            + " \"misses\": %d, \"early\": %d, \"congestedMs\": %s, \"decidedMs\": %s,"
                            + " \"dispatchMs\": %s, \"processedMs\": %s, \"uncongestedMs\": %s, \"availableMs\": %s}%s%n",
                    s.bed(), s.kind(), s.trials().size(), s.misses(), s.early(), stats(s.detection()),
                    stats(s.decided()), stats(s.dispatch()), stats(s.processed()), stats(s.uncongested()),
                    stats(s.available()),
                    i + 1 < scenarios.size() ? "," : ""));
        }
        sb.append("  ],\n  \"falseAlarms\": [\n");
        for (int i = 0; i < alarms.size(); i++) {
            FalseAlarmRun f = alarms.get(i);
            sb.append(String.format(Locale.ROOT, "    {\"path\": \"%s\", \"clock\": \"%s\", \"hours\": %.4f,"
                            + " \"alarms\": %d, \"perHour\": %.3f, \"relayAlarms\": %s, \"perHourWithoutRelay\": %s,"
                            + " \"note\": \"%s\"}%s%n", f.path(), f.clock(), f.hours(), f.alarms(), f.perHour(),
                    f.relayAlarms() < 0 ? "null" : Integer.toString(f.relayAlarms()),
                    f.relayAlarms() < 0 ? "null" : num(f.detectorPerHour()), f.note(), i + 1 < alarms.size() ? "," : ""));
        }
        return sb.append("  ]\n}\n").toString();
    }

    private static String stats(double[] v) {
        return String.format(Locale.ROOT, "{\"n\": %d, \"p50\": %s, \"p95\": %s, \"max\": %s, \"all\": %s}", v.length,
                num(pct(v, 0.5)), num(pct(v, 0.95)), num(pct(v, 1)),
                Arrays.toString(Arrays.stream(v).mapToLong(Math::round).toArray()));
    }

    private static String num(double d) {
        return Double.isNaN(d) ? "null" : String.format(Locale.ROOT, "%.1f", d);
    }
}
