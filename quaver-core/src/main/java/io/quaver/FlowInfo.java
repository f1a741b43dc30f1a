package io.quaver;

import java.net.InetSocketAddress;
import java.util.List;

/// A snapshot of one flow, as enumerated or described.
///
/// @param flowId        the flow id (unsigned 32-bit, never 0)
/// @param mode          adaptive or not
/// @param trafficType   the flow's traffic type
/// @param explicitDscp  the DSCP set with [QosFlow#setOutgoingDscp(int)], or -1
/// @param applied       the marks actually applied
/// @param rate          the outgoing rate contract, or `null` when none was set
/// @param members       the flow's sockets with their destinations
/// @param enforcement   which mechanism enforces the rate ([Enforcement#NONE] without a rate)
public record FlowInfo(int flowId, FlowMode mode, TrafficType trafficType, int explicitDscp, PacketPriority applied,
                       OutgoingRate rate, List<Member> members, Enforcement enforcement) {

    public FlowInfo {
        members = List.copyOf(members);
        if (enforcement == null) {
            enforcement = Enforcement.NONE;
        }
    }

    /// One socket of a flow and the destination it sends to.
    ///
    /// @param protocol    `udp` or `tcp`
    /// @param local       the socket's local address, or `null` when unbound or closed
    /// @param destination the destination
    /// @param open        whether the socket is still open
    public record Member(String protocol, InetSocketAddress local, InetSocketAddress destination, boolean open) {
    }

    /// The flow id as an unsigned number.
    public long flowIdUnsigned() {
        return Integer.toUnsignedLong(flowId);
    }
}
