package io.quaver.internal;

import io.quaver.FlowFundamentals;
import io.quaver.FlowMode;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.internal.platform.TcpInfo;
import io.quaver.internal.probe.ClientProber;
import io.quaver.internal.probe.OnLink;
import io.quaver.internal.probe.PathEstimates;
import io.quaver.internal.probe.PathStack;
import io.quaver.internal.probe.ProbeScheduler;
import io.quaver.internal.probe.ProbeSockets;
import io.quaver.internal.probe.ProberConfig;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/// The tracking registry of one engine: per client, the path state ([ClientProber] and its
/// [PathModel]) shared by client tracking and by the adaptive flows towards that client.
///
/// ## Identity
/// A client is (family, address) with the port ignored and an IPv4-mapped address taken as
/// IPv4 (decisions.md item 16), *per sink port*: handles configured with different sink ports
/// (decisions.md item 22) reach different sinks and so track separately.
///
/// ## Semantics (decisions.md items 11, 16, 23, 24)
/// * start: off-link while the policy forbids off-link experiments → 50; at the tracked-client
///   limit → 1450; idempotent per handle; succeeds once a sink answered the handshake, else
///   1232 (the handshake attempts are made within the call);
/// * a probe socket that cannot be opened → 1117 (start; fundamentals of a UDP flow);
/// * stop: by any handle; a client that is not tracked → 1168; flows are never touched (the
///   prober lives on while adaptive flows to the client exist);
/// * a closed handle's clients stay tracked for its grace period, unless another handle
///   started them too (then until that one closes or stops them);
/// * an adaptive flow starts its client's prober (fast first measurement) and keeps probegap
///   at 1 ms while it lives.
///
/// Locking: the registry's lock is never held while calling the engine (the engine calls in
/// here with its own lock held) nor while closing a prober (which joins threads).
public final class Tracking {
    private static final System.Logger LOG = System.getLogger("io.quaver.tracking");
    /// How long a `fresh` query may wait for a new measurement before failing with 1237.
    public static final Duration FRESH_TIMEOUT = Duration.ofSeconds(3);
    /// How long `startTrackingClient` waits for the handshake attempts.
    static final Duration START_TIMEOUT = Duration.ofSeconds(2);

    /// The registry key: client identity and sink port.
    record Key(InetAddress client, int sinkPort) {
        @Override
        public String toString() {
            return client.getHostAddress() + "#" + sinkPort;
        }
    }

    private static final class Entry {
        final Key key;
        final boolean onLink;
        final boolean offLinkAllowed;
        /// The probe secret of the handle that created the entry (`null` = plain [MS-QLPB]).
        final io.quaver.SharedSecret secret;
        ClientProber prober;
        /// Why the prober could not be started (its socket could not be opened), if so.
        String ioFailure;
        /// The local network fault behind `ioFailure` (57, 59), if it was one.
        QosError ioFault;
        boolean tracked;
        final Set<EmbeddedSession> trackers = new LinkedHashSet<>();
        final Set<Integer> flows = new HashSet<>();
        long graceGeneration;

        Entry(Key key, boolean onLink, boolean offLinkAllowed, io.quaver.SharedSecret secret) {
            this.key = key;
            this.onLink = onLink;
            this.offLinkAllowed = offLinkAllowed;
            this.secret = secret;
        }

        boolean unused() {
            return !tracked && flows.isEmpty();
        }
    }

    private final Engine engine;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Key, Entry> entries = new HashMap<>();
    private final Map<Integer, Key> flowKeys = new HashMap<>();
    private volatile Supplier<PathStack> stacks = PathStack::estimators;
    private volatile ProbeSockets sockets = ProbeSockets.system();
    private volatile java.util.function.UnaryOperator<ProberConfig> proberConfigs = c -> c;
    private int trackedCount;

    Tracking(Engine engine) {
        this.engine = engine;
    }

    /// Replaces the factory of the probers' model and scheduler (`null` = the estimation
    /// package's estimator and planner).
    public void setStackFactory(Supplier<PathStack> factory) {
        this.stacks = factory == null ? PathStack::estimators : factory;
    }

    /// Replaces the socket factory of probers started from now on (for tests: sockets in a
    /// network namespace, or failing ones); `null` = the JVM's own namespace.
    public void setSocketFactory(ProbeSockets factory) {
        this.sockets = factory == null ? ProbeSockets.system() : factory;
    }

    /// Test seam: adjusts the configuration of probers started from now on (e.g. a probe target
    /// behind a link emulator); `null` restores the identity.
    public void setProberConfigHook(java.util.function.UnaryOperator<ProberConfig> hook) {
        this.proberConfigs = hook == null ? c -> c : hook;
    }

    /// Clients tracked now (for tests and metrics).
    public int trackedCount() {
        lock.lock();
        try {
            return trackedCount;
        } finally {
            lock.unlock();
        }
    }

    /// Clients with path state (tracked, or with adaptive flows).
    public int entryCount() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }

    /// Clients whose prober runs now (for leak checks and metrics).
    public int proberCount() {
        lock.lock();
        try {
            int n = 0;
            for (Entry e : entries.values()) {
                if (e.prober != null) {
                    n++;
                }
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /// The newest estimates of the prober behind a flow's path, without measuring; `null` when
    /// the flow has no path or no prober runs for it.
    PathEstimates latestEstimates(int flowId) {
        ClientProber prober;
        lock.lock();
        try {
            Key key = flowKeys.get(flowId);
            Entry e = key == null ? null : entries.get(key);
            prober = e == null ? null : e.prober;
        } finally {
            lock.unlock();
        }
        return prober == null ? null : prober.estimates();
    }

    /// The prober of a client, if one runs (for tests and the CLI).
    public Optional<ClientProber> prober(InetAddress client, int sinkPort) {
        lock.lock();
        try {
            Entry e = entries.get(new Key(normalise(client), sinkPort));
            return Optional.ofNullable(e == null ? null : e.prober);
        } finally {
            lock.unlock();
        }
    }

    private static InetAddress normalise(InetAddress address) {
        return Addresses.clientIdentity(new InetSocketAddress(address, 0));
    }

    // ------------------------------------------------------------------ tracking

    void start(EmbeddedSession session, InetSocketAddress client) {
        InetAddress id = Addresses.clientIdentity(client);
        Key key = new Key(id, session.options().sinkPort());
        boolean offLinkAllowed = session.options().offLinkExperiments();
        ClientProber prober;
        lock.lock();
        try {
            session.checkOpen();
            Entry e = entries.get(key);
            if (e != null && e.tracked && e.prober != null && e.prober.status() != ClientProber.Status.UNREACHABLE) {
                e.trackers.add(session); // idempotent per handle; another handle joins
                e.graceGeneration++;
                return;
            }
            if ((e == null || !e.tracked) && trackedCount >= session.options().limits().maxTrackedClients()) {
                throw Errors.of(QosError.NO_SYSTEM_RESOURCES, "tracked-client limit reached ("
                        + session.options().limits().maxTrackedClients() + ")");
            }
            if (e == null) {
                boolean onLink = OnLink.isOnLink(id);
                if (!onLink && !offLinkAllowed) {
                    throw Errors.notSupported("client " + id.getHostAddress() + " is not on-link: estimation"
                            + " towards off-link clients is not supported (QosOptions.withOffLinkExperiments allows it)");
                }
                e = new Entry(key, onLink, offLinkAllowed, session.options().probeSecret());
                entries.put(key, e);
            } else if (!e.onLink && !offLinkAllowed) {
                throw Errors.notSupported("client " + id.getHostAddress() + " is not on-link");
            }
            ensureProber(e);
            prober = e.prober;
            if (prober == null) {
                String why = e.ioFailure;
                if (e.unused()) {
                    entries.remove(key);
                }
                QosError fault = e.ioFault;
                throw fault != null ? Errors.of(fault, faultMessage(fault, id))
                        : Errors.of(QosError.IO_DEVICE, "cannot open a probe socket towards " + id.getHostAddress()
                        + ": " + why);
            }
        } finally {
            lock.unlock();
        }
        ClientProber.Status status;
        try {
            status = prober.recheck(START_TIMEOUT);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            status = ClientProber.Status.UNREACHABLE;
        }
        if (prober.currentFault() != null) {
            status = ClientProber.Status.UNREACHABLE; // a local fault since the last handshake
        }
        List<ClientProber> toClose = new ArrayList<>();
        lock.lock();
        try {
            Entry e = entries.get(key);
            if (status == ClientProber.Status.REACHABLE && e != null && !session.isClosed()) {
                if (!e.tracked) {
                    e.tracked = true;
                    trackedCount++;
                }
                e.trackers.add(session);
                e.graceGeneration++;
                return;
            }
            if (e != null && e.unused()) {
                remove(e, toClose);
            }
        } finally {
            lock.unlock();
            closeAll(toClose, false);
        }
        if (session.isClosed()) {
            throw Engine.closed();
        }
        QosError fault = prober.fault();
        if (fault != null) {
            throw Errors.of(fault, faultMessage(fault, id));
        }
        throw Errors.of(QosError.HOST_UNREACHABLE, "no sink answered at " + id.getHostAddress() + " port "
                + key.sinkPort() + " (is `quaver sink` running there, and the port open?)");
    }

    void stop(EmbeddedSession session, InetSocketAddress client) {
        InetAddress id = Addresses.clientIdentity(client);
        Key key = new Key(id, session.options().sinkPort());
        List<ClientProber> toClose = new ArrayList<>();
        lock.lock();
        try {
            session.checkOpen();
            Entry e = entries.get(key);
            if (e == null || !e.tracked) {
                throw Errors.notFound("client " + id.getHostAddress() + " is not tracked");
            }
            untrack(e, toClose);
        } finally {
            lock.unlock();
        }
        closeAll(toClose, false);
    }

    /// Lock held.
    private void untrack(Entry e, List<ClientProber> toClose) {
        e.tracked = false;
        e.trackers.clear();
        e.graceGeneration++;
        trackedCount--;
        if (e.flows.isEmpty()) {
            remove(e, toClose);
        }
    }

    /// Lock held.
    private void remove(Entry e, List<ClientProber> toClose) {
        entries.remove(e.key);
        if (e.prober != null) {
            toClose.add(e.prober);
            e.prober = null;
        }
    }

    /// The engine stops serving (a daemon shutting down): every tracked client is untracked at
    /// once, grace periods included; call after every handle closed.
    public void untrackAll() {
        List<ClientProber> toClose = new ArrayList<>();
        lock.lock();
        try {
            for (Entry e : List.copyOf(entries.values())) {
                if (e.tracked) {
                    untrack(e, toClose);
                }
            }
        } finally {
            lock.unlock();
        }
        closeAll(toClose, false);
    }

    /// A handle closed: its clients start their grace period (unless another handle holds
    /// them).
    void sessionClosed(EmbeddedSession session) {
        Duration grace = session.options().trackingGracePeriod();
        List<ClientProber> toClose = new ArrayList<>();
        lock.lock();
        try {
            for (Entry e : List.copyOf(entries.values())) {
                if (e.tracked && e.trackers.remove(session) && e.trackers.isEmpty()) {
                    long generation = ++e.graceGeneration;
                    if (grace.isZero()) {
                        untrack(e, toClose);
                    } else {
                        CompletableFuture.runAsync(() -> expire(e.key, generation),
                                CompletableFuture.delayedExecutor(grace.toNanos(), TimeUnit.NANOSECONDS,
                                        r -> Thread.ofVirtual().name("quaver-tracking-grace").start(r)));
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        closeAll(toClose, false);
    }

    private void expire(Key key, long generation) {
        List<ClientProber> toClose = new ArrayList<>();
        lock.lock();
        try {
            Entry e = entries.get(key);
            if (e != null && e.tracked && e.trackers.isEmpty() && e.graceGeneration == generation) {
                untrack(e, toClose);
            }
        } finally {
            lock.unlock();
        }
        closeAll(toClose, false);
    }

    // ------------------------------------------------------------------ flows

    /// An adaptive flow was created (engine lock held): its client's prober starts, or goes
    /// to continuous sampling. Never throws: a flow exists whatever the path state.
    ///
    /// @return whether the path already passed the route check (802.1p allowed)
    boolean flowAdded(int flowId, EmbeddedSession owner, InetSocketAddress destination) {
        try {
            InetAddress id = normalise(destination.getAddress());
            Key key = new Key(id, owner.options().sinkPort());
            lock.lock();
            try {
                Entry e = entries.get(key);
                if (e == null) {
                    boolean onLink = OnLink.isOnLink(id);
                    boolean allowed = owner.options().offLinkExperiments();
                    if (!onLink && !allowed) {
                        return false; // experiments forbidden: fundamentals report 1260
                    }
                    e = new Entry(key, onLink, allowed, owner.options().probeSecret());
                    entries.put(key, e);
                }
                e.flows.add(flowId);
                flowKeys.put(flowId, key);
                ensureProber(e);
                if (e.prober != null) {
                    e.prober.setActive(true);
                    return e.onLink && Boolean.TRUE.equals(e.prober.prioritySupported());
                }
                return false;
            } finally {
                lock.unlock();
            }
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "could not start probing for flow " + flowId, ex);
            return false;
        }
    }

    /// An adaptive flow was removed (engine lock held). Probers that are no longer needed are
    /// closed on another thread (closing joins threads, which must not happen under the
    /// engine's lock).
    void flowRemoved(int flowId) {
        List<ClientProber> toClose = new ArrayList<>();
        lock.lock();
        try {
            Key key = flowKeys.remove(flowId);
            Entry e = key == null ? null : entries.get(key);
            if (e == null) {
                return;
            }
            e.flows.remove(flowId);
            if (e.flows.isEmpty()) {
                if (e.prober != null) {
                    e.prober.setActive(false);
                }
                if (!e.tracked) {
                    remove(e, toClose);
                }
            }
        } finally {
            lock.unlock();
        }
        closeAll(toClose, true);
    }

    /// Lock held.
    private void ensureProber(Entry e) {
        if (e.prober != null && !e.prober.isClosed()) {
            return;
        }
        InetSocketAddress sink = new InetSocketAddress(e.key.client(), e.key.sinkPort());
        ProberConfig config = proberConfigs.apply(ProberConfig.of(sink, e.onLink, engine.platform()).withSockets(sockets)
                .withCounters(engine.metricsCounters().probes).withSecret(e.secret));
        try {
            PathStack stack = stacks.get();
            ProbeScheduler scheduler = stack.scheduler();
            ClientProber p = ClientProber.start(config, engine.adaptive().monitored(e.key, stack.model(),
                            scheduler == null ? now -> { } : scheduler::requestStream),
                    scheduler, e.key.client().getHostAddress());
            Key key = e.key;
            p.onRouteCheck(supported -> engine.setPathVerified(key.client(), key.sinkPort(), supported));
            p.onFault(error -> engine.adaptive().pathFault(key, error, faultMessage(error, key.client())));
            e.prober = p;
            e.ioFailure = null;
        } catch (IOException ex) {
            LOG.log(System.Logger.Level.WARNING, "cannot open a probe socket towards " + e.key + ": " + ex);
            e.prober = null;
            e.ioFailure = ex.toString();
            e.ioFault = localFault(ex, e);
        }
    }

    private static void closeAll(List<ClientProber> probers, boolean async) {
        for (ClientProber p : probers) {
            if (async) {
                Thread.ofVirtual().name("quaver-prober-close").start(p::close);
            } else {
                p.close();
            }
        }
    }

    // ------------------------------------------------------------------ fundamentals

    /// The fundamentals of an adaptive flow (decisions.md items 10, 11).
    FlowFundamentals fundamentals(EmbeddedSession session, int flowId, boolean fresh) {
        Engine.FlowTarget target = engine.target(session, flowId);
        if (target.mode() != FlowMode.ADAPTIVE) {
            throw Errors.notSupported("flow fundamentals need an adaptive flow; flow "
                    + Integer.toUnsignedString(flowId) + " is non-adaptive");
        }
        boolean tcp = target.channel() instanceof SocketChannel;
        ClientProber prober;
        boolean forbidden;
        String ioFailure;
        lock.lock();
        try {
            Key key = flowKeys.get(flowId);
            Entry e = key == null ? null : entries.get(key);
            prober = e == null ? null : e.prober;
            ioFailure = e == null ? null : e.ioFailure;
            forbidden = key == null;
        } finally {
            lock.unlock();
        }
        if (forbidden) {
            if (tcp) {
                return tcpFundamentals(target.channel());
            }
            throw Errors.of(QosError.ACCESS_DISABLED_BY_POLICY, "experiments towards the off-link destination "
                    + target.destination().getAddress().getHostAddress() + " are forbidden by policy"
                    + " (QosOptions.withOffLinkExperiments allows them)");
        }
        if (prober == null && ioFailure != null && !tcp) {
            throw Errors.of(QosError.IO_DEVICE, "probing " + target.destination().getAddress().getHostAddress()
                    + " failed: " + ioFailure);
        }
        if (prober == null || prober.status() == ClientProber.Status.UNREACHABLE) {
            if (tcp) {
                return tcpFundamentals(target.channel());
            }
            throw unreachable(target.destination(), prober);
        }
        PathEstimates e;
        if (fresh) {
            try {
                e = prober.fresh(FRESH_TIMEOUT);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw Errors.of(QosError.OPERATION_ABORTED, "interrupted while measuring");
            }
            if (e == null) {
                if (prober.fault() != null && !tcp) {
                    throw unreachable(target.destination(), prober);
                }
                if (prober.status() == ClientProber.Status.UNREACHABLE) {
                    if (tcp) {
                        return tcpFundamentals(target.channel());
                    }
                    throw unreachable(target.destination(), prober);
                }
                throw Errors.of(QosError.RETRY, "no fresh measurement could be obtained within "
                        + FRESH_TIMEOUT.toMillis() + " ms");
            }
        } else {
            e = prober.estimates();
            if (!e.any()) {
                throw Errors.of(QosError.NO_DATA, "no estimate yet for " + target.destination().getAddress()
                        .getHostAddress() + "; try again shortly");
            }
        }
        return new FlowFundamentals(e.bottleneckBps(), e.availableBps(), e.rttUs(), FlowFundamentals.Source.PROBING,
                e.burstAllowanceBytes(), e.burstAtLeastBytes());
    }

    private static QosException unreachable(InetSocketAddress destination, ClientProber prober) {
        QosError fault = prober == null ? null : prober.fault();
        if (fault != null) {
            return Errors.of(fault, faultMessage(fault, destination.getAddress()));
        }
        return Errors.of(QosError.HOST_UNREACHABLE, "no sink answers at " + destination.getAddress().getHostAddress());
    }

    /// The message of a path fault (docs/errors.md).
    static String faultMessage(QosError fault, InetAddress client) {
        return switch (fault) {
            case ADAP_HDW_ERR -> "the network interface towards " + client.getHostAddress() + " is down";
            case UNEXP_NET_ERR -> "no local address on the network of " + client.getHostAddress()
                    + " any more (address removed?)";
            case HOST_UNREACHABLE -> "the sink at " + client.getHostAddress() + " stopped answering";
            default -> fault + " towards " + client.getHostAddress();
        };
    }

    /// The local network fault behind a socket error, or `null`.
    private QosError localFault(IOException ex, Entry e) {
        if (!io.quaver.internal.probe.LocalLink.isLocalNetworkError(ex)) {
            return null;
        }
        try {
            return sockets.localLink(e.key.client(), e.onLink).error();
        } catch (IOException | RuntimeException x) {
            return QosError.UNEXP_NET_ERR;
        }
    }

    /// Fundamentals from the kernel's `TCP_INFO` (beyond qWAVE): bottleneck = the delivery
    /// rate, available = the delivery rate when it was not application-limited (an
    /// application-limited sample only shows what the sender offered), RTT = smoothed RTT.
    private FlowFundamentals tcpFundamentals(NetworkChannel channel) {
        Optional<TcpInfo> info = channel instanceof SocketChannel sc ? engine.platform().tcpInfo(sc) : Optional.empty();
        if (info.isEmpty()) {
            throw Errors.of(QosError.NO_DATA, "no TCP_INFO for the flow's socket yet (not connected?)");
        }
        TcpInfo t = info.get();
        OptionalLong delivery = t.deliveryRateBps() > 0 ? OptionalLong.of(t.deliveryRateBps()) : OptionalLong.empty();
        OptionalLong available = delivery.isPresent() && !t.appLimited() ? delivery : OptionalLong.empty();
        OptionalLong rtt = t.rttUs() > 0 ? OptionalLong.of(t.rttUs()) : OptionalLong.empty();
        if (delivery.isEmpty() && rtt.isEmpty()) {
            throw Errors.of(QosError.NO_DATA, "TCP_INFO has no sample yet");
        }
        return new FlowFundamentals(delivery, available, rtt, FlowFundamentals.Source.TCP_INFO);
    }
}
