package io.quaver.internal;

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
import io.quaver.internal.platform.Platform;
import io.quaver.internal.platform.SocketInfo;

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
import java.util.OptionalInt;
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

    private final ReentrantLock lock = new ReentrantLock();
    private final Platform platform;
    private final Tracking tracking;
    private final Map<Integer, FlowState> flows = new HashMap<>();
    private final IdentityHashMap<NetworkChannel, SocketState> sockets = new IdentityHashMap<>();
    private int lastFlowId;

    Engine(Platform platform) {
        this.platform = platform;
        this.tracking = new Tracking(this);
    }

    /// The JVM-wide embedded engine.
    public static Engine embedded() {
        return EMBEDDED;
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

    ReentrantLock lock() {
        return lock;
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
            FlowState flow = new FlowState(nextFlowId(), owner, mode, type, owner.options().markingPolicy());
            flows.put(flow.id, flow);
            owner.flows.add(flow.id);
            join(flow, state, dest);
            if (mode == FlowMode.ADAPTIVE && tracking.flowAdded(flow.id, owner, dest)) {
                flow.pathVerifiedForL2 = true; // the client's path already passed the route check
                reapply(flow);
            }
            return flow.id;
        } finally {
            lock.unlock();
        }
    }

    void addSocket(EmbeddedSession owner, int flowId, NetworkChannel socket, InetSocketAddress destination) {
        checkSocketKind(socket);
        lock.lock();
        try {
            owner.checkOpen();
            FlowState flow = flow(owner, flowId);
            if (flow.mode == FlowMode.ADAPTIVE) {
                throw Errors.invalidParameter("flow " + Integer.toUnsignedString(flowId)
                        + " is adaptive; only non-adaptive flows may hold several sockets");
            }
            InetSocketAddress dest = resolveDestination(socket, destination);
            for (Membership m : flow.members) {
                if (m.socket.channel == socket && Addresses.sameEndpoint(m.destination, dest)) {
                    return; // already there: adding again is a no-op
                }
            }
            if (flow.members.size() >= owner.options().limits().maxSocketsPerFlow()) {
                throw Errors.of(QosError.NO_SYSTEM_RESOURCES, "socket limit of flow " + Integer.toUnsignedString(flowId)
                        + " reached (" + owner.options().limits().maxSocketsPerFlow() + ")");
            }
            SocketState state = socketState(socket);
            checkFamily(state.info, dest);
            join(flow, state, dest);
        } finally {
            lock.unlock();
        }
    }

    void remove(EmbeddedSession owner, int flowId, NetworkChannel socket) {
        lock.lock();
        try {
            owner.checkOpen();
            FlowState flow = flow(owner, flowId);
            if (socket == null) {
                destroy(flow);
                return;
            }
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
            }
        } finally {
            lock.unlock();
        }
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
            lock.unlock();
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
        SocketInfo info = platform.describe(socket);
        // Reading SO_PRIORITY needs the platform; restoring it matters because Linux rewrites
        // the priority whenever IP_TOS changes.
        OptionalInt priority = platform.priority(socket);
        return new SocketState(socket, info, tos, priority);
    }

    private void join(FlowState flow, SocketState state, InetSocketAddress dest) {
        Membership m = new Membership(flow, state, dest);
        flow.members.add(m);
        if (state.memberships.isEmpty()) {
            sockets.put(state.channel, state);
        }
        state.memberships.add(m);
        apply(state);
    }

    private void leave(Membership m) {
        m.flow.members.remove(m);
        SocketState state = m.socket;
        state.memberships.remove(m);
        apply(state);
        if (state.memberships.isEmpty()) {
            sockets.remove(state.channel);
        }
    }

    private void destroy(FlowState flow) {
        flow.live = false;
        if (flow.mode == FlowMode.ADAPTIVE) {
            tracking.flowRemoved(flow.id);
        }
        for (Membership m : List.copyOf(flow.members)) {
            leave(m);
        }
        flows.remove(flow.id);
        flow.owner.flows.remove(flow.id);
        flow.owner.onFlowDestroyed(flow);
    }

    private void reapply(FlowState flow) {
        for (Membership m : flow.members) {
            apply(m.socket);
        }
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
            if (tos != state.appliedTos) {
                state.channel.setOption(StandardSocketOptions.IP_TOS, tos);
                state.appliedTos = tos;
                state.appliedPriority = -2; // Linux rewrote SO_PRIORITY from the TOS
            }
            int priority = l2 ? marks.userPriority() : state.originalPriority.orElse(-1);
            if (priority >= 0 && priority != state.appliedPriority) {
                if (platform.setPriority(state.channel, priority)) {
                    state.appliedPriority = priority;
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
    static final class SocketState {
        final NetworkChannel channel;
        final SocketInfo info;
        final int originalTos;
        final OptionalInt originalPriority;
        final List<Membership> memberships = new ArrayList<>(2);
        int appliedTos;
        int appliedPriority = -2;

        SocketState(NetworkChannel channel, SocketInfo info, int originalTos, OptionalInt originalPriority) {
            this.channel = channel;
            this.info = info;
            this.originalTos = originalTos;
            this.originalPriority = originalPriority;
            this.appliedTos = originalTos;
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

        FlowState(int id, EmbeddedSession owner, FlowMode mode, TrafficType type, MarkingPolicy policy) {
            this.id = id;
            this.owner = owner;
            this.mode = mode;
            this.type = type;
            this.policy = policy;
        }

        /// The marks conformant traffic of this flow carries, or `null` for none (decisions.md
        /// items 3 and 6, qwave.md §7.3).
        Marks conformantMarks() {
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
            return new FlowInfo(id, mode, type, explicitDscp, packetPriority(), rate, list);
        }
    }

    static QosException closed() {
        return new QosException(QosError.INVALID_HANDLE, "the QoS handle is closed");
    }
}
