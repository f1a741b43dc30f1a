package io.quaver.internal;

import io.quaver.Enforcement;
import io.quaver.FlowFundamentals;
import io.quaver.FlowInfo;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.PacketPriority;
import io.quaver.QosOptions;
import io.quaver.TrafficType;

import java.net.InetSocketAddress;
import java.nio.channels.NetworkChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/// One subsystem handle's view of an engine: what `QosSubsystem` and `QosFlow` call. The
/// embedded engine implements it in-process; the daemon client implements it over the control
/// socket. Every method fails with a [io.quaver.QosException]; a closed session fails with
/// `INVALID_HANDLE`.
public interface Session {

    /// The options the handle was opened with, with privilege and sink port resolved.
    QosOptions options();

    /// Whether the handle is privileged (decisions.md item 18).
    boolean privileged();

    /// Whether the handle has been closed.
    boolean isClosed();

    /// Closes the handle: removes its flows (their sockets' marks restored), completes its
    /// pending operations with `OPERATION_ABORTED`, and starts the grace period of its tracked
    /// clients.
    ///
    /// @return `true` if this call closed it, `false` if it was already closed
    boolean close();

    /// Creates a flow for one socket; returns the new flow id.
    int addFlow(NetworkChannel socket, InetSocketAddress destination, TrafficType type, FlowMode mode);

    /// Adds a socket (or the same socket for another destination) to a non-adaptive flow.
    void addSocket(int flowId, NetworkChannel socket, InetSocketAddress destination);

    /// Removes one socket from a flow (`socket` non-null), or the whole flow (`null`).
    void remove(int flowId, NetworkChannel socket);

    /// Whether the flow exists and belongs to this handle.
    boolean exists(int flowId);

    void setTrafficType(int flowId, TrafficType type);

    void setOutgoingDscp(int flowId, int dscp);

    void setOutgoingRate(int flowId, OutgoingRate rate);

    OutgoingRate outgoingRate(int flowId);

    /// Which mechanism enforces the flow's rate.
    Enforcement enforcement(int flowId);

    /// The flow's send path (pacing and per-datagram marks).
    SendPath sendPath(int flowId);

    PacketPriority packetPriority(int flowId);

    FlowFundamentals fundamentals(int flowId, boolean fresh);

    CompletableFuture<Void> notifyCongested(int flowId);

    CompletableFuture<Void> notifyUncongested(int flowId);

    /// Completes with the available bandwidth in bits/s once the flow can be raised to the
    /// target.
    CompletableFuture<Long> notifyAvailable(int flowId, long targetBps);

    /// A snapshot of one of this handle's flows.
    FlowInfo describe(int flowId);

    /// Every live flow of the subsystem (privileged).
    List<FlowInfo> enumerateFlows();

    void startTracking(InetSocketAddress client);

    /// The counters of the engine serving this handle.
    io.quaver.QosMetrics metrics();

    void stopTracking(InetSocketAddress client);
}
