package io.quaver.internal;

import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosLimits;
import io.quaver.internal.adaptive.Completion;
import io.quaver.internal.adaptive.CongestionDetector;
import io.quaver.internal.adaptive.CongestionState;
import io.quaver.internal.adaptive.DetectorConfig;
import io.quaver.internal.adaptive.NotificationRegistry;
import io.quaver.internal.adaptive.PathMonitor;
import io.quaver.internal.adaptive.Transition;
import io.quaver.internal.adaptive.AvailableWatch;
import io.quaver.internal.platform.TcpInfo;
import io.quaver.internal.probe.PathEstimates;
import io.quaver.internal.probe.PathModel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongConsumer;

/// The adaptive side of one engine (issue 5): per path (tracked client and sink port) and
/// detector configuration (handles may configure their own thresholds,
/// `QosOptions.congestionThresholds`) a [PathMonitor] fed by the prober's probegap samples and
/// estimates (through [#monitored]) and by a periodic tick, and the subsystem's
/// [NotificationRegistry] with a per-handle bound on pending requests
/// (`QosLimits.maxPendingNotifications`).
///
/// A TCP flow also gets a monitor of its own, fed on each tick from its socket's `TCP_INFO`
/// (smoothed RTT over the kernel's minimum RTT, retransmissions): its Congested / Uncongested
/// requests follow that monitor while the path has no recent probegap sample (no sink answers,
/// or experiments towards the destination are forbidden), and the path's monitor otherwise.
/// RTT and one-way delay are never mixed in one detector.
///
/// Locking: this class's lock is taken after the engine's lock (never the other way round) and
/// inside the prober's lock (the path model is called under it); nothing else is called with it
/// held. Completions are never performed under any of these locks: the caller performs those
/// it is handed back after unlocking, and those caused by samples or ticks are performed on a
/// virtual thread.
public final class AdaptiveFlows {
    private static final System.Logger LOG = System.getLogger("io.quaver.adaptive");
    /// How often every path with adaptive flows is ticked (detector timers, Available dwell).
    static final long TICK_NS = 20_000_000L;
    /// How often the path model's estimates are looked at for the Available watch.
    static final long ESTIMATE_EVERY_NS = 10_000_000L;

    /// A path's probegap samples count as recent for this long (after that a TCP flow's
    /// notifications follow its own `TCP_INFO` monitor).
    static final long PROBES_RECENT_NS = 1_000_000_000L;

    private static final class Path {
        final PathMonitor monitor;
        final Set<Integer> flows = new LinkedHashSet<>();
        long lastSampleNs = Long.MIN_VALUE;
        /// The detector's last transition and its signals then (diagnostics).
        String lastTransition;
        CongestionState forced;
        long lastAvailableAtNs = Long.MIN_VALUE;
        long lastEstimateCheckNs = Long.MIN_VALUE;
        /// The path's latest estimates, for admission control (-1 = none).
        long bottleneckBps = -1;
        long availableBps = -1;

        Path(DetectorConfig config) {
            this.monitor = new PathMonitor(new CongestionDetector(config), new AvailableWatch());
        }

        CongestionState state() {
            return forced != null ? forced : monitor.state();
        }

        boolean probedRecently(long nowNs) {
            return lastSampleNs != Long.MIN_VALUE && nowNs - lastSampleNs < PROBES_RECENT_NS;
        }
    }

    /// The `TCP_INFO` side of a TCP flow.
    private static final class TcpSource {
        final SocketChannel channel;
        final CongestionDetector detector;
        long lastBytesAcked = -1;

        TcpSource(SocketChannel channel, DetectorConfig config) {
            this.channel = channel;
            this.detector = new CongestionDetector(config);
        }
    }

    /// @param key        the path, or `null` when experiments towards it are forbidden by policy
    /// @param config     the detector configuration of the flow's handle
    /// @param ownRateBps the flow's admitted rate, bits/s (0 = none), for the Available watch
    /// @param tcp        the flow's `TCP_INFO` source, `null` for UDP flows
    private record FlowEntry(Tracking.Key key, DetectorConfig config, long ownRateBps, TcpSource tcp) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    /// Bounded per handle ([NotificationRegistry#assignFlow]), not engine-wide.
    private final NotificationRegistry registry = new NotificationRegistry(Integer.MAX_VALUE);
    private final Map<Tracking.Key, Map<DetectorConfig, Path>> paths = new HashMap<>();
    private final Function<SocketChannel, Optional<TcpInfo>> tcpInfo;
    private final Map<Integer, FlowEntry> flows = new HashMap<>();
    private ScheduledFuture<?> ticking;
    /// The tick thread exists only while adaptive flows do (lock held to change it).
    private ScheduledExecutorService ticker;

    /// Counts the estimates produced for monitored paths.
    private final java.util.concurrent.atomic.LongAdder estimatesProduced;

    /// @param tcpInfo reads a TCP socket's `TCP_INFO` (the platform's)
    /// @param estimatesProduced counts the estimates produced for monitored paths
    AdaptiveFlows(Function<SocketChannel, Optional<TcpInfo>> tcpInfo,
                  java.util.concurrent.atomic.LongAdder estimatesProduced) {
        this.tcpInfo = tcpInfo;
        this.estimatesProduced = estimatesProduced;
    }

    /// Notifications completed: congested, uncongested, available, cancelled or aborted.
    long[] notificationCounts() {
        return registry.completedCounts();
    }

    // ------------------------------------------------------------------ flows (engine lock held)

    /// An adaptive flow was created.
    ///
    /// @param key        its path, `null` when experiments towards it are forbidden
    /// @param config     the detector configuration of its handle
    /// @param owner      its handle, for the bound on pending requests
    /// @param maxPending that bound
    /// @param tcp        the flow's TCP socket (its `TCP_INFO` feeds a monitor), `null` for UDP
    void flowAdded(int flowId, Tracking.Key key, DetectorConfig config, Object owner, int maxPending,
                   SocketChannel tcp) {
        lock.lock();
        try {
            flows.put(flowId, new FlowEntry(key, config, 0, tcp == null ? null : new TcpSource(tcp, config)));
            registry.assignFlow(flowId, owner, maxPending);
            if (key != null) {
                paths.computeIfAbsent(key, k -> new HashMap<>()).computeIfAbsent(config, Path::new).flows.add(flowId);
            }
            if (key != null || tcp != null) {
                startTicking();
            }
        } finally {
            lock.unlock();
        }
    }

    /// An adaptive flow is gone: its pending requests complete with 995 (to perform after the
    /// engine's lock is released).
    List<Completion> flowRemoved(int flowId) {
        lock.lock();
        try {
            FlowEntry f = flows.remove(flowId);
            if (f != null && f.key != null) {
                Map<DetectorConfig, Path> byConfig = paths.get(f.key);
                Path p = byConfig == null ? null : byConfig.get(f.config);
                if (p != null) {
                    p.flows.remove(flowId);
                    if (p.flows.isEmpty()) {
                        byConfig.remove(f.config);
                        if (byConfig.isEmpty()) {
                            paths.remove(f.key);
                        }
                    }
                }
            }
            if (flows.isEmpty() && ticking != null) {
                ticking.cancel(false);
                ticking = null;
                ticker.shutdown(); // the thread ends with the last adaptive flow
                ticker = null;
            }
            return registry.removeFlow(flowId);
        } finally {
            lock.unlock();
        }
    }

    /// The flow's admitted rate changed (counts as its own rate for Available).
    void rateAdmitted(int flowId, long rateBps) {
        lock.lock();
        try {
            FlowEntry f = flows.get(flowId);
            if (f != null) {
                flows.put(flowId, new FlowEntry(f.key, f.config, rateBps, f.tcp));
            }
        } finally {
            lock.unlock();
        }
    }

    /// The path key of an adaptive flow, `null` if unknown or forbidden.
    Tracking.Key keyOf(int flowId) {
        lock.lock();
        try {
            FlowEntry f = flows.get(flowId);
            return f == null ? null : f.key;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ requests (engine lock held)

    NotificationRegistry.Registration<Void> notifyState(int flowId, boolean congested) {
        lock.lock();
        try {
            CongestionState state = stateOf(flowId, System.nanoTime());
            return congested ? registry.notifyCongested(flowId, state) : registry.notifyUncongested(flowId, state);
        } finally {
            lock.unlock();
        }
    }

    /// The congestion state a flow's requests follow (lock held): its path's, or for a TCP flow
    /// whose path has no recent probegap sample, its own `TCP_INFO` monitor's.
    private CongestionState stateOf(int flowId, long nowNs) {
        FlowEntry f = flows.get(flowId);
        Path p = f == null || f.key == null ? null : pathOf(f);
        if (f != null && f.tcp != null && (p == null || (p.forced == null && !p.probedRecently(nowNs)))) {
            return f.tcp.detector.state();
        }
        return path(flowId).state();
    }

    /// Lock held; the entry's path must exist.
    private Path pathOf(FlowEntry f) {
        return paths.get(f.key).get(f.config);
    }

    NotificationRegistry.Registration<Long> notifyAvailable(int flowId, long targetBps, long admittedBps) {
        lock.lock();
        try {
            Path p = path(flowId);
            OptionalLong now = p.state() == CongestionState.CONGESTED ? OptionalLong.empty()
                    : p.monitor.availableFor(targetBps, admittedBps, System.nanoTime());
            return registry.notifyAvailable(flowId, targetBps, admittedBps, now);
        } finally {
            lock.unlock();
        }
    }

    private Path path(int flowId) {
        FlowEntry f = flows.get(flowId);
        if (f == null || f.key == null) {
            throw Errors.of(QosError.ACCESS_DISABLED_BY_POLICY, "experiments towards the flow's off-link destination"
                    + " are forbidden by policy (QosOptions.withOffLinkExperiments allows them)");
        }
        return pathOf(f);
    }

    /// `QOSCancel` / `future.cancel` of a pending request: 995; unknown or completed → 1168.
    List<Completion> cancel(CompletableFuture<?> future) {
        lock.lock();
        try {
            return registry.cancel(future);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ samples

    /// Wraps a client's path model so that its probegap samples and estimates also reach the
    /// path's monitor; `drained` hears (under the prober's lock) when a monitor of the path
    /// saw its queue drain, so that the prober can refresh the available bandwidth.
    PathModel monitored(Tracking.Key key, PathModel inner, LongConsumer drained) {
        return new PathModel() {
            @Override
            public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
                inner.onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps);
                estimates(key, nowNs, inner.estimates(nowNs), true);
            }

            @Override
            public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                                   int probeIpBytes) {
                inner.onProbegap(sequence, sendNs, sinkRecv100ns, sinkSend100ns, recvNs, probeIpBytes);
                if (sample(key, recvNs, sequence, sendNs, sinkRecv100ns * 100)) {
                    drained.accept(recvNs);
                }
                estimates(key, recvNs, null, false);
            }

            @Override
            public void onProbegapArrival(long sequence, long recvNs) {
                inner.onProbegapArrival(sequence, recvNs);
                arrival(key, recvNs, sequence);
            }

            private void estimates(Tracking.Key key, long nowNs, PathEstimates e, boolean force) {
                PathEstimates est = e;
                lock.lock();
                try {
                    Path p = first(key);
                    if (p == null || (!force && nowNs - p.lastEstimateCheckNs < ESTIMATE_EVERY_NS
                            && p.lastEstimateCheckNs != Long.MIN_VALUE)) {
                        return;
                    }
                    p.lastEstimateCheckNs = nowNs;
                } finally {
                    lock.unlock();
                }
                if (est == null) {
                    est = inner.estimates(nowNs);
                }
                estimatesProduced.increment();
                record(key, est);
                if (est.availableBps().isPresent()) {
                    estimate(key, nowNs, est.availableBps().getAsLong(), est.availableAtNs());
                }
            }

            @Override
            public PathEstimates estimates(long nowNs) {
                return inner.estimates(nowNs);
            }
        };
    }

    private void record(Tracking.Key key, PathEstimates est) {
        lock.lock();
        try {
            for (Path p : pathsOf(key)) {
                p.bottleneckBps = est.bottleneckBps().orElse(-1);
                p.availableBps = est.availableBps().orElse(-1);
            }
        } finally {
            lock.unlock();
        }
    }

    /// The paths (one per detector configuration) towards `key`; lock held.
    private Iterable<Path> pathsOf(Tracking.Key key) {
        Map<DetectorConfig, Path> byConfig = paths.get(key);
        return byConfig == null ? List.of() : byConfig.values();
    }

    /// Any one path towards `key` (they share the prober and its timing), `null` if none; lock held.
    private Path first(Tracking.Key key) {
        for (Path p : pathsOf(key)) {
            return p;
        }
        return null;
    }

    /// The latest (bottleneck, available) estimates of the flow's path, -1 where none exists;
    /// `null` when the flow has no path (off-link without experiments). Also for diagnostics
    /// (benchmarks).
    public long[] estimatesOf(int flowId) {
        lock.lock();
        try {
            FlowEntry f = flows.get(flowId);
            Path p = f == null || f.key == null ? null : pathOf(f);
            return p == null ? null : new long[] {p.bottleneckBps, p.availableBps};
        } finally {
            lock.unlock();
        }
    }

    /// Whether a flow's path is congested now (its notifications' detector, or a forced state);
    /// `null` when the flow has no monitored path.
    Boolean congestedOf(int flowId) {
        lock.lock();
        try {
            FlowEntry f = flows.get(flowId);
            Path p = f == null || f.key == null ? null : pathOf(f);
            return p == null ? null : p.state() == CongestionState.CONGESTED;
        } finally {
            lock.unlock();
        }
    }

    /// @return whether a monitor of the path saw its queue drain
    private boolean sample(Tracking.Key key, long nowNs, long sequence, long sendNs, long receiveNs) {
        return feed(key, nowNs, m -> m.onProbe(nowNs, sequence, sendNs, receiveNs));
    }

    /// A probe that arrived without a delay sample (withdrawn by the prober): not a loss.
    private void arrival(Tracking.Key key, long nowNs, long sequence) {
        feed(key, nowNs, m -> m.onArrival(nowNs, sequence));
    }

    /// One probegap event into every monitor of the path; completions performed after unlocking.
    ///
    /// @return whether a monitor saw the path's queue drain
    private boolean feed(Tracking.Key key, long nowNs, Function<PathMonitor, Transition> event) {
        List<Completion> out = new ArrayList<>();
        boolean drained = false;
        lock.lock();
        try {
            for (Path p : pathsOf(key)) {
                p.lastSampleNs = nowNs;
                Transition t = event.apply(p.monitor);
                drained |= t != null && t.cause() == Transition.Cause.DRAINED;
                deliver(p, t, nowNs, out);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "congestion detector failed on a probegap sample", e);
        } finally {
            lock.unlock();
        }
        performAsync(out);
        return drained;
    }

    private void estimate(Tracking.Key key, long nowNs, long availableBps, long atNs) {
        List<Completion> out = new ArrayList<>();
        lock.lock();
        try {
            for (Path p : pathsOf(key)) {
                if (atNs != p.lastAvailableAtNs) {
                    p.lastAvailableAtNs = atNs;
                    p.monitor.onEstimate(nowNs, availableBps);
                    checkAvailable(p, nowNs, out);
                }
            }
        } finally {
            lock.unlock();
        }
        performAsync(out);
    }

    /// Lock held.
    private void deliver(Path p, Transition t, long nowNs, List<Completion> out) {
        if (t != null) {
            // seenNs: when the detector ran (atNs is the deciding sample's arrival)
            p.lastTransition = t + " seenNs=" + System.nanoTime() + " " + p.monitor.detector().reading(nowNs);
            LOG.log(System.Logger.Level.DEBUG, () -> "path " + p.flows + ": " + p.lastTransition);
        }
        if (t != null && p.forced == null) {
            for (int id : p.flows) {
                FlowEntry f = flows.get(id);
                if (f != null && f.tcp != null && !p.probedRecently(nowNs)) {
                    continue; // follows its TCP_INFO monitor
                }
                out.addAll(registry.onCongestionState(id, t.to()));
            }
        }
        checkAvailable(p, nowNs, out);
    }

    /// Lock held.
    private void checkAvailable(Path p, long nowNs, List<Completion> out) {
        if (p.state() == CongestionState.CONGESTED) {
            return;
        }
        for (int id : p.flows) {
            FlowEntry f = flows.get(id);
            long own = f == null ? 0 : f.ownRateBps;
            out.addAll(registry.onAvailability(id, target -> p.monitor.availableFor(target, own, nowNs)));
        }
    }

    private void tick() {
        List<Completion> out = new ArrayList<>();
        List<Map.Entry<Integer, TcpSource>> tcpFlows = new ArrayList<>();
        lock.lock();
        try {
            for (Map.Entry<Integer, FlowEntry> e : flows.entrySet()) {
                if (e.getValue().tcp != null) {
                    tcpFlows.add(Map.entry(e.getKey(), e.getValue().tcp));
                }
            }
        } finally {
            lock.unlock();
        }
        // TCP_INFO is read without the lock (a system call per socket)
        List<Optional<TcpInfo>> infos = new ArrayList<>(tcpFlows.size());
        for (Map.Entry<Integer, TcpSource> e : tcpFlows) {
            infos.add(readTcpInfo(e.getValue().channel));
        }
        long now = System.nanoTime();
        lock.lock();
        try {
            for (Map<DetectorConfig, Path> byConfig : paths.values()) {
                for (Path p : byConfig.values()) {
                    deliver(p, p.monitor.onTick(now), now, out);
                }
            }
            for (int i = 0; i < tcpFlows.size(); i++) {
                int id = tcpFlows.get(i).getKey();
                FlowEntry f = flows.get(id);
                if (f == null || f.tcp != tcpFlows.get(i).getValue()) {
                    continue; // removed meanwhile
                }
                feed(f.tcp, infos.get(i), now);
                out.addAll(registry.onCongestionState(id, stateOf(id, now)));
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "adaptive tick failed", e);
        } finally {
            lock.unlock();
        }
        Completion.performAll(out);
    }

    private Optional<TcpInfo> readTcpInfo(SocketChannel channel) {
        try {
            return channel.isOpen() ? tcpInfo.apply(channel) : Optional.empty();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "TCP_INFO could not be read", e);
            return Optional.empty();
        }
    }

    /// One `TCP_INFO` reading into a TCP flow's detector (lock held): a sample when new data
    /// was acknowledged since the last one (the kernel's RTT is only as new as its last ACK),
    /// otherwise a tick.
    private static void feed(TcpSource tcp, Optional<TcpInfo> info, long nowNs) {
        if (info.isPresent() && info.get().rttUs() > 0 && info.get().bytesAcked() != tcp.lastBytesAcked) {
            TcpInfo t = info.get();
            tcp.lastBytesAcked = t.bytesAcked();
            tcp.detector.onTcpInfo(nowNs, t.rttUs(), t.minRttUs(), t.totalRetrans(), t.bytesAcked(),
                    Math.max(1, t.sndMss()));
        } else {
            tcp.detector.onTick(nowNs);
        }
    }

    /// Lock held.
    private void startTicking() {
        if (ticking != null) {
            return;
        }
        if (ticker == null) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread th = new Thread(r, "quaver-adaptive-tick");
                th.setDaemon(true);
                return th;
            });
        }
        ticking = ticker.scheduleAtFixedRate(() -> {
            try {
                tick();
            } catch (Throwable e) {
                LOG.log(System.Logger.Level.WARNING, "adaptive tick failed", e);
            }
        }, TICK_NS, TICK_NS, TimeUnit.NANOSECONDS);
    }

    /// The path behind `key` failed: the pending requests of its flows complete with
    /// `error` (docs/errors.md).
    void pathFault(Tracking.Key key, QosError error, String detail) {
        List<Completion> out = new ArrayList<>();
        lock.lock();
        try {
            QosException e = new QosException(error, detail);
            for (Path p : paths.getOrDefault(key, Map.of()).values()) {
                for (int id : p.flows) {
                    out.addAll(registry.failFlow(id, e));
                }
            }
        } finally {
            lock.unlock();
        }
        performAsync(out);
    }

    private static void performAsync(List<Completion> out) {
        if (!out.isEmpty()) {
            Thread.ofVirtual().name("quaver-notify").start(() -> Completion.performAll(out));
        }
    }

    // ------------------------------------------------------------------ test seams

    /// Test seam: forces the path towards `client` (sink port `sinkPort`) congested (`true`) or
    /// uncongested (`false`), or gives it back to its detector (`null`). A forced change
    /// completes the matching requests of every adaptive flow on the path, as a detector
    /// transition would.
    public void forceCongestion(InetSocketAddress client, int sinkPort, Boolean congested) {
        CongestionState state = congested == null ? null
                : congested ? CongestionState.CONGESTED : CongestionState.UNCONGESTED;
        List<Completion> out = new ArrayList<>();
        long now = System.nanoTime();
        lock.lock();
        try {
            for (Path p : seamPaths(client, sinkPort)) {
                CongestionState before = p.state();
                p.forced = state;
                CongestionState after = p.state();
                if (after != before) {
                    p.monitor.watch().onCongestion(new Transition(before, after, now, Transition.Cause.QUEUE_LEVEL));
                    for (int id : p.flows) {
                        out.addAll(registry.onCongestionState(id, after));
                    }
                }
                checkAvailable(p, now, out);
            }
        } finally {
            lock.unlock();
        }
        Completion.performAll(out);
    }

    /// Test seam: an available-bandwidth estimate of the path towards `client` at `atNs`
    /// (`System.nanoTime()` clock).
    public void injectAvailable(InetSocketAddress client, int sinkPort, long atNs, long availableBps) {
        List<Completion> out = new ArrayList<>();
        lock.lock();
        try {
            for (Path p : seamPaths(client, sinkPort)) {
                p.monitor.watch().onEstimate(atNs, availableBps, p.state());
                p.availableBps = availableBps;
                checkAvailable(p, Math.max(atNs, System.nanoTime()), out);
            }
        } finally {
            lock.unlock();
        }
        Completion.performAll(out);
    }

    /// Test seam: the path's bottleneck and available bandwidth estimates as admission control
    /// sees them (until the path model reports its own).
    public void injectEstimates(InetSocketAddress client, int sinkPort, long bottleneckBps, long availableBps) {
        lock.lock();
        try {
            for (Path p : seamPaths(client, sinkPort)) {
                p.bottleneckBps = bottleneckBps;
                p.availableBps = availableBps;
            }
        } finally {
            lock.unlock();
        }
    }

    /// The paths towards `client` for a test seam (lock held); none → `IllegalStateException`.
    private List<Path> seamPaths(InetSocketAddress client, int sinkPort) {
        List<Path> found = new ArrayList<>();
        pathsOf(new Tracking.Key(Addresses.clientIdentity(client), sinkPort)).forEach(found::add);
        if (found.isEmpty()) {
            throw new IllegalStateException("no adaptive flow towards " + client);
        }
        return found;
    }

    /// The last congestion transition of the detector behind a flow's notifications, with its
    /// cause, when the detector ran (`seenNs`, `System.nanoTime()`) and the detector's signals at
    /// that moment (diagnostics, benchmarks); `null` if none yet or the flow has no path.
    public String lastTransition(int flowId) {
        lock.lock();
        try {
            FlowEntry f = flows.get(flowId);
            return f == null || f.key == null ? null : pathOf(f).lastTransition;
        } finally {
            lock.unlock();
        }
    }

    /// The detector configuration that a flow's notifications follow (for tests), `null` for an
    /// unknown flow.
    public DetectorConfig detectorConfigOf(int flowId) {
        lock.lock();
        try {
            FlowEntry f = flows.get(flowId);
            return f == null ? null : f.config;
        } finally {
            lock.unlock();
        }
    }

    /// Requests pending on the flows of `owner` (a handle's session; for tests).
    public int pendingOf(Object owner) {
        lock.lock();
        try {
            return registry.pendingOf(owner);
        } finally {
            lock.unlock();
        }
    }

    /// Requests pending now (for tests and leak checks).
    public int pendingCount() {
        lock.lock();
        try {
            return registry.pendingCount();
        } finally {
            lock.unlock();
        }
    }

    static InetAddress identity(InetSocketAddress a) {
        return Addresses.clientIdentity(a);
    }
}
