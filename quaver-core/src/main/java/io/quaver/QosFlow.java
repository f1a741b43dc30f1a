package io.quaver;

import io.quaver.internal.Session;

import java.net.InetSocketAddress;
import java.nio.channels.NetworkChannel;
import java.util.concurrent.CompletableFuture;

/// A flow: one or more sockets with a traffic type, marks and (optionally) a rate contract.
///
/// A `QosFlow` is a reference by id to a flow of its [QosSubsystem]; once the flow is removed
/// (by [#close()], by removing its last socket, or by closing the handle) every call fails
/// with [QosError#NOT_FOUND], except [#close()], which is idempotent.
public final class QosFlow implements AutoCloseable {
    private final QosSubsystem subsystem;
    private final Session session;
    private final int flowId;

    QosFlow(QosSubsystem subsystem, Session session, int flowId) {
        this.subsystem = subsystem;
        this.session = session;
        this.flowId = flowId;
    }

    /// The flow id (an unsigned 32-bit value, never 0).
    public int id() {
        return flowId;
    }

    /// The handle this flow belongs to.
    public QosSubsystem subsystem() {
        return subsystem;
    }

    /// Whether the flow still exists.
    public boolean isLive() {
        return session.exists(flowId);
    }

    /// A snapshot of the flow: mode, type, marks, rate, sockets.
    public FlowInfo info() {
        return session.describe(flowId);
    }

    /// Adds another socket, or the same unconnected socket for another destination, to this
    /// non-adaptive flow. Adding a registration that exists already does nothing.
    ///
    /// @throws QosException [QosError#INVALID_PARAMETER] for an adaptive flow or a bad argument
    public void addSocket(NetworkChannel socket, InetSocketAddress destination) {
        session.addSocket(flowId, socket, destination);
    }

    /// Removes one socket (all its destinations) from the flow; removing the last socket
    /// removes the flow.
    ///
    /// @throws QosException [QosError#NOT_FOUND] when the socket is not in the flow
    public void removeSocket(NetworkChannel socket) {
        if (socket == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "socket is null; use close() to remove the whole flow");
        }
        session.remove(flowId, socket);
    }

    /// Changes the traffic type (and undoes an explicit DSCP).
    public void setTrafficType(TrafficType type) {
        session.setTrafficType(flowId, type);
    }

    /// Sets an explicit DSCP (0–63) on a non-adaptive flow. Privileged.
    ///
    /// @throws QosException [QosError#ACCESS_DENIED] when not privileged,
    ///         [QosError#INVALID_PARAMETER] outside 0–63, [QosError#NOT_SUPPORTED] on an
    ///         adaptive flow
    public void setOutgoingDscp(int dscp) {
        session.setOutgoingDscp(flowId, dscp);
    }

    /// Sets (or, with bandwidth 0, removes) the flow's outgoing rate contract.
    public void setOutgoingRate(OutgoingRate rate) {
        session.setOutgoingRate(flowId, rate);
    }

    /// The rate of the last accepted contract.
    ///
    /// @throws QosException [QosError#NO_DATA] before any rate was set
    public OutgoingRate outgoingRate() {
        return session.outgoingRate(flowId);
    }

    /// The marks actually applied to this flow's traffic.
    public PacketPriority packetPriority() {
        return session.packetPriority(flowId);
    }

    /// The path estimates of this adaptive flow (`QOSQueryFlowFundamentals`), shared with the
    /// tracking of its destination and with other flows to it. An adaptive flow starts probing
    /// its destination's sink when it is created; values appear as they are measured (an
    /// absent value is a `…Set = FALSE` in the C struct).
    ///
    /// A TCP flow whose peer runs no sink reports the kernel's `TCP_INFO` instead (delivery
    /// rate and smoothed RTT; [FlowFundamentals.Source#TCP_INFO]; beyond qWAVE).
    ///
    /// @param fresh only fresh data: a new measurement is made and awaited (a few seconds at
    ///              most)
    /// @throws QosException [QosError#NO_DATA] before any sample, [QosError#RETRY] when no
    ///         fresh measurement could be made in time, [QosError#HOST_UNREACHABLE] when no
    ///         sink answers, [QosError#ACCESS_DISABLED_BY_POLICY] towards an off-link
    ///         destination while off-link experiments are not allowed,
    ///         [QosError#NOT_SUPPORTED] on a non-adaptive flow
    public FlowFundamentals fundamentals(boolean fresh) {
        return session.fundamentals(flowId, fresh);
    }

    /// Completes when the flow's path becomes congested. Cancelling the future cancels the
    /// request (`QOSCancel`).
    public CompletableFuture<Void> notifyCongested() {
        return session.notifyCongested(flowId);
    }

    /// Completes when the flow's path is not congested.
    public CompletableFuture<Void> notifyUncongested() {
        return session.notifyUncongested(flowId);
    }

    /// Completes, with the available bandwidth in bits/s, once the path can carry the flow at
    /// `targetBps` (the total rate wanted, above the admitted one).
    public CompletableFuture<Long> notifyAvailable(long targetBps) {
        return session.notifyAvailable(flowId, targetBps);
    }

    /// Removes the flow (all its sockets); idempotent.
    @Override
    public void close() {
        if (session.isClosed() || !session.exists(flowId)) {
            return;
        }
        try {
            session.remove(flowId, null);
        } catch (QosException e) {
            if (e.error() != QosError.NOT_FOUND && e.error() != QosError.INVALID_HANDLE) {
                throw e;
            }
        }
    }

    @Override
    public String toString() {
        return "QosFlow[" + Integer.toUnsignedString(flowId) + "]";
    }
}
