package io.quaver.internal.daemon;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosOptions;
import io.quaver.QosVersion;
import io.quaver.TrafficType;
import io.quaver.internal.EmbeddedSession;
import io.quaver.internal.Engine;

import java.io.EOFException;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import jdk.net.UnixDomainPrincipal;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import static io.quaver.internal.daemon.ControlProtocol.*;

/// One client's control connection, served by its own virtual thread: requests are handled
/// in order; notification outcomes are written as they complete, from any thread.
///
/// The client's sockets stay in its process. For each of them the daemon holds a *shadow*: a
/// socket of the same kind and family bound to loopback that never sends, standing for the
/// client's socket in the engine's registry so that the engine (flows, marks by policy,
/// admission, tracking, notifications) works as when embedded. The marks the engine puts on
/// a shadow are returned to the client, which puts them on its real socket.
final class DaemonConnection {
    private static final System.Logger LOG = System.getLogger("io.quaver.daemon");
    /// Shadows (distinct client sockets) one connection may hold.
    static final int MAX_SHADOWS = 4096;

    private final Daemon daemon;
    private final SocketChannel channel;
    private final int number;
    private final Object writeLock = new Object();
    /// Client socket token → shadow; only the connection's thread touches it.
    private final Map<Integer, NetworkChannel> shadows = new HashMap<>();
    /// Pending notifications by the id of the request that started them.
    private final Map<Integer, CompletableFuture<?>> notifications = new ConcurrentHashMap<>();
    private EmbeddedSession session;
    private String owner;

    DaemonConnection(Daemon daemon, SocketChannel channel, int number) {
        this.daemon = daemon;
        this.channel = channel;
        this.number = number;
    }

    int number() {
        return number;
    }

    /// Serves the connection until it closes, then removes the client's flows.
    void serve() {
        try {
            UnixDomainPrincipal peer = peer();
            owner = (peer == null ? "?" : peer.user().getName()) + "#" + number;
            while (true) {
                Frame f;
                try {
                    f = ControlProtocol.read(channel);
                } catch (Wire.Malformed e) {
                    reply(ERROR, 0, error(QosError.INVALID_PARAMETER, "malformed frame: " + e.getMessage()));
                    return; // the stream cannot be resynchronised
                }
                if (session == null && !hello(f, peer)) {
                    return;
                }
                if (session != null && f.type() != HELLO) {
                    handle(f);
                }
            }
        } catch (EOFException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "client " + owner + " disconnected");
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "client " + owner + ": " + e);
        } finally {
            cleanup();
        }
    }

    private UnixDomainPrincipal peer() {
        try {
            return channel.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /// The first frame must be HELLO with our version; anything else ends the connection.
    private boolean hello(Frame f, UnixDomainPrincipal peer) throws IOException {
        if (f.type() != HELLO) {
            reply(ERROR, f.requestId(), error(QosError.INVALID_PARAMETER, "the first message must be HELLO"));
            return false;
        }
        int version;
        int wantPrivilege;
        try {
            Wire.Reader r = f.reader();
            version = r.u16();
            wantPrivilege = r.u8();
            r.str(); // client name, for logs
        } catch (Wire.Malformed e) {
            reply(ERROR, f.requestId(), error(QosError.INVALID_PARAMETER, "malformed HELLO: " + e.getMessage()));
            return false;
        }
        if (version != VERSION) {
            reply(ERROR, f.requestId(), error(QosError.NOT_SUPPORTED, "control protocol version " + version
                    + " is not supported; this daemon speaks version " + VERSION));
            return false;
        }
        DaemonPolicy policy = daemon.policy();
        boolean allowed = peer != null && policy.isPrivileged(peer.user().getName(),
                peer.group() == null ? null : peer.group().getName());
        boolean privileged = allowed && wantPrivilege != 1; // 0: as the policy says, 1: not, 2: if allowed
        QosOptions options = QosOptions.defaults().withPrivileged(privileged).withSinkPort(daemon.sinkPort())
                .withMarkingPolicy(policy.marks()).withOffLinkExperiments(policy.offLinkExperiments())
                .withTrackingGracePeriod(policy.trackingGrace()).withKernelShaping(false)
                .withProbeSecret(daemon.secret());
        session = EmbeddedSession.open(daemon.engine(), QosVersion.V1_0, options);
        Wire.Writer w = new Wire.Writer().u16(VERSION).bool(privileged).u16(daemon.sinkPort())
                .bool(policy.offLinkExperiments()).i64(policy.trackingGrace().toMillis());
        ControlProtocol.policy(w, policy.marks());
        reply(OK, f.requestId(), w);
        return true;
    }

    private void handle(Frame f) throws IOException {
        Wire.Writer out;
        try {
            out = dispatch(f);
        } catch (Wire.Malformed e) {
            out = error(QosError.INVALID_PARAMETER, "malformed request: " + e.getMessage());
            reply(ERROR, f.requestId(), out);
            return;
        } catch (QosException e) {
            reply(ERROR, f.requestId(), error(e.error(), e.getMessage()));
            return;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "request " + f.type() + " of " + owner + " failed", e);
            reply(ERROR, f.requestId(), error(QosError.GEN_FAILURE, "daemon failure: " + e));
            return;
        }
        reply(OK, f.requestId(), out);
    }

    private Wire.Writer dispatch(Frame f) throws Wire.Malformed {
        Wire.Reader r = f.reader();
        Wire.Writer w = new Wire.Writer();
        switch (f.type()) {
            case ADD_FLOW -> {
                int token = r.i32();
                boolean tcp = r.bool();
                InetSocketAddress dest = requireAddr(r);
                TrafficType type = r.enumOf(TrafficType.class);
                FlowMode mode = r.enumOf(FlowMode.class);
                r.end();
                NetworkChannel shadow = shadow(token, tcp, dest);
                int id;
                try {
                    id = session.addFlow(shadow, dest, type, mode);
                } finally {
                    releaseShadows();
                }
                daemon.flowAdded(id, this, owner);
                w.i32(id);
                flowMarks(w, session.marks(id));
            }
            case ADD_SOCKET -> {
                int id = r.i32();
                int token = r.i32();
                boolean tcp = r.bool();
                InetSocketAddress dest = requireAddr(r);
                r.end();
                try {
                    session.addSocket(id, shadow(token, tcp, dest), dest);
                } finally {
                    releaseShadows();
                }
                flowMarks(w, session.marks(id));
            }
            case REMOVE -> {
                int id = r.i32();
                int token = r.i32();
                r.end();
                NetworkChannel socket = null;
                if (token != -1) {
                    socket = shadows.get(token);
                    if (socket == null) {
                        throw new QosException(QosError.NOT_FOUND, "the socket is not in flow "
                                + Integer.toUnsignedString(id));
                    }
                }
                session.remove(id, socket);
                if (!session.exists(id)) {
                    daemon.flowGone(id);
                }
                releaseShadows();
            }
            case SET_TYPE -> {
                int id = r.i32();
                TrafficType type = r.enumOf(TrafficType.class);
                r.end();
                session.setTrafficType(id, type);
                flowMarks(w, session.marks(id));
            }
            case SET_DSCP -> {
                int id = r.i32();
                int dscp = r.u8();
                r.end();
                session.setOutgoingDscp(id, dscp);
                flowMarks(w, session.marks(id));
            }
            case SET_RATE -> {
                int id = r.i32();
                OutgoingRate rate = rate(r);
                r.end();
                session.setOutgoingRate(id, rate);
                flowMarks(w, session.marks(id));
            }
            case FUNDAMENTALS -> {
                int id = r.i32();
                boolean fresh = r.bool();
                r.end();
                fundamentals(w, session.fundamentals(id, fresh));
            }
            case NOTIFY -> notify(f.requestId(), r);
            case CANCEL -> {
                int target = r.i32();
                r.end();
                CompletableFuture<?> pending = notifications.get(target);
                if (pending == null) {
                    throw new QosException(QosError.NOT_FOUND, "no pending notification for this request");
                }
                session.cancelNotification(pending);
            }
            case DESCRIBE -> {
                int id = r.i32();
                r.end();
                flowInfo(w, session.describe(id));
            }
            case ENUMERATE -> {
                r.end();
                session.enumerateFlows(); // the privilege check
                var flows = daemon.flows();
                w.i32(flows.size());
                for (DaemonFlow flow : flows) {
                    flowRow(w, flow);
                }
            }
            case START_TRACKING, STOP_TRACKING -> {
                InetSocketAddress client = requireAddr(r);
                r.end();
                if (f.type() == START_TRACKING) {
                    session.startTracking(client);
                } else {
                    session.stopTracking(client);
                }
            }
            case METRICS -> {
                r.end();
                metrics(w, daemon.metrics());
            }
            case GET_MARKS -> {
                int id = r.i32();
                r.end();
                flowMarks(w, session.marks(id));
            }
            case SENT -> {
                int id = r.i32();
                long ipBytes = r.i64();
                r.end();
                if (!session.exists(id)) {
                    throw new QosException(QosError.NOT_FOUND, "no flow " + Integer.toUnsignedString(id)
                            + " on this connection");
                }
                daemon.sent(id, ipBytes);
            }
            default -> throw new QosException(QosError.NOT_SUPPORTED, "unknown request type " + f.type());
        }
        return w;
    }

    private void notify(int requestId, Wire.Reader r) throws Wire.Malformed {
        int id = r.i32();
        int kind = r.u8();
        long target = r.i64();
        r.end();
        if (notifications.containsKey(requestId)) {
            throw new QosException(QosError.INVALID_PARAMETER, "request id " + requestId + " is already pending");
        }
        CompletableFuture<?> f = switch (kind) {
            case 0 -> session.notifyCongested(id);
            case 1 -> session.notifyUncongested(id);
            case 2 -> session.notifyAvailable(id, target);
            default -> throw new Wire.Malformed("bad notification kind " + kind);
        };
        notifications.put(requestId, f);
        f.whenComplete((value, error) -> {
            notifications.remove(requestId);
            Wire.Writer w = new Wire.Writer();
            if (error == null) {
                w.bool(true).bool(value instanceof Long).i64(value instanceof Long l ? l : 0);
            } else {
                QosException q = error instanceof QosException e ? e
                        : error.getCause() instanceof QosException e ? e
                        : new QosException(QosError.OPERATION_ABORTED, "the request was cancelled");
                w.bool(false).i32(q.error().code()).str(q.getMessage());
            }
            try {
                reply(NOTIFIED, requestId, w);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "client " + owner + " gone before a notification: " + e);
            }
        });
    }

    private static InetSocketAddress requireAddr(Wire.Reader r) throws Wire.Malformed {
        InetSocketAddress a = r.addr();
        if (a == null) {
            throw new Wire.Malformed("address required");
        }
        return a;
    }

    /// The shadow standing for the client's socket `token`: one per client socket, of its kind
    /// and of the destination's family.
    private NetworkChannel shadow(int token, boolean tcp, InetSocketAddress dest) {
        NetworkChannel s = shadows.get(token);
        if (s != null) {
            if ((s instanceof SocketChannel) != tcp) {
                throw new QosException(QosError.INVALID_PARAMETER, "socket token " + token + " changed its kind");
            }
            return s;
        }
        if (shadows.size() >= MAX_SHADOWS) {
            throw new QosException(QosError.NO_SYSTEM_RESOURCES, "too many sockets on one connection ("
                    + MAX_SHADOWS + ")");
        }
        boolean v4 = dest.getAddress() instanceof Inet4Address;
        StandardProtocolFamily family = v4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
        InetAddress loopback = v4 ? InetAddress.ofLiteral("127.0.0.1") : InetAddress.ofLiteral("::1");
        try {
            NetworkChannel ch = tcp ? SocketChannel.open(family) : DatagramChannel.open(family);
            try {
                ch.bind(new InetSocketAddress(loopback, 0));
            } catch (IOException e) {
                ch.close();
                throw e;
            }
            shadows.put(token, ch);
            return ch;
        } catch (IOException e) {
            throw new QosException(QosError.NO_SYSTEM_RESOURCES, "cannot open a socket for the flow: " + e.getMessage());
        }
    }

    /// Closes the shadows no flow holds any more.
    private void releaseShadows() {
        Engine engine = daemon.engine();
        for (Iterator<NetworkChannel> it = shadows.values().iterator(); it.hasNext(); ) {
            NetworkChannel s = it.next();
            if (!engine.holds(s)) {
                closeQuietly(s);
                it.remove();
            }
        }
    }

    private static Wire.Writer error(QosError error, String message) {
        return new Wire.Writer().i32(error.code()).str(message);
    }

    private void reply(int type, int requestId, Wire.Writer body) throws IOException {
        ByteBuffer frame = ControlProtocol.frame(type, requestId, body);
        synchronized (writeLock) {
            ControlProtocol.write(channel, frame);
        }
    }

    /// The engine changed the marks of this connection's flow `flowId` on its own (called with
    /// the engine's lock held): the client is told, from a thread of its own.
    void marksChanged(int flowId) {
        Thread.ofVirtual().name("quaver-daemon-marks-" + number).start(() -> {
            try {
                reply(MARKS_CHANGED, 0, new Wire.Writer().i32(flowId));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "client " + owner + " gone before a marks change: " + e);
            }
        });
    }

    /// Closes the connection; its thread then cleans up ([#serve]).
    void shutdown() {
        closeQuietly(channel);
    }

    /// The connection ended (on its own thread): the client's flows go (their notifications
    /// abort), its tracked clients enter their grace period, the shadows close.
    private void cleanup() {
        closeQuietly(channel);
        if (session != null) {
            daemon.flowsGone(owner);
            session.close();
            session = null;
        }
        for (NetworkChannel shadow : shadows.values()) {
            closeQuietly(shadow);
        }
        shadows.clear();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
