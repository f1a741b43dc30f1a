package io.quaver.internal;

import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosLimits;
import io.quaver.internal.adaptive.Completion;
import io.quaver.internal.adaptive.CongestionState;
import io.quaver.internal.adaptive.NotificationRegistry;
import io.quaver.internal.adaptive.PathMonitor;
import io.quaver.internal.adaptive.Transition;
import io.quaver.internal.probe.PathEstimates;
import io.quaver.internal.probe.PathModel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/// The adaptive side of one engine (issue 5): per path (tracked client and sink port) a
/// [PathMonitor] fed by the prober's probegap samples and estimates (through [#monitored]) and
/// by a periodic tick, and the subsystem's [NotificationRegistry].
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

    private static final class Path {
        final PathMonitor monitor = new PathMonitor();
        final Set<Integer> flows = new LinkedHashSet<>();
        CongestionState forced;
        long lastAvailableAtNs = Long.MIN_VALUE;
        long lastEstimateCheckNs = Long.MIN_VALUE;
        /// The path's latest estimates, for admission control (-1 = none).
        long bottleneckBps = -1;
        long availableBps = -1;

        CongestionState state() {
            return forced != null ? forced : monitor.state();
        }
    }

    /// @param key       the path, or `null` when experiments towards it are forbidden by policy
    /// @param ownRateBps the flow's admitted rate, bits/s (0 = none), for the Available watch
    private record FlowEntry(Tracking.Key key, long ownRateBps) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final NotificationRegistry registry = new NotificationRegistry(QosLimits.DEFAULT.maxPendingNotifications());
    private final Map<Tracking.Key, Path> paths = new HashMap<>();
    private final Map<Integer, FlowEntry> flows = new HashMap<>();
    private ScheduledFuture<?> ticking;
    /// The tick thread exists only while adaptive flows do (lock held to change it).
    private ScheduledExecutorService ticker;

    AdaptiveFlows() {
    }

    // ------------------------------------------------------------------ flows (engine lock held)

    /// An adaptive flow was created; `key` is `null` when experiments towards it are forbidden.
    void flowAdded(int flowId, Tracking.Key key) {
        lock.lock();
        try {
            flows.put(flowId, new FlowEntry(key, 0));
            if (key != null) {
                paths.computeIfAbsent(key, k -> new Path()).flows.add(flowId);
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
                Path p = paths.get(f.key);
                if (p != null) {
                    p.flows.remove(flowId);
                    if (p.flows.isEmpty()) {
                        paths.remove(f.key);
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
                flows.put(flowId, new FlowEntry(f.key, rateBps));
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
            Path p = path(flowId);
            return congested ? registry.notifyCongested(flowId, p.state())
                    : registry.notifyUncongested(flowId, p.state());
        } finally {
            lock.unlock();
        }
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
        return paths.get(f.key);
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
    /// path's monitor.
    PathModel monitored(Tracking.Key key, PathModel inner) {
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
                sample(key, recvNs, sequence, sendNs, sinkRecv100ns * 100);
                estimates(key, recvNs, null, false);
            }

            private void estimates(Tracking.Key key, long nowNs, PathEstimates e, boolean force) {
                PathEstimates est = e;
                lock.lock();
                try {
                    Path p = paths.get(key);
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
            Path p = paths.get(key);
            if (p != null) {
                p.bottleneckBps = est.bottleneckBps().orElse(-1);
                p.availableBps = est.availableBps().orElse(-1);
            }
        } finally {
            lock.unlock();
        }
    }

    /// The latest (bottleneck, available) estimates of the flow's path, -1 where none exists;
    /// `null` when the flow has no path (off-link without experiments).
    long[] estimatesOf(int flowId) {
        lock.lock();
        try {
            FlowEntry f = flows.get(flowId);
            Path p = f == null || f.key == null ? null : paths.get(f.key);
            return p == null ? null : new long[] {p.bottleneckBps, p.availableBps};
        } finally {
            lock.unlock();
        }
    }

    private void sample(Tracking.Key key, long nowNs, long sequence, long sendNs, long receiveNs) {
        List<Completion> out = new ArrayList<>();
        lock.lock();
        try {
            Path p = paths.get(key);
            if (p != null) {
                deliver(p, p.monitor.onProbe(nowNs, sequence, sendNs, receiveNs), nowNs, out);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "congestion detector failed on a sample", e);
        } finally {
            lock.unlock();
        }
        performAsync(out);
    }

    private void estimate(Tracking.Key key, long nowNs, long availableBps, long atNs) {
        List<Completion> out = new ArrayList<>();
        lock.lock();
        try {
            Path p = paths.get(key);
            if (p != null && atNs != p.lastAvailableAtNs) {
                p.lastAvailableAtNs = atNs;
                p.monitor.onEstimate(nowNs, availableBps);
                checkAvailable(p, nowNs, out);
            }
        } finally {
            lock.unlock();
        }
        performAsync(out);
    }

    /// Lock held.
    private void deliver(Path p, Transition t, long nowNs, List<Completion> out) {
        if (t != null && p.forced == null) {
            for (int id : p.flows) {
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
        long now = System.nanoTime();
        lock.lock();
        try {
            for (Path p : paths.values()) {
                deliver(p, p.monitor.onTick(now), now, out);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "adaptive tick failed", e);
        } finally {
            lock.unlock();
        }
        Completion.performAll(out);
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
            Path p = paths.get(key);
            if (p != null) {
                QosException e = new QosException(error, detail);
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
            Path p = paths.get(new Tracking.Key(Addresses.clientIdentity(client), sinkPort));
            if (p == null) {
                throw new IllegalStateException("no adaptive flow towards " + client);
            }
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
            Path p = paths.get(new Tracking.Key(Addresses.clientIdentity(client), sinkPort));
            if (p == null) {
                throw new IllegalStateException("no adaptive flow towards " + client);
            }
            p.monitor.watch().onEstimate(atNs, availableBps, p.state());
            p.availableBps = availableBps;
            checkAvailable(p, Math.max(atNs, System.nanoTime()), out);
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
            Path p = paths.get(new Tracking.Key(Addresses.clientIdentity(client), sinkPort));
            if (p == null) {
                throw new IllegalStateException("no adaptive flow towards " + client);
            }
            p.bottleneckBps = bottleneckBps;
            p.availableBps = availableBps;
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
