package io.quaver.internal.daemon;

import io.quaver.Enforcement;
import io.quaver.FlowFundamentals;
import io.quaver.FlowInfo;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.PacketPriority;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosMetrics;
import io.quaver.QosOptions;
import io.quaver.QosVersion;
import io.quaver.TrafficType;
import io.quaver.internal.EmbeddedSession;
import io.quaver.internal.Engine;
import io.quaver.internal.SendPath;
import io.quaver.internal.Session;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import static io.quaver.internal.daemon.ControlProtocol.*;

/// A subsystem handle served by a daemon ([QosOptions#daemonSocket()]).
///
/// The daemon decides: it holds the flows in its host-wide registry, chooses their marks by
/// its policy, admits rate contracts, tracks clients and completes notifications. The
/// application's sockets stay here: each flow has a twin in the JVM's mirror engine
/// ([Engine#mirror()]) that puts the marks the daemon decided on the real socket (restoring
/// the socket's own when the flow goes) and runs the send path with the admitted contract.
/// Flow ids are the daemon's (unique on the host).
///
/// When the daemon goes away, the handle's flows are removed here (marks restored), its
/// pending notifications complete with `DEVICE_REINITIALIZATION_NEEDED` (1164) and every later
/// call fails with 1164; a new handle works once a daemon listens again.
public final class DaemonSession implements Session {
    /// A flow of this handle: its twin in the mirror engine, its mode, and when its send count
    /// was last reported to the daemon.
    private record LocalFlow(int localId, FlowMode mode, AtomicLong lastReportNs) {
        LocalFlow(int localId, FlowMode mode) {
            this(localId, mode, new AtomicLong(System.nanoTime() - REPORT_EVERY_NS));
        }
    }

    /// How often, at most, a flow's send count goes to the daemon (while the flow sends).
    static final long REPORT_EVERY_NS = 250_000_000L;

    private final DaemonClient client;
    private final EmbeddedSession local;
    private final QosOptions options;
    private final boolean privileged;
    private final Map<Integer, LocalFlow> flows = new ConcurrentHashMap<>();
    private final Map<NetworkChannel, Integer> tokens = new IdentityHashMap<>();
    private final AtomicInteger lastToken = new AtomicInteger();
    /// Held from a request that changes marks until its marks are on the socket, and while a
    /// change the daemon announced is fetched and applied: the marks applied last are never
    /// older than the daemon's current ones.
    private final ReentrantLock marksLock = new ReentrantLock();
    /// Pending notifications by request id.
    private final Map<Integer, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private volatile QosException lost;

    private DaemonSession(QosOptions requested) {
        int want = requested.privileged() == null ? 0 : requested.privileged() ? 2 : 1;
        this.client = DaemonClient.connect(requested.daemonSocket(), want, this::onNotified, this::onLost);
        DaemonClient.Hello h = client.hello();
        this.privileged = h.privileged();
        this.options = requested.withPrivileged(h.privileged()).withSinkPort(h.sinkPort())
                .withMarkingPolicy(h.marks()).withOffLinkExperiments(h.offLink())
                .withTrackingGracePeriod(h.trackingGrace());
        try {
            this.local = EmbeddedSession.open(Engine.mirror(), QosVersion.V1_0,
                    requested.withDaemon(null).withMarkingPolicy(h.marks()));
        } catch (QosException e) {
            client.close();
            throw e;
        }
    }

    /// Opens a handle on the daemon listening on `options.daemonSocket()`.
    ///
    /// @throws QosException `CONNECTION_REFUSED` (1225) when no daemon listens there
    public static DaemonSession open(QosVersion version, QosOptions options) {
        EmbeddedSession.checkVersion(version);
        if (options == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "options are null");
        }
        return new DaemonSession(options);
    }

    @Override
    public QosOptions options() {
        return options;
    }

    @Override
    public boolean privileged() {
        return privileged;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    private void check() {
        if (closed) {
            throw new QosException(QosError.INVALID_HANDLE, "the QoS handle is closed");
        }
        QosException l = lost;
        if (l != null) {
            throw new QosException(l.error(), l.getMessage());
        }
    }

    private LocalFlow flow(int flowId) {
        check();
        LocalFlow f = flows.get(flowId);
        if (f == null) {
            throw new QosException(QosError.NOT_FOUND, "no flow " + Integer.toUnsignedString(flowId)
                    + " on this handle");
        }
        return f;
    }

    private int token(NetworkChannel socket) {
        synchronized (tokens) {
            return tokens.computeIfAbsent(socket, s -> lastToken.incrementAndGet());
        }
    }

    private static Engine.FlowMarks marksReply(Wire.Reader r) throws Wire.Malformed {
        Engine.FlowMarks m = flowMarks(r);
        r.end();
        return m;
    }

    @Override
    public int addFlow(NetworkChannel socket, InetSocketAddress destination, TrafficType type, FlowMode mode) {
        check();
        if (mode == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "flow mode is null");
        }
        int localId = local.addFlow(socket, destination, type, FlowMode.NON_ADAPTIVE); // validates
        InetSocketAddress resolved = local.describe(localId).members().getFirst().destination();
        marksLock.lock();
        try {
            int id;
            Engine.FlowMarks marks;
            try {
                Wire.Writer w = new Wire.Writer().i32(token(socket)).bool(socket instanceof SocketChannel)
                        .addr(resolved).u8(type.ordinal()).u8(mode.ordinal());
                long[] reply = new long[1];
                marks = client.call(ADD_FLOW, w, r -> {
                    reply[0] = r.i32();
                    return marksReply(r);
                });
                id = (int) reply[0];
            } catch (QosException e) {
                local.remove(localId, null);
                throw e;
            }
            local.mirrorMarks(localId, marks);
            flows.put(id, new LocalFlow(localId, mode));
            return id;
        } finally {
            marksLock.unlock();
        }
    }

    /// Sends a request whose reply carries the flow's marks and puts them on its sockets.
    private void callForMarks(LocalFlow f, int type, Wire.Writer body) {
        marksLock.lock();
        try {
            local.mirrorMarks(f.localId(), client.call(type, body, DaemonSession::marksReply));
        } finally {
            marksLock.unlock();
        }
    }

    /// The daemon changed a flow's marks on its own (a route-check result): fetch and apply
    /// them, on a thread of its own (not the connection's reader).
    private void marksChanged(int flowId) {
        Thread.ofVirtual().name("quaver-daemon-marks").start(() -> {
            marksLock.lock();
            try {
                LocalFlow f = flows.get(flowId);
                if (f != null && !closed && lost == null) {
                    callForMarks(f, GET_MARKS, new Wire.Writer().i32(flowId));
                }
            } catch (QosException e) {
                // the flow, the handle or the daemon went meanwhile: nothing to mark
            } finally {
                marksLock.unlock();
            }
        });
    }

    @Override
    public void addSocket(int flowId, NetworkChannel socket, InetSocketAddress destination) {
        LocalFlow f = flow(flowId);
        if (f.mode() == FlowMode.ADAPTIVE) {
            throw new QosException(QosError.INVALID_PARAMETER, "flow " + Integer.toUnsignedString(flowId)
                    + " is adaptive; only non-adaptive flows may hold several sockets");
        }
        local.addSocket(f.localId(), socket, destination); // validates
        InetSocketAddress resolved = destination != null ? destination : peer(socket);
        Wire.Writer w = new Wire.Writer().i32(flowId).i32(token(socket)).bool(socket instanceof SocketChannel)
                .addr(resolved);
        marksLock.lock();
        try {
            Engine.FlowMarks marks;
            try {
                marks = client.call(ADD_SOCKET, w, DaemonSession::marksReply);
            } catch (QosException e) {
                local.remove(f.localId(), socket);
                throw e;
            }
            local.mirrorMarks(f.localId(), marks);
        } finally {
            marksLock.unlock();
        }
    }

    private static InetSocketAddress peer(NetworkChannel socket) {
        try {
            return (InetSocketAddress) (socket instanceof DatagramChannel d ? d.getRemoteAddress()
                    : ((SocketChannel) socket).getRemoteAddress());
        } catch (IOException e) {
            throw new QosException(QosError.INVALID_PARAMETER, "socket is closed");
        }
    }

    @Override
    public void remove(int flowId, NetworkChannel socket) {
        LocalFlow f = flow(flowId);
        Integer token;
        synchronized (tokens) {
            token = socket == null ? Integer.valueOf(-1) : tokens.get(socket);
        }
        if (token == null) {
            throw new QosException(QosError.NOT_FOUND, "the socket is not in flow " + Integer.toUnsignedString(flowId));
        }
        client.call(REMOVE, new Wire.Writer().i32(flowId).i32(token), r -> {
            r.end();
            return null;
        });
        local.remove(f.localId(), socket);
        if (!local.exists(f.localId())) {
            flows.remove(flowId);
        }
        forgetUnheld();
    }

    private void forgetUnheld() {
        synchronized (tokens) {
            tokens.keySet().removeIf(s -> !Engine.mirror().holds(s));
        }
    }

    @Override
    public boolean exists(int flowId) {
        return !closed && lost == null && flows.containsKey(flowId);
    }

    @Override
    public void setTrafficType(int flowId, TrafficType type) {
        LocalFlow f = flow(flowId);
        if (type == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "traffic type is null");
        }
        callForMarks(f, SET_TYPE, new Wire.Writer().i32(flowId).u8(type.ordinal()));
    }

    @Override
    public void setOutgoingDscp(int flowId, int dscp) {
        LocalFlow f = flow(flowId);
        if (dscp < 0 || dscp > 63) {
            throw new QosException(QosError.INVALID_PARAMETER, "DSCP must be 0..63, was "
                    + Integer.toUnsignedString(dscp));
        }
        callForMarks(f, SET_DSCP, new Wire.Writer().i32(flowId).u8(dscp));
    }

    @Override
    public void setOutgoingRate(int flowId, OutgoingRate rate) {
        LocalFlow f = flow(flowId);
        if (rate == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "rate is null");
        }
        Wire.Writer w = new Wire.Writer().i32(flowId);
        ControlProtocol.rate(w, rate);
        marksLock.lock();
        try {
            Engine.FlowMarks marks = client.call(SET_RATE, w, DaemonSession::marksReply); // admission
            local.setOutgoingRate(f.localId(), rate); // enforcement, here
            local.mirrorMarks(f.localId(), marks);
        } finally {
            marksLock.unlock();
        }
    }

    @Override
    public OutgoingRate outgoingRate(int flowId) {
        LocalFlow f = flow(flowId);
        OutgoingRate rate = local.describe(f.localId()).rate();
        if (rate == null) {
            throw new QosException(QosError.NO_DATA, "no outgoing rate was set on flow "
                    + Integer.toUnsignedString(flowId));
        }
        return rate;
    }

    @Override
    public Enforcement enforcement(int flowId) {
        return local.enforcement(flow(flowId).localId());
    }

    @Override
    public SendPath sendPath(int flowId) {
        LocalFlow f = flow(flowId);
        SendPath p = local.sendPath(f.localId());
        return new SendPath() {
            @Override
            public int send(ByteBuffer payload) {
                try {
                    int n = p.send(payload);
                    report(flowId, f);
                    return n;
                } catch (QosException e) {
                    throw afterLoss(e);
                }
            }

            @Override
            public int send(DatagramChannel socket, ByteBuffer payload, InetSocketAddress destination) {
                try {
                    int n = p.send(socket, payload, destination);
                    report(flowId, f);
                    return n;
                } catch (QosException e) {
                    throw afterLoss(e);
                }
            }

            @Override
            public CompletableFuture<Integer> sendAsync(DatagramChannel socket, ByteBuffer payload,
                                                        InetSocketAddress destination) {
                try {
                    CompletableFuture<Integer> sent = p.sendAsync(socket, payload, destination);
                    report(flowId, f); // what was sent by now (queued datagrams count when they leave)
                    return sent;
                } catch (QosException e) {
                    throw afterLoss(e);
                }
            }

            @Override
            public long nextSendTimeNs() {
                return p.nextSendTimeNs();
            }
        };
    }

    /// Tells the daemon how much the flow has sent (for its dashboard), at most every
    /// [#REPORT_EVERY_NS]; no reply is awaited and a daemon that does not know the request
    /// answers an error nobody reads.
    private void report(int flowId, LocalFlow f) {
        long now = System.nanoTime();
        long last = f.lastReportNs().get();
        if (now - last < REPORT_EVERY_NS || !f.lastReportNs().compareAndSet(last, now)) {
            return;
        }
        long ipBytes;
        try {
            ipBytes = local.ipBytesSent(f.localId());
        } catch (QosException e) {
            return; // the flow or the handle is closing
        }
        client.sendOnly(SENT, new Wire.Writer().i32(flowId).i64(ipBytes));
    }

    /// A send path (kept by [io.quaver.QosFlow]) whose handle lost its daemon reports 1164,
    /// as every other call does, rather than the closed twin's `INVALID_HANDLE`.
    private QosException afterLoss(QosException e) {
        QosException l = lost;
        return l != null && !closed && e.error() == QosError.INVALID_HANDLE
                ? new QosException(l.error(), l.getMessage(), e) : e;
    }

    @Override
    public PacketPriority packetPriority(int flowId) {
        return describe(flowId).applied();
    }

    @Override
    public FlowFundamentals fundamentals(int flowId, boolean fresh) {
        flow(flowId);
        return client.call(FUNDAMENTALS, new Wire.Writer().i32(flowId).bool(fresh), r -> {
            FlowFundamentals x = ControlProtocol.fundamentals(r);
            r.end();
            return x;
        });
    }

    @Override
    public CompletableFuture<Void> notifyCongested(int flowId) {
        return notification(flowId, 0, 0);
    }

    @Override
    public CompletableFuture<Void> notifyUncongested(int flowId) {
        return notification(flowId, 1, 0);
    }

    @Override
    public CompletableFuture<Long> notifyAvailable(int flowId, long targetBps) {
        return notification(flowId, 2, targetBps);
    }

    /// Registers the future before the request goes out: the outcome may arrive before the
    /// request's own reply. Cancelling the future cancels the request at the daemon.
    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> notification(int flowId, int kind, long targetBps) {
        flow(flowId);
        int id = client.newId();
        CompletableFuture<Object> f = new CompletableFuture<>();
        pending.put(id, f);
        try {
            client.call(id, NOTIFY, new Wire.Writer().i32(flowId).u8(kind).i64(targetBps), r -> {
                r.end();
                return null;
            });
        } catch (QosException e) {
            pending.remove(id);
            throw e;
        }
        f.whenComplete((v, e) -> {
            if (f.isCancelled() && pending.remove(id) != null && !closed && lost == null) {
                client.sendOnly(CANCEL, new Wire.Writer().i32(id));
            }
        });
        return (CompletableFuture<T>) f;
    }

    /// A notification's outcome (reader thread): completed on a thread of its own, since the
    /// application's dependent stages may call this handle. A marks change announced by the
    /// daemon is fetched and applied on a thread of its own too ([#marksChanged]).
    private void onNotified(Frame frame) {
        if (frame.type() == MARKS_CHANGED) {
            try {
                Wire.Reader r = frame.reader();
                int flowId = r.i32();
                r.end();
                marksChanged(flowId);
            } catch (Wire.Malformed e) {
                System.getLogger("io.quaver.daemon").log(System.Logger.Level.WARNING,
                        "malformed marks change from the daemon: " + e.getMessage());
            }
            return;
        }
        CompletableFuture<Object> f = pending.remove(frame.requestId());
        if (f == null) {
            return;
        }
        Object value;
        QosException error = null;
        try {
            Wire.Reader r = frame.reader();
            if (r.bool()) {
                boolean hasValue = r.bool();
                long v = r.i64();
                value = hasValue ? Long.valueOf(v) : null;
            } else {
                value = null;
                error = DaemonClient.remoteError(r);
            }
        } catch (Wire.Malformed e) {
            value = null;
            error = new QosException(QosError.IO_DEVICE, "malformed notification from the daemon: " + e.getMessage());
        }
        Object v = value;
        QosException err = error;
        Thread.ofVirtual().name("quaver-notify").start(() -> {
            if (err != null) {
                f.completeExceptionally(err);
            } else {
                f.complete(v);
            }
        });
    }

    /// The daemon went away (reader thread): the flows go here (marks restored), pending
    /// notifications complete with 1164, later calls fail with 1164.
    private void onLost(QosException e) {
        lost = e;
        EmbeddedSession l = local;
        if (l != null) { // null while the constructor still runs: that handle is never used
            l.close();
        }
        flows.clear();
        failPending(e);
    }

    private void failPending(QosException e) {
        List<CompletableFuture<Object>> all = new ArrayList<>(pending.values());
        pending.clear();
        for (CompletableFuture<Object> f : all) {
            f.completeExceptionally(e);
        }
    }

    @Override
    public FlowInfo describe(int flowId) {
        LocalFlow f = flow(flowId);
        FlowInfo remote = client.call(DESCRIBE, new Wire.Writer().i32(flowId), r -> {
            FlowInfo x = flowInfo(r);
            r.end();
            return x;
        });
        FlowInfo here = local.describe(f.localId());
        return new FlowInfo(remote.flowId(), remote.mode(), remote.trafficType(), remote.explicitDscp(),
                remote.applied(), remote.rate(), here.members(), here.enforcement());
    }

    @Override
    public List<FlowInfo> enumerateFlows() {
        check();
        List<FlowInfo> out = new ArrayList<>();
        for (DaemonFlow f : client.flows()) {
            out.add(f.info());
        }
        return out;
    }

    @Override
    public void startTracking(InetSocketAddress client) {
        tracking(START_TRACKING, client);
    }

    @Override
    public void stopTracking(InetSocketAddress client) {
        tracking(STOP_TRACKING, client);
    }

    private void tracking(int type, InetSocketAddress address) {
        check();
        if (address == null || address.getAddress() == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "client address is null or unresolved");
        }
        client.call(type, new Wire.Writer().addr(address), r -> {
            r.end();
            return null;
        });
    }

    @Override
    public QosMetrics metrics() {
        check();
        return client.metrics();
    }

    @Override
    public boolean close() {
        synchronized (this) {
            if (closed) {
                return false;
            }
            closed = true;
        }
        client.close(); // the daemon removes this handle's flows
        local.close();
        flows.clear();
        synchronized (tokens) {
            tokens.clear();
        }
        failPending(new QosException(QosError.OPERATION_ABORTED, "the QoS handle was closed"));
        return true;
    }
}
