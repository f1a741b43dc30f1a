package io.quaver;

import java.util.Objects;

/// A flow's outgoing rate contract (`QOS_FLOWRATE_OUTGOING`).
///
/// @param bandwidthBps bits per second at the IP level (IP and UDP/TCP headers included);
///                     0 removes shaping and marking; [#DEFAULT_MINIMUM_BANDWIDTH_BPS] asks
///                     for a small default allotment
/// @param shaping      how the rate is enforced
/// @param reason       why the rate changed (informational)
public record OutgoingRate(long bandwidthBps, Shaping shaping, FlowRateReason reason) {
    /// `QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH`: "I don't know, I will use very little".
    public static final long DEFAULT_MINIMUM_BANDWIDTH_BPS = 0xFFFF_FFFFL;

    public OutgoingRate {
        if (bandwidthBps < 0) {
            throw new QosException(QosError.INVALID_PARAMETER, "bandwidth must be >= 0 bit/s, was " + bandwidthBps);
        }
        if (shaping == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "shaping behaviour is required");
        }
        if (reason == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "reason is required (use NOT_APPLICABLE)");
        }
    }

    /// A rate with reason [FlowRateReason#NOT_APPLICABLE].
    public static OutgoingRate of(long bandwidthBps, Shaping shaping) {
        return new OutgoingRate(bandwidthBps, Objects.requireNonNull(shaping), FlowRateReason.NOT_APPLICABLE);
    }
}
