package io.quaver.dashboard;

import io.quaver.TrafficType;

import java.util.Objects;

/// What a [DashboardSource] knows about one flow at one instant. Rates are bits/s at the IP
/// level; `-1` means "not known" (no rate admitted, no estimate yet).
///
/// @param flowId        the flow id (unsigned 32-bit value, as a long)
/// @param label         a short description (e.g. the destination), may be empty
/// @param trafficType   the flow's traffic type
/// @param dscp          the DSCP actually applied (0 when unmarked)
/// @param ieee8021p     the 802.1p user priority actually applied (0 when not tagged)
/// @param admittedBps   the admitted outgoing rate, or -1 when none
/// @param actualBps     the measured send rate, or -1 when not measured
/// @param bottleneckBps the path's bottleneck bandwidth estimate, or -1
/// @param availableBps  the path's available bandwidth estimate, or -1
/// @param rttUs         the path's round-trip time estimate in microseconds, or -1
/// @param congestion    the path's congestion state
public record FlowSample(long flowId, String label, TrafficType trafficType, int dscp, int ieee8021p, long admittedBps,
                         long actualBps, long bottleneckBps, long availableBps, long rttUs,
                         CongestionState congestion) {
    public FlowSample {
        label = label == null ? "" : label;
        Objects.requireNonNull(trafficType, "trafficType");
        Objects.requireNonNull(congestion, "congestion");
        if (dscp < 0 || dscp > 63) {
            throw new IllegalArgumentException("dscp must be 0-63, was " + dscp);
        }
        if (ieee8021p < 0 || ieee8021p > 7) {
            throw new IllegalArgumentException("ieee8021p must be 0-7, was " + ieee8021p);
        }
    }
}
