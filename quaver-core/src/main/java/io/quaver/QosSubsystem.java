package io.quaver;

import io.quaver.internal.EmbeddedSession;
import io.quaver.internal.Engine;
import io.quaver.internal.Session;
import io.quaver.internal.daemon.DaemonSession;

import java.net.InetSocketAddress;
import java.nio.channels.NetworkChannel;
import java.util.List;
import java.util.Objects;

/// A handle to the QoS subsystem (`QOSCreateHandle`): the entry point of Quaver.
///
/// ```java
/// try (QosSubsystem qos = QosSubsystem.open();
///      DatagramChannel socket = DatagramChannel.open()) {
///     socket.connect(new InetSocketAddress("192.0.2.10", 5004));
///     QosFlow flow = qos.addFlow(socket, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
///     // every datagram now leaves with DSCP 40 (CS5)
/// }
/// ```
///
/// A JVM may open several handles, and a handle may be used from any thread. Closing it
/// (idempotent) removes its flows, restoring their sockets' previous marks, and completes
/// every pending operation with [QosError#OPERATION_ABORTED]. Every call on a closed handle
/// fails with [QosError#INVALID_HANDLE].
public final class QosSubsystem implements AutoCloseable {
    private final Session session;

    private QosSubsystem(Session session) {
        this.session = session;
    }

    /// Opens a handle, version 1.0, default options.
    public static QosSubsystem open() {
        return open(QosVersion.V1_0, QosOptions.defaults());
    }

    /// Opens a handle, version 1.0.
    public static QosSubsystem open(QosOptions options) {
        return open(QosVersion.V1_0, options);
    }

    /// Opens a handle for the given QoS version; only 1.0 is valid
    /// ([QosError#INVALID_PARAMETER] otherwise).
    /// With [QosOptions#daemonSocket()] set, the handle is served by that daemon
    /// ([QosError#CONNECTION_REFUSED] when none listens there).
    public static QosSubsystem open(QosVersion version, QosOptions options) {
        if (options != null && options.daemonSocket() != null) {
            return new QosSubsystem(DaemonSession.open(version, options));
        }
        return new QosSubsystem(EmbeddedSession.open(Engine.embedded(), version, options));
    }

    /// The options in effect, with privilege and sink port resolved.
    public QosOptions options() {
        return session.options();
    }

    /// Whether this handle may set explicit DSCP values and enumerate flows.
    public boolean isPrivileged() {
        return session.privileged();
    }

    /// Whether [#close()] has been called.
    public boolean isClosed() {
        return session.isClosed();
    }

    /// Creates a flow for a socket (`QOSAddSocketToFlow` with a new flow id).
    ///
    /// @param socket      a [java.nio.channels.DatagramChannel] or
    ///                    [java.nio.channels.SocketChannel], connected or not; a TCP socket may
    ///                    be added before its connection completes when `destination` is given
    /// @param destination where the socket sends (address and port); required for an
    ///                    unconnected socket, and equal to the peer when the socket is connected
    /// @param type        the flow's traffic type
    /// @param mode        adaptive (estimates, notifications, admission) or non-adaptive
    /// @throws QosException [QosError#INVALID_PARAMETER] for a bad argument,
    ///         [QosError#NO_SYSTEM_RESOURCES] at the flow limit,
    ///         [QosError#INVALID_HANDLE] when closed
    public QosFlow addFlow(NetworkChannel socket, InetSocketAddress destination, TrafficType type, FlowMode mode) {
        int id = session.addFlow(socket, destination, type, mode);
        return new QosFlow(this, session, id);
    }

    /// The flow with the given id, if it is one of this handle's live flows.
    ///
    /// @throws QosException [QosError#NOT_FOUND] otherwise
    public QosFlow flow(int flowId) {
        if (session.isClosed()) {
            throw new QosException(QosError.INVALID_HANDLE, "the QoS handle is closed");
        }
        if (!session.exists(flowId)) {
            throw new QosException(QosError.NOT_FOUND, "no flow " + Integer.toUnsignedString(flowId) + " on this handle");
        }
        return new QosFlow(this, session, flowId);
    }

    /// Every live flow of the subsystem (the whole JVM when embedded). Privileged.
    ///
    /// @throws QosException [QosError#ACCESS_DENIED] when not privileged
    public List<FlowInfo> enumerateFlows() {
        return session.enumerateFlows();
    }

    /// Starts tracking a client device (`QOSStartTrackingClient`): Quaver probes the path to
    /// the [QosSink] running there (on [QosOptions#sinkPort()]) so that estimates exist before
    /// any flow does, and flows to the client share them.
    ///
    /// The client's identity is its address (the port is ignored; an IPv4-mapped IPv6 address
    /// is the IPv4 client). Starting again on the same handle does nothing. The call returns
    /// once the sink answered a handshake (within about half a second); a fast first
    /// measurement follows, then low-rate upkeep (≤ 1 % of the path's capacity). Tracking
    /// lasts until any handle stops it, or for [QosOptions#trackingGracePeriod()] after the
    /// last handle that started it is closed.
    ///
    /// @throws QosException [QosError#HOST_UNREACHABLE] when no sink answers,
    ///         [QosError#NOT_SUPPORTED] for an off-link client unless
    ///         [QosOptions#offLinkExperiments()] allows it, [QosError#NO_SYSTEM_RESOURCES] at
    ///         [QosLimits#maxTrackedClients()], [QosError#INVALID_PARAMETER] /
    ///         [QosError#BAD_NET_NAME] for a bad address
    public void startTrackingClient(InetSocketAddress client) {
        session.startTracking(client);
    }

    /// Stops tracking a client device (`QOSStopTrackingClient`), whichever handle started it;
    /// flows are not affected (probing goes on while adaptive flows to the client exist).
    ///
    /// @throws QosException [QosError#NOT_FOUND] when the client is not tracked
    public void stopTrackingClient(InetSocketAddress client) {
        session.stopTracking(client);
    }

    /// A snapshot of the counters of the engine serving this handle: this JVM's embedded
    /// engine, or the daemon's.
    ///
    /// @throws QosException [QosError#INVALID_HANDLE] when closed
    public QosMetrics metrics() {
        return session.metrics();
    }

    /// Closes the handle; idempotent.
    @Override
    public void close() {
        session.close();
    }

    /// Closes the handle, reporting whether this call closed it (the qos2 layer reports
    /// [QosError#INVALID_HANDLE] for a second close).
    public boolean closeOnce() {
        return session.close();
    }

    @Override
    public String toString() {
        return "QosSubsystem[" + (isClosed() ? "closed" : "open") + ", privileged=" + isPrivileged() + "]";
    }

    Session session() {
        return Objects.requireNonNull(session);
    }
}
