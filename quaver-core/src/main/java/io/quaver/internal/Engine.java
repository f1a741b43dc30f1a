package io.quaver.internal;

import io.quaver.Enforcement;
import io.quaver.FlowInfo;
import io.quaver.FlowMode;
import io.quaver.MarkingPolicy;
import io.quaver.Marks;
import io.quaver.OutgoingRate;
import io.quaver.PacketPriority;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.internal.platform.NetNamespace;
import io.quaver.internal.platform.Platform;
import io.quaver.internal.platform.SocketInfo;
import io.quaver.internal.shaping.Admission;
import io.quaver.internal.adaptive.AdmissionControl;
import io.quaver.internal.adaptive.AdmissionPolicy;
import io.quaver.internal.adaptive.Completion;
import io.quaver.internal.adaptive.DetectorConfig;
import io.quaver.internal.adaptive.NotificationRegistry;
import io.quaver.internal.shaping.KernelClasses;
import io.quaver.internal.shaping.Pacer;
import io.quaver.internal.shaping.PacingPolicy;
import io.quaver.internal.shaping.TcCommands;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Supplier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/// The flow registry and marking enforcement of one subsystem (the whole JVM when embedded).
///
/// State is changed only while [#lock] is held; no application code (future completions,
/// listeners) runs under it. Flow ids are unique among live flows and never 0. A socket may
/// be in several flows (an unconnected UDP socket serving several destinations); the JDK
/// socket then carries the marks of the flow it joined most recently (decisions.md item 21).
public final class Engine {
    private static final System.Logger LOG = System.getLogger("io.quaver.engine");
    private static final Engine EMBEDDED = new Engine(Platform.current());
    private static final Engine MIRROR = new Engine(Platform.current(), KernelClasses::system, true);

    private final ReentrantLock lock = new ReentrantLock();
    private final Platform platform;
    private final Tracking tracking;
    private final Map<Integer, FlowState> flows = new HashMap<>();
    private final IdentityHashMap<NetworkChannel, SocketState> sockets = new IdentityHashMap<>();
    private final Pacer pacer;
    private final Supplier<KernelClasses> kernelClasses;
    /// Send paths of destroyed flows whose queued sends still have to be aborted, outside the
    /// lock ([#flushClosed()]); guarded by the lock.
    private final List<FlowSender> closing = new ArrayList<>();
    /// Kernel classes (with their namespaces) no flow holds any more, removed by
    /// [#unlockAndFlush()] after the lock is released (`tc` never runs under the lock); guarded
    /// by the lock.
    private final List<KernelClassRef> classesToRemove = new ArrayList<>();
    /// `null`: the built-in admission control ([AdmissionRequest#decide]).
    private volatile Admission admission;
    private final EngineMetrics metrics = new EngineMetrics();
    private final AdaptiveFlows adaptive;
    /// Notification completions decided under the lock, performed by [#unlockAndFlush()];
    /// guarded by the lock.
    private final List<Completion> completions = new ArrayList<>();
    private int lastFlowId;
    /// A mirror engine marks its flows' sockets as told ([#mirrorMarks]), not by policy: the
    /// client side of daemon mode, where the daemon decides the marks.
    private final boolean mirror;
    /// Told the id of a flow whose marks changed on the engine's own initiative (a route-check
    /// result), not in a call of its owner; called with the lock held, must not block.
    private volatile java.util.function.IntConsumer marksListener = id -> { };

    Engine(Platform platform) {
        this(platform, KernelClasses::system);
    }

    Engine(Platform platform, Supplier<KernelClasses> kernelClasses) {
        this(platform, kernelClasses, false);
    }

    private Engine(Platform platform, Supplier<KernelClasses> kernelClasses, boolean mirror) {
        this.mirror = mirror;
        this.platform = platform;
        this.pacer = new Pacer("quaver-pacer", platform::preciseTimers);
        this.tracking = new Tracking(this);
        this.kernelClasses = kernelClasses;
        this.adaptive = new AdaptiveFlows(platform::tcpInfo, metrics.estimates);
    }

    /// Sets who is told of the flows whose marks change on the engine's own initiative, outside
    /// a call of their owner (a daemon tells its clients); the listener is called with the
    /// engine's lock held and must not block. `null`: nobody.
    public void setMarksListener(java.util.function.IntConsumer listener) {
        this.marksListener = listener == null ? id -> { } : listener;
    }

    /// The JVM-wide embedded engine.
    public static Engine embedded() {
        return EMBEDDED;
    }

    /// A new engine of its own (a daemon's), on the current platform.
    public static Engine create() {
        return new Engine(Platform.current());
    }

    /// The JVM-wide mirror engine: the send paths and socket marks of flows whose decisions a
    /// daemon takes (its flows are non-adaptive and marked only through [#mirrorMarks]).
    public static Engine mirror() {
        return MIRROR;
    }

    public Platform platform() {
        return platform;
    }

    /// The tracking registry: per-client path state shared by tracking and adaptive flows.
    public Tracking tracking() {
        return tracking;
    }

    /// Number of live flows (for leak checks and metrics).
    public int liveFlowCount() {
        lock.lock();
        try {
            return flows.size();
        } finally {
            lock.unlock();
        }
    }

    /// Number of sockets the engine currently holds marks on.
    public int liveSocketCount() {
        lock.lock();
        try {
            return sockets.size();
        } finally {
            lock.unlock();
        }
    }

    /// A snapshot of the engine's counters and gauges.
    public io.quaver.QosMetrics metrics() {
        return metrics.snapshot(liveFlowCount(), tracking.trackedCount(), adaptive.notificationCounts());
    }

    EngineMetrics metricsCounters() {
        return metrics;
    }

    ReentrantLock lock() {
        return lock;
    }

    /// The pacer thread shared by the send paths of this engine's flows.
    public Pacer pacer() {
        return pacer;
    }

    /// Replaces the admission control of adaptive flows' rates; `null` restores the built-in
    /// measurement-based one ([AdmissionControl] over the path's estimates).
    public void setAdmission(Admission admission) {
        this.admission = admission;
    }

    /// What admitting `rate` to an adaptive flow is decided from, taken under the lock (the
    /// path's latest estimates, the rates admitted to the other adaptive flows towards the same
    /// address); decided without it.
    private AdmissionRequest admissionRequest(FlowState flow, OutgoingRate rate) {
        InetSocketAddress dest = flow.members.getFirst().destination;
        java.net.InetAddress id = Addresses.clientIdentity(dest);
        boolean onLink = io.quaver.internal.probe.OnLink.isOnLink(id);
        long[] est = adaptive.estimatesOf(flow.id);
        java.util.OptionalLong bottleneck = est == null || est[0] < 0 ? java.util.OptionalLong.empty()
                : java.util.OptionalLong.of(est[0]);
        java.util.OptionalLong available = est == null || est[1] < 0 ? java.util.OptionalLong.empty()
                : java.util.OptionalLong.of(est[1]);
        // the prober's own estimates are the newest (the monitor sees them at most 10 ms late)
        Tracking.Key key = adaptive.keyOf(flow.id);
        io.quaver.internal.probe.PathEstimates pe = key == null ? null
                : tracking.prober(key.client(), key.sinkPort()).map(p -> p.estimates()).orElse(null);
        if (pe != null && pe.bottleneckBps().isPresent()) {
            bottleneck = pe.bottleneckBps();
        }
        if (pe != null && pe.availableBps().isPresent()) {
            available = pe.availableBps();
        }
        return new AdmissionRequest(flow.id, flow.mode, dest, rate, otherAdmittedBps(flow, dest), bottleneck,
                available, admittedBps(flow), onLink);
    }

    /// One admission decision's inputs ([#admissionRequest]).
    private record AdmissionRequest(int flowId, FlowMode mode, InetSocketAddress destination, OutgoingRate rate,
                                    long otherAdmittedBps, OptionalLong bottleneckBps, OptionalLong availableBps,
                                    long admittedBps, boolean onLink) {
        /// Returns when admitted, throws the refusal otherwise: `custom`'s verdict, or the
        /// built-in admission control's (qwave.md §5.7, §8.7; decisions.md item 6: off-link
        /// destinations are always admitted) when `custom` is `null`. Call without the lock.
        void decide(Admission custom) {
            if (custom != null) {
                custom.admit(flowId, mode, destination, rate, otherAdmittedBps);
                return;
            }
            AdmissionControl.decide(bottleneckBps, availableBps, rate.bandwidthBps(), admittedBps, otherAdmittedBps,
                    onLink, AdmissionPolicy.DEFAULT).throwIfRefused();
        }
    }

    /// The adaptive side: path monitors and pending notifications.
    public AdaptiveFlows adaptive() {
        return adaptive;
    }

    /// Releases the lock, then aborts the queued sends of flows destroyed meanwhile (their
    /// futures complete with `OPERATION_ABORTED` on the pacer thread, never under the lock)
    /// and performs the notification completions decided meanwhile. When the lock is still
    /// held (re-entered), both wait for the outermost release through [#flush()].
    private void unlockAndFlush() {
        if (lock.getHoldCount() > 1) {
            lock.unlock();
            return;
        }
        List<FlowSender> done = List.of();
        if (!closing.isEmpty()) {
            done = List.copyOf(closing);
            closing.clear();
        }
        List<Completion> complete = List.of();
        if (!completions.isEmpty()) {
            complete = List.copyOf(completions);
            completions.clear();
        }
        List<KernelClassRef> unused = List.of();
        if (!classesToRemove.isEmpty()) {
            unused = List.copyOf(classesToRemove);
            classesToRemove.clear();
        }
        lock.unlock();
        for (FlowSender f : done) {
            f.abortQueued();
        }
        for (KernelClassRef r : unused) {
            r.remove(kernelClasses);
        }
        Completion.performAll(complete);
    }

    /// A kernel class to remove, and the namespace to close with it (either may be `null`).
    private record KernelClassRef(KernelClasses.Installed installed, NetNamespace ns) {
        void remove(Supplier<KernelClasses> classes) {
            try {
                if (installed != null) {
                    classes.get().remove(installed);
                }
            } finally {
                if (ns != null) {
                    ns.close();
                }
            }
        }
    }

    /// The flow `flowId` of `owner`, which must still be `expected` (lock held): fails with
    /// `INVALID_HANDLE` once the handle closed, `NOT_FOUND` once the flow went.
    private void checkCurrent(EmbeddedSession owner, int flowId, FlowState expected) {
        owner.checkOpen();
        if (flow(owner, flowId) != expected) {
            throw Errors.notFound("no flow " + Integer.toUnsignedString(flowId) + " on this handle");
        }
    }

    /// Looks a flow up under the lock (for the per-flow serialisation of rate changes).
    private FlowState lookUp(EmbeddedSession owner, int flowId) {
        lock.lock();
        try {
            owner.checkOpen();
            return flow(owner, flowId);
        } finally {
            lock.unlock();
        }
    }

    /// Performs what [#unlockAndFlush()] left for the outermost release (call without the lock).
    void flush() {
        lock.lock();
        unlockAndFlush();
    }

    // ---------------------------------------------------------------- flows

    int addFlow(EmbeddedSession owner, NetworkChannel socket, InetSocketAddress destination, TrafficType type,
                FlowMode mode) {
        if (type == null) {
            throw Errors.invalidParameter("traffic type is null");
        }
        if (mode == null) {
            throw Errors.invalidParameter("flow mode is null");
        }
        checkSocketKind(socket);
        lock.lock();
        try {
            owner.checkOpen();
            InetSocketAddress dest = resolveDestination(socket, destination);
            if (flows.size() >= owner.options().limits().maxFlows()) {
                throw Errors.of(QosError.NO_SYSTEM_RESOURCES, "flow limit reached ("
                        + owner.options().limits().maxFlows() + " live flows)");
            }
            SocketState state = socketState(socket);
            checkFamily(state.info, dest);
            FlowState flow = new FlowState(nextFlowId(), owner, mode, type, owner.options().markingPolicy(), pacer,
                    metrics, mirror);
            metrics.flowsCreated.increment();
            flows.put(flow.id, flow);
            owner.flows.add(flow.id);
            join(flow, state, dest);
            if (mode == FlowMode.ADAPTIVE) {
                if (tracking.flowAdded(flow.id, owner, dest)) {
                    flow.pathVerifiedForL2 = true; // the client's path already passed the route check
                    reapply(flow);
                }
                adaptive.flowAdded(flow.id, pathKey(owner, dest),
                        DetectorConfig.of(owner.options().congestionThresholds()), owner,
                        owner.options().limits().maxPendingNotifications(),
                        socket instanceof SocketChannel tcp ? tcp : null);
            }
            return flow.id;
        } finally {
            lock.unlock();
        }
    }

    void addSocket(EmbeddedSession owner, int flowId, NetworkChannel socket, InetSocketAddress destination) {
        checkSocketKind(socket);
        changeSockets(owner, flowId, flow -> addSocketLocked(owner, flowId, flow, socket, destination));
    }

    /// A change of flow `flowId`'s sockets, serialised by the flow's own lock: `locked` runs
    /// under the engine's lock and returns the `tc` work the change needs (or `null`), which
    /// [#runAndCommit] then runs without it.
    private void changeSockets(EmbeddedSession owner, int flowId,
                               java.util.function.Function<FlowState, KernelClassJob> locked) {
        FlowState flow = lookUp(owner, flowId);
        flow.enforcing.lock();
        try {
            KernelClassJob job = locked.apply(flow);
            if (job != null) {
                runAndCommit(owner, flowId, flow, job);
            }
        } finally {
            flow.enforcing.unlock();
        }
    }

    /// The part of [#addSocket] under the lock; returns the `tc` work the new socket needs.
    private KernelClassJob addSocketLocked(EmbeddedSession owner, int flowId, FlowState flow, NetworkChannel socket,
                                           InetSocketAddress destination) {
        lock.lock();
        try {
            checkCurrent(owner, flowId, flow);
            if (flow.mode == FlowMode.ADAPTIVE) {
                throw Errors.invalidParameter("flow " + Integer.toUnsignedString(flowId)
                        + " is adaptive; only non-adaptive flows may hold several sockets");
            }
            InetSocketAddress dest = resolveDestination(socket, destination);
            for (Membership m : flow.members) {
                if (m.socket.channel == socket && Addresses.sameEndpoint(m.destination, dest)) {
                    return null; // already there: adding again is a no-op
                }
            }
            if (flow.members.size() >= owner.options().limits().maxSocketsPerFlow()) {
                throw Errors.of(QosError.NO_SYSTEM_RESOURCES, "socket limit of flow " + Integer.toUnsignedString(flowId)
                        + " reached (" + owner.options().limits().maxSocketsPerFlow() + ")");
            }
            SocketState state = socketState(socket);
            checkFamily(state.info, dest);
            join(flow, state, dest);
            // the rate covers the new socket too (or needs another enforcement)
            return flow.enforcement != Enforcement.NONE ? reenforce(flow) : null;
        } finally {
            unlockAndFlush();
        }
    }

    void remove(EmbeddedSession owner, int flowId, NetworkChannel socket) {
        if (socket == null) {
            lock.lock();
            try {
                owner.checkOpen();
                destroy(flow(owner, flowId));
            } finally {
                unlockAndFlush();
            }
            return;
        }
        changeSockets(owner, flowId, flow -> removeSocketLocked(owner, flowId, flow, socket));
    }

    /// The part of [#remove] of one socket under the lock; returns the `tc` work it needs.
    private KernelClassJob removeSocketLocked(EmbeddedSession owner, int flowId, FlowState flow,
                                              NetworkChannel socket) {
        lock.lock();
        try {
            checkCurrent(owner, flowId, flow);
            List<Membership> leaving = new ArrayList<>();
            for (Membership m : flow.members) {
                if (m.socket.channel == socket) {
                    leaving.add(m);
                }
            }
            if (leaving.isEmpty()) {
                throw Errors.notFound("the socket is not in flow " + Integer.toUnsignedString(flowId));
            }
            for (Membership m : leaving) {
                leave(m);
            }
            if (flow.members.isEmpty()) {
                destroy(flow); // removing the last socket destroys the flow (decisions.md item 15)
                return null;
            }
            return flow.enforcement != Enforcement.NONE ? reenforce(flow) : null;
        } finally {
            unlockAndFlush();
        }
    }

    /// Re-enforces the flow's rate after its sockets changed (lock held): at once, or, when a
    /// kernel class needs `tc`, returns that work for [#runAndCommit].
    private KernelClassJob reenforce(FlowState flow) {
        KernelClassJob job = planKernelClass(flow, flow.rate);
        if (job == null) {
            enforce(flow, null);
        }
        return job;
    }

    /// Runs `job` without the lock, then enforces the flow's rate with its outcome under the
    /// lock. The flow's socket change is already done: a flow that went meanwhile keeps nothing
    /// (a class installed for it is removed) and the call still succeeds.
    private void runAndCommit(EmbeddedSession owner, int flowId, FlowState flow, KernelClassJob job) {
        job.run(kernelClasses.get(), platform);
        lock.lock();
        try {
            if (!owner.isClosed() && flows.get(flowId) == flow) {
                enforce(flow, job);
            }
        } finally {
            discard(job);
            unlockAndFlush();
        }
    }

    /// Queues for removal what `job` installed if it did not become its flow's (lock held).
    private void discard(KernelClassJob job) {
        if (job.committed) {
            return;
        }
        KernelClasses.Installed fresh = job.existing == null ? job.installed : null;
        if (fresh != null || job.ns != null) {
            classesToRemove.add(new KernelClassRef(fresh, job.ns));
        }
        job.committed = true; // discarded once
    }

    /// Removes every flow of a closing session; returns how many were removed.
    int removeAll(EmbeddedSession owner) {
        lock.lock();
        try {
            int n = 0;
            for (Integer id : List.copyOf(owner.flows)) {
                FlowState flow = flows.get(id);
                if (flow != null) {
                    destroy(flow);
                    n++;
                }
            }
            owner.flows.clear();
            return n;
        } finally {
            unlockAndFlush();
        }
    }

    boolean exists(EmbeddedSession owner, int flowId) {
        lock.lock();
        try {
            FlowState flow = flows.get(flowId);
            return flow != null && flow.owner == owner;
        } finally {
            lock.unlock();
        }
    }

    void setTrafficType(EmbeddedSession owner, int flowId, TrafficType type) {
        if (type == null) {
            throw Errors.invalidParameter("traffic type is null");
        }
        lock.lock();
        try {
            owner.checkOpen();
            FlowState flow = flow(owner, flowId);
            flow.type = type;
            flow.explicitDscp = -1; // setting the type undoes an explicit DSCP (qwave.md §5.7)
            reapply(flow);
        } finally {
            lock.unlock();
        }
    }

    void setOutgoingDscp(EmbeddedSession owner, int flowId, int dscp) {
        if (dscp < 0 || dscp > 63) {
            throw Errors.invalidParameter("DSCP must be 0..63, was " + Integer.toUnsignedString(dscp));
        }
        lock.lock();
        try {
            owner.checkOpen();
            FlowState flow = flow(owner, flowId);
            if (!owner.privileged()) {
                throw Errors.of(QosError.ACCESS_DENIED, "setting an explicit DSCP needs privilege (root or CAP_NET_ADMIN;"
                        + " or QosOptions.withPrivileged / -Dquaver.privileged=true)");
            }
            if (flow.mode == FlowMode.ADAPTIVE) {
                throw Errors.notSupported("an explicit DSCP applies to non-adaptive flows only");
            }
            flow.explicitDscp = dscp;
            reapply(flow);
        } finally {
            lock.unlock();
        }
    }

    /// Records a rate contract on the flow and re-evaluates its marks. Admission and
    /// enforcement are decided by the caller (the rate engine); this only keeps state.
    void setRateContract(FlowState flow, OutgoingRate rate, boolean admitted) {
        flow.rate = rate;
        flow.admitted = admitted;
        reapply(flow);
    }

    /// `QOSSetOutgoingRate`: admits the contract (adaptive flows, through [Admission]),
    /// records it, re-marks the flow and puts exactly one enforcement in place.
    ///
    /// Admission and `tc` run without the engine's lock, so that a slow admission or `tc` blocks
    /// no other flow: the inputs are taken under the lock, decided and installed outside it, and
    /// committed under it again (rate changes of one flow are serialised by its own lock). A flow
    /// removed meanwhile fails with `NOT_FOUND` (`INVALID_HANDLE` when its handle closed) and keeps
    /// nothing; when another flow's rate towards the same address was admitted meanwhile, the
    /// admission is decided again.
    void setOutgoingRate(EmbeddedSession owner, int flowId, OutgoingRate rate) {
        if (rate == null) {
            throw Errors.invalidParameter("rate is null");
        }
        FlowState flow = lookUp(owner, flowId);
        flow.enforcing.lock();
        try {
            while (true) {
                AdmissionRequest request = null;
                KernelClassJob job;
                lock.lock();
                try {
                    checkCurrent(owner, flowId, flow);
                    if (flow.mode == FlowMode.ADAPTIVE && rate.bandwidthBps() != 0) {
                        request = admissionRequest(flow, rate);
                    }
                    job = planKernelClass(flow, rate);
                } finally {
                    unlockAndFlush();
                }
                if (request != null) {
                    try {
                        request.decide(admission);
                    } catch (QosException refused) {
                        metrics.admissionsRefused.increment();
                        throw refused;
                    }
                }
                if (job != null) {
                    job.run(kernelClasses.get(), platform);
                }
                lock.lock();
                try {
                    checkCurrent(owner, flowId, flow);
                    if (request != null && otherAdmittedBps(flow, request.destination()) > request.otherAdmittedBps()) {
                        continue; // more was admitted towards the address meanwhile: decide again
                    }
                    if (request != null) {
                        metrics.admissionsAccepted.increment();
                    }
                    setRateContract(flow, rate, true);
                    if (flow.mode == FlowMode.ADAPTIVE) {
                        adaptive.rateAdmitted(flow.id, admittedBps(flow));
                    }
                    enforce(flow, job);
                    return;
                } finally {
                    if (job != null) {
                        discard(job);
                    }
                    unlockAndFlush();
                }
            }
        } finally {
            flow.enforcing.unlock();
        }
    }

    /// The sum of the rates admitted to the other adaptive flows towards `dest`'s address.
    private long otherAdmittedBps(FlowState flow, InetSocketAddress dest) {
        long others = 0;
        for (FlowState f : flows.values()) {
            if (f != flow && f.mode == FlowMode.ADAPTIVE && f.admitted && f.rate != null && !f.members.isEmpty()
                    && f.members.getFirst().destination.getAddress().equals(dest.getAddress())) {
                others += PacingPolicy.effectiveRateBps(f.rate.bandwidthBps());
            }
        }
        return others;
    }

    /// The rate admitted to a flow, bits/s (0 = none).
    private static long admittedBps(FlowState flow) {
        return flow.admitted && flow.rate != null && flow.rate.bandwidthBps() != 0
                ? PacingPolicy.effectiveRateBps(flow.rate.bandwidthBps()) : 0;
    }

    /// The path an adaptive flow's notifications follow, `null` when experiments towards it are
    /// forbidden by policy (off-link without `offLinkExperiments`).
    private static Tracking.Key pathKey(EmbeddedSession owner, InetSocketAddress dest) {
        java.net.InetAddress id = Addresses.clientIdentity(dest);
        if (!owner.options().offLinkExperiments() && !io.quaver.internal.probe.OnLink.isOnLink(id)) {
            return null;
        }
        return new Tracking.Key(id, owner.options().sinkPort());
    }

    // ---------------------------------------------------------------- notifications

    /// `QOSNotifyCongested` / `QOSNotifyUncongested` (decisions.md items 2, 9, 10, 11).
    CompletableFuture<Void> notifyState(EmbeddedSession owner, int flowId, boolean congested) {
        NotificationRegistry.Registration<Void> r;
        lock.lock();
        try {
            owner.checkOpen();
            requireAdaptive(flow(owner, flowId));
            r = adaptive.notifyState(flowId, congested);
        } finally {
            lock.unlock();
        }
        Completion.performAll(r.completions());
        return r.future();
    }

    /// `QOSNotifyAvailable` (decisions.md items 8, 13).
    CompletableFuture<Long> notifyAvailable(EmbeddedSession owner, int flowId, long targetBps) {
        NotificationRegistry.Registration<Long> r;
        lock.lock();
        try {
            owner.checkOpen();
            FlowState flow = flow(owner, flowId);
            requireAdaptive(flow);
            r = adaptive.notifyAvailable(flowId, targetBps, admittedBps(flow));
        } finally {
            lock.unlock();
        }
        Completion.performAll(r.completions());
        return r.future();
    }

    private static void requireAdaptive(FlowState flow) {
        if (flow.mode != FlowMode.ADAPTIVE) {
            throw Errors.notSupported("notifications need an adaptive flow; flow " + Integer.toUnsignedString(flow.id)
                    + " is non-adaptive");
        }
    }

    /// The enforcement in effect for a flow.
    Enforcement enforcement(EmbeddedSession owner, int flowId) {
        lock.lock();
        try {
            owner.checkOpen();
            return flow(owner, flowId).enforcement;
        } finally {
            lock.unlock();
        }
    }

    /// The send path of a flow (valid until the flow is destroyed).
    FlowSender sender(EmbeddedSession owner, int flowId) {
        lock.lock();
        try {
            owner.checkOpen();
            return flow(owner, flowId).sender;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- enforcement

    /// Chooses and installs the one enforcement of the flow's rate (lock held):
    ///
    /// 1. no rate, or bandwidth 0 → [Enforcement#NONE];
    /// 2. [Shaping#USE_NON_CONFORMANT_MARKINGS] → [Enforcement#SEND_PATH] (marks per datagram;
    ///    never delayed);
    /// 3. a flow of exactly one TCP socket whose `SO_MAX_PACING_RATE` the kernel accepts →
    ///    [Enforcement#KERNEL_PACING];
    /// 4. a privileged handle allowed to use kernel classes, whose flow leaves through a
    ///    non-loopback interface whose root qdisc Quaver may own → [Enforcement#KERNEL_CLASS];
    /// 5. otherwise [Enforcement#SEND_PATH].
    ///
    /// `tc` never runs here: a kernel class that needs it comes as `job`, planned by
    /// [#planKernelClass] and run without the lock (without a fitting job: the send path).
    private void enforce(FlowState flow, KernelClassJob job) {
        OutgoingRate rate = flow.rate;
        boolean active = isActive(flow, rate);
        long rateBps = active ? PacingPolicy.effectiveRateBps(rate.bandwidthBps()) : 0;
        long burst = active ? PacingPolicy.burstBytes(rateBps) : 0;
        Enforcement next = Enforcement.NONE;
        if (active) {
            if (rate.shaping() == Shaping.USE_NON_CONFORMANT_MARKINGS) {
                next = Enforcement.SEND_PATH;
            } else if (tryKernelPacing(flow, rateBps)) {
                next = Enforcement.KERNEL_PACING;
            } else if (tryKernelClass(flow, rateBps, burst, job)) {
                next = Enforcement.KERNEL_CLASS;
            } else {
                next = Enforcement.SEND_PATH;
            }
        }
        if (next != Enforcement.KERNEL_PACING) {
            restorePacing(flow);
        }
        if (next != Enforcement.KERNEL_CLASS) {
            removeKernelClass(flow);
        }
        flow.enforcement = next;
        FlowSender.Mode mode = next != Enforcement.SEND_PATH ? FlowSender.Mode.DIRECT
                : rate.shaping() == Shaping.USE_NON_CONFORMANT_MARKINGS ? FlowSender.Mode.MARK_NON_CONFORMANT
                : FlowSender.Mode.PACE;
        flow.sender.configure(mode, rateBps, burst);
    }

    private static boolean isActive(FlowState flow, OutgoingRate rate) {
        return flow.live && rate != null && rate.bandwidthBps() != 0 && !flow.members.isEmpty();
    }

    /// The `tc` work [#enforce] will need once the flow's rate is `rate`, or `null` when it
    /// needs none (no kernel class, or the flow's class is already as wanted). Lock held.
    private KernelClassJob planKernelClass(FlowState flow, OutgoingRate rate) {
        if (!isActive(flow, rate) || rate.shaping() == Shaping.USE_NON_CONFORMANT_MARKINGS
                || kernelPacingPossible(flow) || !kernelShapingAllowed(flow.owner)) {
            return null;
        }
        long rateBps = PacingPolicy.effectiveRateBps(rate.bandwidthBps());
        long burst = PacingPolicy.burstBytes(rateBps);
        List<TcCommands.FiveTuple> tuples = kernelClassTuples(flow);
        if (tuples == null || tuples.isEmpty() || kernelClassCurrent(flow, rateBps, burst, tuples)) {
            return null;
        }
        return new KernelClassJob(rateBps, burst, tuples, flow.kernelClass, flow.members.getFirst().socket.channel);
    }

    /// Whether [#tryKernelPacing] may succeed (a flow of one TCP socket whose pacing rate the
    /// kernel lets Quaver read).
    private boolean kernelPacingPossible(FlowState flow) {
        if (flow.members.size() != 1 || !(flow.members.getFirst().socket.channel instanceof SocketChannel ch)) {
            return false;
        }
        return flow.pacedSockets.containsKey(flow.members.getFirst().socket) || platform.maxPacingRate(ch).isPresent();
    }

    private boolean tryKernelPacing(FlowState flow, long rateBps) {
        if (flow.members.size() != 1 || !(flow.members.getFirst().socket.channel instanceof SocketChannel ch)) {
            return false;
        }
        SocketState st = flow.members.getFirst().socket;
        if (!flow.pacedSockets.containsKey(st)) {
            OptionalLong original = platform.maxPacingRate(ch);
            if (original.isEmpty()) {
                return false;
            }
            flow.pacedSockets.put(st, original.getAsLong());
        }
        if (platform.setMaxPacingRate(ch, Math.max(1, rateBps / 8))) {
            return true;
        }
        restorePacing(flow);
        return false;
    }

    private void restorePacing(FlowState flow) {
        for (Map.Entry<SocketState, Long> e : flow.pacedSockets.entrySet()) {
            if (e.getKey().channel.isOpen()) {
                platform.setMaxPacingRate(e.getKey().channel, e.getValue());
            }
        }
        flow.pacedSockets.clear();
    }

    /// A handle opened: if it may shape with kernel classes, classes left behind by a crashed
    /// Quaver process are removed now (once per JVM).
    void sessionOpened(EmbeddedSession session) {
        if (kernelShapingAllowed(session)) {
            try {
                kernelClasses.get().cleanStaleOnce();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "stale kernel-class clean-up failed: " + e);
            }
        }
    }

    private boolean kernelShapingAllowed(EmbeddedSession owner) {
        if (!owner.privileged()) {
            return false;
        }
        Boolean opt = owner.options().kernelShaping();
        if (opt != null) {
            return opt;
        }
        return !"false".equalsIgnoreCase(System.getProperty("quaver.kernelShaping", "true").trim());
    }

    private static final String UNBOUND = "a socket of the flow is not bound (no source port to match)";

    /// The (protocol, source, destination) tuples a kernel class of the flow matches; `null`
    /// when a socket is not bound (nothing to match it by). Closed sockets are left out.
    private static List<TcCommands.FiveTuple> kernelClassTuples(FlowState flow) {
        List<TcCommands.FiveTuple> tuples = new ArrayList<>();
        for (Membership m : flow.members) {
            if (!m.socket.channel.isOpen()) {
                continue;
            }
            InetSocketAddress local;
            try {
                local = (InetSocketAddress) m.socket.channel.getLocalAddress();
            } catch (IOException e) {
                continue;
            }
            if (local == null || local.getPort() == 0) {
                return null;
            }
            tuples.add(new TcCommands.FiveTuple(m.socket.channel instanceof DatagramChannel, local, m.destination));
        }
        return tuples;
    }

    private static boolean kernelClassCurrent(FlowState flow, long rateBps, long burst,
                                              List<TcCommands.FiveTuple> tuples) {
        return flow.kernelClass != null && flow.kernelRateBps == rateBps && flow.kernelBurstBytes == burst
                && tuples.equals(flow.kernelTuples);
    }

    /// Whether the flow's rate is enforced by its kernel class: as it is, or with the outcome of
    /// `job` (which then becomes the flow's). Lock held; runs no `tc`.
    private boolean tryKernelClass(FlowState flow, long rateBps, long burst, KernelClassJob job) {
        if (!kernelShapingAllowed(flow.owner)) {
            return false;
        }
        List<TcCommands.FiveTuple> tuples = kernelClassTuples(flow);
        String refusal;
        if (tuples == null) {
            refusal = UNBOUND;
        } else if (tuples.isEmpty()) {
            return false;
        } else if (kernelClassCurrent(flow, rateBps, burst, tuples)) {
            return true;
        } else if (job == null || !job.matches(rateBps, burst, tuples, flow.kernelClass)) {
            refusal = "the flow's sockets changed while its kernel class was being set up";
        } else if (job.refusal != null) {
            refusal = job.refusal;
        } else {
            job.committed = true;
            if (job.existing == null) {
                flow.kernelClass = job.installed;
                flow.kernelClassNs = job.ns;
            }
            flow.kernelRateBps = rateBps;
            flow.kernelBurstBytes = burst;
            flow.kernelTuples = job.tuples;
            flow.kernelClassRefusal = null;
            return true;
        }
        flow.kernelClassRefusal = refusal;
        LOG.log(System.Logger.Level.INFO, "flow " + Integer.toUnsignedString(flow.id)
                + ": kernel-class shaping refused: " + refusal + "; using the send path");
        return false;
    }

    /// Lets go of the flow's kernel class: removed after the lock is released.
    private void removeKernelClass(FlowState flow) {
        if (flow.kernelClass != null || flow.kernelClassNs != null) {
            classesToRemove.add(new KernelClassRef(flow.kernelClass, flow.kernelClassNs));
        }
        flow.kernelClass = null;
        flow.kernelClassNs = null;
        flow.kernelTuples = null;
    }

    FlowState flow(EmbeddedSession owner, int flowId) {
        FlowState flow = flows.get(flowId);
        if (flow == null || flow.owner != owner) {
            throw Errors.notFound("no flow " + Integer.toUnsignedString(flowId) + " on this handle");
        }
        return flow;
    }

    /// What the fundamentals of a flow are computed for: its mode, destination and socket.
    record FlowTarget(FlowMode mode, InetSocketAddress destination, NetworkChannel channel) {
    }

    FlowTarget target(EmbeddedSession owner, int flowId) {
        lock.lock();
        try {
            owner.checkOpen();
            FlowState flow = flow(owner, flowId);
            Membership m = flow.members.isEmpty() ? null : flow.members.getFirst();
            return new FlowTarget(flow.mode, m == null ? null : m.destination, m == null ? null : m.socket.channel);
        } finally {
            lock.unlock();
        }
    }

    /// The marks a flow's conformant traffic carries (`null`: none) and whether they include
    /// the 802.1p tag, as a daemon tells its client to apply them.
    public record FlowMarks(Marks marks, boolean l2Tagging) {
    }

    FlowMarks marksOf(EmbeddedSession owner, int flowId) {
        lock.lock();
        try {
            owner.checkOpen();
            FlowState flow = flow(owner, flowId);
            return new FlowMarks(flow.conformantMarks(), flow.l2Tagging());
        } finally {
            lock.unlock();
        }
    }

    /// Puts marks decided elsewhere on a mirror engine's flow and its sockets.
    void mirrorMarks(EmbeddedSession owner, int flowId, FlowMarks marks) {
        lock.lock();
        try {
            owner.checkOpen();
            FlowState flow = flow(owner, flowId);
            if (!flow.mirrored) {
                throw new IllegalStateException("flow " + Integer.toUnsignedString(flowId) + " is not mirrored");
            }
            flow.mirroredMarks = marks.marks();
            flow.mirroredL2 = marks.l2Tagging();
            reapply(flow);
        } finally {
            lock.unlock();
        }
    }

    /// Whether a socket is in any live flow of the engine.
    public boolean holds(NetworkChannel socket) {
        lock.lock();
        try {
            return sockets.containsKey(socket);
        } finally {
            lock.unlock();
        }
    }

    /// The newest bottleneck and available bandwidth estimates of an adaptive flow's path,
    /// bits/s (-1: none), or `null` for a flow without a monitored path.
    public long[] estimatesOf(int flowId) {
        return adaptive.estimatesOf(flowId);
    }

    /// What the engine knows of one flow's path now, without measuring (a daemon's dashboard).
    ///
    /// @param bottleneckBps the newest bottleneck estimate, bits/s, -1 if none
    /// @param availableBps  the newest available-bandwidth estimate, bits/s, -1 if none
    /// @param rttUs         the newest round-trip time estimate, microseconds, -1 if none
    /// @param monitored     whether the flow has a monitored path (an adaptive flow towards a
    ///                      destination experiments are allowed to)
    /// @param congested     whether that path is congested now (false when not monitored)
    public record PathView(long bottleneckBps, long availableBps, long rttUs, boolean monitored, boolean congested) {
        /// No path: nothing known.
        public static final PathView NONE = new PathView(-1, -1, -1, false, false);
    }

    /// The path of a live flow as the engine sees it now: the prober's newest estimates (the
    /// path model's, as admission control uses them, where the prober has none yet) and the
    /// congestion state its notifications follow; [PathView#NONE] for an unknown flow or one
    /// without a monitored path.
    public PathView pathView(int flowId) {
        Boolean congested = adaptive.congestedOf(flowId);
        if (congested == null) {
            return PathView.NONE;
        }
        io.quaver.internal.probe.PathEstimates probed = tracking.latestEstimates(flowId);
        long[] model = adaptive.estimatesOf(flowId);
        long bottleneck = model == null ? -1 : model[0];
        long available = model == null ? -1 : model[1];
        long rtt = -1;
        if (probed != null) {
            bottleneck = probed.bottleneckBps().orElse(bottleneck);
            available = probed.availableBps().orElse(available);
            rtt = probed.rttUs().orElse(-1);
        }
        return new PathView(bottleneck, available, rtt, true, congested);
    }

    /// Whether a live flow may carry 802.1p tags (its path passed the route check); for tests.
    public boolean pathVerifiedForL2(int flowId) {
        lock.lock();
        try {
            FlowState flow = flows.get(flowId);
            return flow != null && flow.pathVerifiedForL2;
        } finally {
            lock.unlock();
        }
    }

    /// Test seam: a route-check result for the path towards `client` (sink port `sinkPort`), as
    /// the prober would report it.
    public void routeChecked(java.net.InetAddress client, int sinkPort, boolean verified) {
        setPathVerified(Addresses.clientIdentity(new InetSocketAddress(client, 0)), sinkPort, verified);
    }

    /// Applies a route-check result: adaptive flows towards `client` (whose handles reach the
    /// sink on `sinkPort`) may carry 802.1p tags only while `verified` (qwave.md §7.3).
    void setPathVerified(java.net.InetAddress client, int sinkPort, boolean verified) {
        lock.lock();
        try {
            for (FlowState flow : flows.values()) {
                if (flow.mode != FlowMode.ADAPTIVE || flow.members.isEmpty()
                        || flow.owner.options().sinkPort() != sinkPort) {
                    continue;
                }
                java.net.InetAddress dest = Addresses.clientIdentity(
                        new InetSocketAddress(flow.members.getFirst().destination.getAddress(), 0));
                if (dest.equals(client) && flow.pathVerifiedForL2 != verified) {
                    flow.pathVerifiedForL2 = verified;
                    reapply(flow);
                    marksListener.accept(flow.id);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    PacketPriority packetPriority(EmbeddedSession owner, int flowId) {
        lock.lock();
        try {
            owner.checkOpen();
            return flow(owner, flowId).packetPriority();
        } finally {
            lock.unlock();
        }
    }

    FlowInfo describe(EmbeddedSession owner, int flowId) {
        lock.lock();
        try {
            owner.checkOpen();
            return flow(owner, flowId).info();
        } finally {
            lock.unlock();
        }
    }

    /// Every live flow, by id (a daemon's registry listing).
    public List<FlowInfo> enumerateAll() {
        return enumerate();
    }

    List<FlowInfo> enumerate() {
        lock.lock();
        try {
            List<FlowInfo> out = new ArrayList<>(flows.size());
            for (FlowState f : flows.values()) {
                out.add(f.info());
            }
            out.sort((a, b) -> Integer.compareUnsigned(a.flowId(), b.flowId()));
            return out;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- internals

    private int nextFlowId() {
        do {
            lastFlowId++;
        } while (lastFlowId == 0 || flows.containsKey(lastFlowId));
        return lastFlowId;
    }

    private static void checkSocketKind(NetworkChannel socket) {
        if (socket == null) {
            throw Errors.invalidParameter("socket is null");
        }
        if (!(socket instanceof DatagramChannel) && !(socket instanceof SocketChannel)) {
            throw Errors.invalidParameter("socket must be a DatagramChannel or SocketChannel, was "
                    + socket.getClass().getSimpleName());
        }
        if (!socket.isOpen()) {
            throw Errors.invalidParameter("socket is closed");
        }
    }

    /// The destination a registration uses: the given one (which must match a connected
    /// socket's peer), or the connected peer.
    private static InetSocketAddress resolveDestination(NetworkChannel socket, InetSocketAddress destination) {
        if (destination != null) {
            Addresses.checkFlowDestination(destination, "DestAddr");
        }
        InetSocketAddress peer = remoteAddress(socket);
        if (peer != null) {
            if (destination != null && !Addresses.sameEndpoint(peer, destination)) {
                throw Errors.invalidParameter("DestAddr " + destination + " differs from the socket's connected peer " + peer);
            }
            return peer;
        }
        if (destination == null) {
            throw Errors.invalidParameter("the socket is not connected: DestAddr (address and port) is required");
        }
        return destination;
    }

    private static InetSocketAddress remoteAddress(NetworkChannel socket) {
        try {
            SocketAddress remote = switch (socket) {
                case DatagramChannel d -> d.getRemoteAddress();
                case SocketChannel s -> s.getRemoteAddress();
                default -> null;
            };
            return (InetSocketAddress) remote;
        } catch (IOException e) {
            throw Errors.invalidParameter("socket is closed");
        }
    }

    private static void checkFamily(SocketInfo info, InetSocketAddress dest) {
        boolean v4 = dest.getAddress() instanceof Inet4Address;
        if (v4 && !info.acceptsIpv4()) {
            throw Errors.invalidParameter("IPv4 destination " + dest + " on an IPv6-only socket");
        }
        if (!v4 && !info.acceptsIpv6()) {
            throw Errors.invalidParameter("IPv6 destination " + dest + " on an IPv4 socket");
        }
    }

    private SocketState socketState(NetworkChannel socket) {
        SocketState state = sockets.get(socket);
        if (state != null) {
            return state;
        }
        int tos;
        try {
            tos = socket.getOption(StandardSocketOptions.IP_TOS);
        } catch (IOException | UnsupportedOperationException e) {
            throw Errors.invalidParameter("cannot read the socket's IP_TOS: " + e.getMessage());
        }
        // Reading SO_PRIORITY needs the platform; restoring it matters because Linux rewrites
        // the priority whenever IP_TOS changes. One platform call: one descriptor lookup.
        Platform.SocketFacts facts = platform.socketFacts(socket);
        return new SocketState(socket, facts.info(), tos, facts.priority());
    }

    private void join(FlowState flow, SocketState state, InetSocketAddress dest) {
        Membership m = new Membership(flow, state, dest);
        flow.members.add(m);
        metrics.socketsAdded.increment();
        if (state.memberships.isEmpty()) {
            sockets.put(state.channel, state);
        }
        state.memberships.add(m);
        refreshRegistrations(flow);
        flow.sender.setMarks(flow.conformantMarks(), flow.policy.nonConformant(), flow.l2Tagging());
        apply(state);
    }

    private void leave(Membership m) {
        m.flow.members.remove(m);
        refreshRegistrations(m.flow);
        if (m.socket.channel instanceof SocketChannel && m.flow.pacedSockets.containsKey(m.socket)) {
            Long original = m.flow.pacedSockets.remove(m.socket);
            if (m.socket.channel.isOpen()) {
                platform.setMaxPacingRate(m.socket.channel, original);
            }
        }
        SocketState state = m.socket;
        state.memberships.remove(m);
        apply(state);
        if (state.memberships.isEmpty()) {
            sockets.remove(state.channel);
        }
    }

    private void destroy(FlowState flow) {
        flow.live = false;
        flow.sender.markClosed(flow.owner.isClosed() ? QosError.INVALID_HANDLE : QosError.NOT_FOUND);
        closing.add(flow.sender);
        restorePacing(flow);
        removeKernelClass(flow);
        flow.enforcement = Enforcement.NONE;
        if (flow.mode == FlowMode.ADAPTIVE) {
            tracking.flowRemoved(flow.id);
            completions.addAll(adaptive.flowRemoved(flow.id));
        }
        for (Membership m : List.copyOf(flow.members)) {
            leave(m);
        }
        flows.remove(flow.id);
        metrics.flowsRemoved.increment();
        flow.owner.flows.remove(flow.id);
        flow.owner.onFlowDestroyed(flow);
    }

    private void reapply(FlowState flow) {
        flow.sender.setMarks(flow.conformantMarks(), flow.policy.nonConformant(), flow.l2Tagging());
        for (Membership m : flow.members) {
            apply(m.socket);
        }
    }

    private static void refreshRegistrations(FlowState flow) {
        FlowSender.Registration[] regs = new FlowSender.Registration[flow.members.size()];
        for (int i = 0; i < regs.length; i++) {
            Membership m = flow.members.get(i);
            regs[i] = new FlowSender.Registration(m.socket, m.destination, m.socket.channel instanceof SocketChannel
                    ? PacingPolicy.tcpHeaderBytes(m.destination.getAddress())
                    : PacingPolicy.udpHeaderBytes(m.destination.getAddress()));
        }
        flow.sender.setRegistrations(regs);
    }

    /// Puts the marks of the socket's most recent flow on the JDK socket, or its own marks
    /// back when it is in no flow (or that flow marks nothing).
    private void apply(SocketState state) {
        if (!state.channel.isOpen()) {
            return; // closed: never touch it (or a later socket) again
        }
        Membership top = state.memberships.isEmpty() ? null : state.memberships.getLast();
        Marks marks = top == null ? null : top.flow.conformantMarks();
        int tos = marks == null ? state.originalTos : (marks.tos() | (state.originalTos & 0x3));
        boolean l2 = marks != null && top.flow.l2Tagging();
        try {
            synchronized (state) {
                if (tos != state.appliedTos) {
                    state.channel.setOption(StandardSocketOptions.IP_TOS, tos);
                    state.appliedTos = tos;
                    state.appliedPriority = -2; // Linux rewrote SO_PRIORITY from the TOS
                }
                int priority = l2 ? marks.userPriority() : state.originalPriority.orElse(-1);
                state.wantedPriority = priority;
                if (priority >= 0 && priority != state.appliedPriority) {
                    if (platform.setPriority(state.channel, priority)) {
                        state.appliedPriority = priority;
                    }
                }
            }
        } catch (IOException e) {
            if (state.channel.isOpen()) {
                LOG.log(System.Logger.Level.WARNING, "could not mark socket: " + e);
            }
        }
    }

    // ---------------------------------------------------------------- state

    /// One socket registered in one flow for one destination.
    static final class Membership {
        final FlowState flow;
        final SocketState socket;
        final InetSocketAddress destination;

        Membership(FlowState flow, SocketState socket, InetSocketAddress destination) {
            this.flow = flow;
            this.socket = socket;
            this.destination = destination;
        }
    }

    /// A JDK socket the engine marks, with the marks it had before it joined any flow.
    final class SocketState {
        final NetworkChannel channel;
        final SocketInfo info;
        final int originalTos;
        final OptionalInt originalPriority;
        final List<Membership> memberships = new ArrayList<>(2);
        /// The TOS byte on the JDK socket now; written under this object's monitor (by the
        /// engine and by send paths switching marks per datagram), read without it.
        volatile int appliedTos;
        volatile int appliedPriority = -2;
        /// The `SO_PRIORITY` the engine wants on the socket (-1: leave as is).
        int wantedPriority = -1;
        /// Whether the datagram channel was connected when last seen by a send path: a hint
        /// (racy by design, any value is safe), see `FlowSender.transmit`.
        boolean datagramConnected;

        SocketState(NetworkChannel channel, SocketInfo info, int originalTos, OptionalInt originalPriority) {
            this.channel = channel;
            this.info = info;
            this.originalTos = originalTos;
            this.originalPriority = originalPriority;
            this.appliedTos = originalTos;
            this.datagramConnected = channel instanceof DatagramChannel dc && dc.isConnected();
        }

        /// Puts other marks on the socket for the datagrams that follow (a send path marking per
        /// datagram): the TOS byte, and `SO_PRIORITY` = `priority` (the 802.1p user priority of a
        /// tagging flow), or the engine's wanted one when `priority` is -1 — Linux rewrites the
        /// priority whenever the TOS changes.
        void switchMarks(int tos, int priority) {
            synchronized (this) {
                if (!channel.isOpen()) {
                    return;
                }
                try {
                    if (appliedTos != tos) {
                        channel.setOption(StandardSocketOptions.IP_TOS, tos);
                        appliedTos = tos;
                        appliedPriority = -2;
                    }
                    int p = priority >= 0 ? priority : wantedPriority;
                    if (p >= 0 && p != appliedPriority && platform.setPriority(channel, p)) {
                        appliedPriority = p;
                    }
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, "could not switch the socket's marks: " + e);
                }
            }
        }
    }

    /// A flow.
    static final class FlowState {
        final int id;
        final EmbeddedSession owner;
        final FlowMode mode;
        final MarkingPolicy policy;
        final List<Membership> members = new ArrayList<>(1);
        TrafficType type;
        int explicitDscp = -1;
        OutgoingRate rate;
        boolean admitted;
        boolean pathVerifiedForL2;
        boolean live = true;
        final FlowSender sender;
        Enforcement enforcement = Enforcement.NONE;
        /// TCP sockets paced by the kernel, with the `SO_MAX_PACING_RATE` to restore.
        final Map<SocketState, Long> pacedSockets = new IdentityHashMap<>();
        KernelClasses.Installed kernelClass;
        NetNamespace kernelClassNs;
        /// What [#kernelClass] is set to: rate, burst and the tuples its filters match.
        long kernelRateBps;
        long kernelBurstBytes;
        List<TcCommands.FiveTuple> kernelTuples;
        /// Serialises the rate and socket changes of this flow, whose admission and `tc` run
        /// without the engine's lock; taken before the engine's lock, never while holding it.
        final ReentrantLock enforcing = new ReentrantLock();
        /// Marks decided elsewhere (a mirror engine's flows): [#mirroredMarks] and
        /// [#mirroredL2] replace the policy's.
        final boolean mirrored;
        Marks mirroredMarks;
        boolean mirroredL2;
        String kernelClassRefusal;

        FlowState(int id, EmbeddedSession owner, FlowMode mode, TrafficType type, MarkingPolicy policy, Pacer pacer,
                  EngineMetrics metrics, boolean mirrored) {
            this.id = id;
            this.mirrored = mirrored;
            this.owner = owner;
            this.mode = mode;
            this.type = type;
            this.policy = policy;
            this.sender = new FlowSender(id, pacer, metrics, mirrored);
        }

        /// The marks conformant traffic of this flow carries, or `null` for none (decisions.md
        /// items 3 and 6, qwave.md §7.3).
        Marks conformantMarks() {
            if (mirrored) {
                return mirroredMarks;
            }
            if (rate != null && (rate.bandwidthBps() == 0 || rate.shaping() == Shaping.SHAPE_ONLY)) {
                return null; // rate 0: the flow no longer affects traffic; ShapeOnly: unmarked
            }
            if (mode == FlowMode.ADAPTIVE) {
                if (rate == null || !admitted) {
                    return null; // adaptive flows mark once a rate is admitted
                }
                return policy.marks(type);
            }
            if (explicitDscp >= 0) {
                return new Marks(explicitDscp, 0);
            }
            Marks m = policy.marks(type);
            return m.dscp() == 0 && type == TrafficType.BEST_EFFORT ? null : m;
        }

        /// 802.1p tags only under qWAVE's conditions: adaptive, on-link, route check passed.
        boolean l2Tagging() {
            if (mirrored) {
                return mirroredL2 && mirroredMarks != null;
            }
            return mode == FlowMode.ADAPTIVE && pathVerifiedForL2;
        }

        PacketPriority packetPriority() {
            Marks m = conformantMarks();
            int l2 = m != null && l2Tagging() ? m.userPriority() : 0;
            Marks nc = policy.nonConformant();
            return new PacketPriority(m == null ? 0 : m.dscp(), nc.dscp(), l2, l2Tagging() ? nc.userPriority() : 0);
        }

        FlowInfo info() {
            List<FlowInfo.Member> list = new ArrayList<>(members.size());
            for (Membership m : members) {
                InetSocketAddress local = null;
                boolean open = m.socket.channel.isOpen();
                if (open) {
                    try {
                        local = (InetSocketAddress) m.socket.channel.getLocalAddress();
                    } catch (IOException ignored) {
                        open = false;
                    }
                }
                list.add(new FlowInfo.Member(m.socket.info.stream() || m.socket.channel instanceof SocketChannel
                        ? "tcp" : "udp", local, m.destination, open));
            }
            return new FlowInfo(id, mode, type, explicitDscp, packetPriority(), rate, list, enforcement);
        }
    }

    static QosException closed() {
        return new QosException(QosError.INVALID_HANDLE, "the QoS handle is closed");
    }
}
