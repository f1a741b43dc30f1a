package io.quaver.internal;

import io.quaver.Enforcement;
import io.quaver.FlowFundamentals;
import io.quaver.FlowInfo;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.PacketPriority;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosOptions;
import io.quaver.QosVersion;
import io.quaver.TrafficType;
import io.quaver.internal.adaptive.Completion;

import java.net.InetSocketAddress;
import java.nio.channels.NetworkChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/// A subsystem handle served by the in-process [Engine].
public final class EmbeddedSession implements Session {
    /// System property overriding privilege detection (decisions.md item 18).
    public static final String PRIVILEGED_PROPERTY = "quaver.privileged";
    /// System property naming the sink port (decisions.md item 22).
    public static final String SINK_PORT_PROPERTY = "quaver.sinkPort";

    private final Engine engine;
    private final QosOptions options;
    private final boolean privileged;
    /// Ids of this handle's live flows; guarded by the engine lock.
    final Set<Integer> flows = new HashSet<>();
    /// Pending operations, completed with OPERATION_ABORTED on close; guarded by the engine lock.
    private final Set<CompletableFuture<?>> pending = new LinkedHashSet<>();
    private volatile boolean closed;

    private EmbeddedSession(Engine engine, QosOptions options, boolean privileged) {
        this.engine = engine;
        this.options = options;
        this.privileged = privileged;
    }

    /// Opens a handle on the embedded engine.
    public static EmbeddedSession open(Engine engine, QosVersion version, QosOptions options) {
        checkVersion(version);
        if (options == null) {
            throw Errors.invalidParameter("options are null");
        }
        boolean privileged = resolvePrivileged(engine, options);
        QosOptions resolved = options.withPrivileged(privileged).withSinkPort(resolveSinkPort(options));
        EmbeddedSession session = new EmbeddedSession(engine, resolved, privileged);
        engine.sessionOpened(session);
        return session;
    }

    /// Only QoS version 1.0 is valid (`INVALID_PARAMETER` otherwise).
    public static void checkVersion(QosVersion version) {
        if (version == null) {
            throw Errors.invalidParameter("version is null");
        }
        if (version.major() != 1 || version.minor() != 0) {
            throw Errors.invalidParameter("unsupported QoS version " + version + "; only 1.0 is valid");
        }
    }

    private static boolean resolvePrivileged(Engine engine, QosOptions options) {
        if (options.privileged() != null) {
            return options.privileged();
        }
        String prop = System.getProperty(PRIVILEGED_PROPERTY);
        if (prop != null) {
            return switch (prop.trim().toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw Errors.invalidParameter("-D" + PRIVILEGED_PROPERTY + " must be true or false, was " + prop);
            };
        }
        return engine.platform().isPrivileged();
    }

    private static int resolveSinkPort(QosOptions options) {
        if (options.sinkPort() != 0) {
            return options.sinkPort();
        }
        String prop = System.getProperty(SINK_PORT_PROPERTY);
        if (prop == null) {
            return QosOptions.DEFAULT_SINK_PORT;
        }
        try {
            int port = Integer.parseInt(prop.trim());
            if (port >= 1 && port <= 65_535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw Errors.invalidParameter("-D" + SINK_PORT_PROPERTY + " must be a port 1..65535, was " + prop);
    }

    public Engine engine() {
        return engine;
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

    void checkOpen() {
        if (closed) {
            throw Engine.closed();
        }
    }

    @Override
    public boolean close() {
        List<CompletableFuture<?>> aborted;
        engine.lock().lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            engine.removeAll(this);
            aborted = new ArrayList<>(pending);
            pending.clear();
        } finally {
            engine.lock().unlock();
        }
        engine.flush(); // the flows' pending notifications complete with 995, outside the lock
        QosException abort = new QosException(QosError.OPERATION_ABORTED, "the QoS handle was closed");
        for (CompletableFuture<?> f : aborted) {
            f.completeExceptionally(abort);
        }
        engine.tracking().sessionClosed(this);
        return true;
    }

    /// Called by the engine (lock held) when one of this handle's flows is destroyed.
    void onFlowDestroyed(Engine.FlowState flow) {
        // pending notifications of the flow are aborted by the notification engine (later issue)
    }

    @Override
    public int addFlow(NetworkChannel socket, InetSocketAddress destination, TrafficType type, FlowMode mode) {
        checkOpen();
        return engine.addFlow(this, socket, destination, type, mode);
    }

    @Override
    public void addSocket(int flowId, NetworkChannel socket, InetSocketAddress destination) {
        checkOpen();
        engine.addSocket(this, flowId, socket, destination);
    }

    @Override
    public void remove(int flowId, NetworkChannel socket) {
        checkOpen();
        engine.remove(this, flowId, socket);
    }

    @Override
    public boolean exists(int flowId) {
        return !closed && engine.exists(this, flowId);
    }

    @Override
    public void setTrafficType(int flowId, TrafficType type) {
        checkOpen();
        engine.setTrafficType(this, flowId, type);
    }

    @Override
    public void setOutgoingDscp(int flowId, int dscp) {
        checkOpen();
        engine.setOutgoingDscp(this, flowId, dscp);
    }

    @Override
    public void setOutgoingRate(int flowId, OutgoingRate rate) {
        checkOpen();
        engine.setOutgoingRate(this, flowId, rate);
    }

    @Override
    public Enforcement enforcement(int flowId) {
        checkOpen();
        return engine.enforcement(this, flowId);
    }

    @Override
    public SendPath sendPath(int flowId) {
        checkOpen();
        return engine.sender(this, flowId);
    }

    @Override
    public OutgoingRate outgoingRate(int flowId) {
        checkOpen();
        requireFlow(flowId);
        OutgoingRate rate = describe(flowId).rate();
        if (rate == null) {
            throw Errors.of(QosError.NO_DATA, "no outgoing rate was set on flow " + Integer.toUnsignedString(flowId));
        }
        return rate;
    }

    @Override
    public PacketPriority packetPriority(int flowId) {
        checkOpen();
        return engine.packetPriority(this, flowId);
    }

    @Override
    public FlowFundamentals fundamentals(int flowId, boolean fresh) {
        checkOpen();
        return engine.tracking().fundamentals(this, flowId, fresh);
    }

    @Override
    public CompletableFuture<Void> notifyCongested(int flowId) {
        checkOpen();
        return engine.notifyState(this, flowId, true);
    }

    @Override
    public CompletableFuture<Void> notifyUncongested(int flowId) {
        checkOpen();
        return engine.notifyState(this, flowId, false);
    }

    @Override
    public CompletableFuture<Long> notifyAvailable(int flowId, long targetBps) {
        checkOpen();
        return engine.notifyAvailable(this, flowId, targetBps);
    }

    @Override
    public FlowInfo describe(int flowId) {
        checkOpen();
        return engine.describe(this, flowId);
    }

    @Override
    public List<FlowInfo> enumerateFlows() {
        checkOpen();
        if (!privileged) {
            throw Errors.of(QosError.ACCESS_DENIED, "enumerating flows needs privilege (root or CAP_NET_ADMIN;"
                    + " or QosOptions.withPrivileged / -Dquaver.privileged=true)");
        }
        return engine.enumerate();
    }

    @Override
    public void startTracking(InetSocketAddress client) {
        checkOpen();
        engine.tracking().start(this, client);
    }

    @Override
    public void stopTracking(InetSocketAddress client) {
        checkOpen();
        engine.tracking().stop(this, client);
    }

    @Override
    public io.quaver.QosMetrics metrics() {
        checkOpen();
        return engine.metrics();
    }

    /// The marks the flow's conformant traffic carries now (the daemon tells its clients).
    public Engine.FlowMarks marks(int flowId) {
        checkOpen();
        return engine.marksOf(this, flowId);
    }

    /// IP-level bytes sent through the flow's send path so far (a daemon's client reports them).
    public long ipBytesSent(int flowId) {
        checkOpen();
        return engine.sender(this, flowId).ipBytesSent();
    }

    /// Applies marks decided elsewhere to a flow of a mirror engine ([Engine#mirror()]).
    public void mirrorMarks(int flowId, Engine.FlowMarks marks) {
        checkOpen();
        engine.mirrorMarks(this, flowId, marks);
    }

    /// Cancels a pending notification request (995), as `future.cancel` does later.
    public void cancelNotification(CompletableFuture<?> future) {
        checkOpen();
        Completion.performAll(engine.adaptive().cancel(future));
    }

    private void requireFlow(int flowId) {
        if (!engine.exists(this, flowId)) {
            throw Errors.notFound("no flow " + Integer.toUnsignedString(flowId) + " on this handle");
        }
    }
}
