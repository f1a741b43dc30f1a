package io.quaver;

import java.util.OptionalLong;

/// The path estimates of an adaptive flow (`QOS_FLOW_FUNDAMENTALS`): each value is present
/// only once it has been measured.
///
/// @param bottleneckBps bottleneck (capacity) bandwidth, bits/s at the IP level
/// @param availableBps  available bandwidth for new traffic, bits/s at the IP level
/// @param rttUs         average round-trip time, microseconds
/// @param source        where the estimates came from
public record FlowFundamentals(OptionalLong bottleneckBps, OptionalLong availableBps, OptionalLong rttUs,
                               Source source) {
    /// The origin of the estimates.
    public enum Source {
        /// [MS-QLPB] probing against a sink on the client.
        PROBING,
        /// The kernel's `TCP_INFO` for a TCP flow whose peer runs no sink (beyond qWAVE).
        TCP_INFO
    }
}
