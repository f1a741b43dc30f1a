package io.quaver;

import io.quaver.internal.SendPath;
import io.quaver.internal.Session;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.time.Duration;
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
    private volatile SendPath sendPath;

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

    /// Sets (or, with bandwidth 0, removes) the flow's outgoing rate contract
    /// (`QOSSetOutgoingRate`). The rate (bits/s at the IP level) applies to the flow as a whole,
    /// all its sockets and destinations together:
    ///
    /// - [Shaping#SHAPE_ONLY]: paced, sent unmarked;
    /// - [Shaping#SHAPE_AND_MARK]: paced, conformant marks;
    /// - [Shaping#USE_NON_CONFORMANT_MARKINGS]: never delayed; datagrams sent through
    ///   [#send] beyond the rate carry the non-conformant marks (DSCP 0).
    ///
    /// Which mechanism enforces it is reported by [#enforcement()]; see [Enforcement]. An
    /// adaptive flow's rate is its admission request; it marks once admitted. The special
    /// bandwidth [OutgoingRate#DEFAULT_MINIMUM_BANDWIDTH_BPS] is enforced as 1 Mbit/s.
    ///
    /// @throws QosException [QosError#NOT_FOUND] for a removed flow,
    ///         [QosError#NETWORK_BUSY] when admission refuses an adaptive flow's rate
    public void setOutgoingRate(OutgoingRate rate) {
        session.setOutgoingRate(flowId, rate);
    }

    /// Sets the rate as the QoS2 SDK sample does for an adaptive flow: while admission control
    /// answers [QosError#RETRY] (1237, estimates not there yet) or [QosError#NETWORK_BUSY] (54,
    /// the path cannot carry it now), tries again every 100 ms for up to `patience`, then throws
    /// the last refusal. Any other error is thrown at once.
    ///
    /// @throws QosException [QosError#INVALID_PARAMETER] for a `null` or negative `patience`,
    ///         and as [#setOutgoingRate(OutgoingRate)]
    /// @throws InterruptedException when the calling thread is interrupted while waiting
    public void setOutgoingRate(OutgoingRate rate, Duration patience) throws InterruptedException {
        if (patience == null || patience.isNegative()) {
            throw new QosException(QosError.INVALID_PARAMETER, "patience must be >= 0, was " + patience);
        }
        long deadlineNs = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                setOutgoingRate(rate);
                return;
            } catch (QosException e) {
                if ((e.error() != QosError.RETRY && e.error() != QosError.NETWORK_BUSY)
                        || System.nanoTime() - deadlineNs >= 0) {
                    throw e;
                }
            }
            Thread.sleep(Math.max(0, Math.min(100, (deadlineNs - System.nanoTime()) / 1_000_000) + 1));
        }
    }

    /// Which mechanism enforces the flow's rate now ([Enforcement#NONE] without a rate).
    public Enforcement enforcement() {
        return session.enforcement(flowId);
    }

    /// Sends `payload` (from its position to its limit) on the flow's only socket and
    /// destination, waiting as long as the rate requires: the blocking, paced send.
    ///
    /// For a UDP flow the payload is one datagram; for a TCP flow it is written in full
    /// (blocking channel), paced in chunks of about 1 ms at the rate when the send path
    /// enforces the rate (with [Enforcement#KERNEL_PACING] the kernel paces and this is a
    /// plain write). The wait is a hybrid park-then-spin on the calling thread: precise to tens
    /// of microseconds, and batching (no spin) above ~2 k datagrams/s.
    ///
    /// @return the payload bytes sent
    /// @throws QosException [QosError#INVALID_PARAMETER] when the flow has several sockets or
    ///         destinations (use [#send(DatagramChannel, ByteBuffer, InetSocketAddress)]),
    ///         [QosError#OPERATION_ABORTED] when the flow or handle is closed (or the thread
    ///         interrupted) during the wait, [QosError#NOT_FOUND] for a removed flow,
    ///         [QosError#IO_DEVICE] when the socket fails
    public int send(ByteBuffer payload) {
        return sendPath().send(payload);
    }

    /// Sends one datagram on `socket` to `destination`, a registration of this flow, waiting as
    /// long as the rate requires. Per-datagram marks: the datagram carries this flow's marks
    /// (conformant or, beyond the rate under [Shaping#USE_NON_CONFORMANT_MARKINGS],
    /// non-conformant) even when the socket also serves other flows (decisions.md item 21);
    /// the socket's `IP_TOS` is switched only when the mark changes.
    ///
    /// @param destination the destination; `null` for the socket's only registration in
    ///                    this flow (e.g. a connected socket)
    /// @return the payload bytes sent
    /// @throws QosException [QosError#NOT_FOUND] when the socket is not in the flow,
    ///         [QosError#INVALID_PARAMETER] when the destination is not registered for it,
    ///         [QosError#OPERATION_ABORTED] when the flow or handle is closed during the wait
    public int send(DatagramChannel socket, ByteBuffer payload, InetSocketAddress destination) {
        return sendPath().send(socket, payload, destination);
    }

    /// The non-blocking send: returns at once with a future that completes with the bytes
    /// sent when the datagram has left — immediately when it conforms, otherwise on Quaver's
    /// pacer thread at its departure time. Do not touch `payload` until then. Datagrams of a
    /// flow leave in submission order. Closing the flow or the handle completes pending sends
    /// exceptionally with a [QosException] of [QosError#OPERATION_ABORTED] (995). Dependent
    /// actions attached with the non-`…Async` methods run on the pacer thread: keep them short.
    ///
    /// @param socket      a UDP socket of the flow, or `null` for the flow's only registration
    /// @param destination as for [#send(DatagramChannel, ByteBuffer, InetSocketAddress)]
    public CompletableFuture<Integer> sendAsync(DatagramChannel socket, ByteBuffer payload,
                                                InetSocketAddress destination) {
        return sendPath().sendAsync(socket, payload, destination);
    }

    /// When a datagram sent now on the flow's send path would conform to the rate, on the
    /// `System.nanoTime()` clock (now, when nothing is shaped): a deadline an event loop can
    /// wait for before calling [#send] without blocking.
    public long nextSendTimeNs() {
        return sendPath().nextSendTimeNs();
    }

    private SendPath sendPath() {
        SendPath p = sendPath;
        if (p == null) {
            p = session.sendPath(flowId);
            sendPath = p;
        }
        return p;
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
