package io.quaver.internal.probe;

import java.util.OptionalLong;

/// A snapshot of a path's estimates (bits/s at the IP level, microseconds).
///
/// @param bottleneckBps        capacity of the narrowest link
/// @param availableBps         capacity left over by the cross traffic (needs a bottleneck)
/// @param rttUs                average round-trip time, cold-start samples excluded
/// @param minRttUs             minimum round-trip time over the filter window
/// @param burstAllowanceBytes  a detected token-bucket burst allowance, if any
/// @param burstAtLeastBytes    present when no train was slowed by the path: the sustained rate
///                             is unknown, [#bottleneckBps()] is only a lower bound, and a token
///                             bucket with a burst allowance of at least this many bytes cannot
///                             be excluded
/// @param bottleneckAtNs       when the newest sample behind [#bottleneckBps()] arrived
///                             (`Long.MIN_VALUE` = never)
/// @param availableAtNs        when the newest sample behind [#availableBps()] arrived
/// @param rttAtNs              when the newest sample behind [#rttUs()] arrived
public record PathEstimates(OptionalLong bottleneckBps, OptionalLong availableBps, OptionalLong rttUs,
                            OptionalLong minRttUs, OptionalLong burstAllowanceBytes, OptionalLong burstAtLeastBytes,
                            long bottleneckAtNs, long availableAtNs, long rttAtNs) {
    /// No estimate at all.
    public static final PathEstimates NONE = new PathEstimates(OptionalLong.empty(), OptionalLong.empty(),
            OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), Long.MIN_VALUE,
            Long.MIN_VALUE, Long.MIN_VALUE);

    /// Whether the bottleneck is only a lower bound (no train was slowed by the path).
    public boolean sustainedRateUnknown() {
        return burstAtLeastBytes.isPresent();
    }

    /// Whether any value exists.
    public boolean any() {
        return bottleneckBps.isPresent() || availableBps.isPresent() || rttUs.isPresent();
    }

    /// Whether every value that qWAVE reports (bottleneck, available, RTT) has a sample taken
    /// at or after `sinceNs`.
    public boolean allNewerThan(long sinceNs) {
        return bottleneckBps.isPresent() && availableBps.isPresent() && rttUs.isPresent()
                && bottleneckAtNs - sinceNs >= 0 && availableAtNs - sinceNs >= 0 && rttAtNs - sinceNs >= 0;
    }
}
