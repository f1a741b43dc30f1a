package io.quaver.internal.estimation;

import java.util.Optional;
import java.util.OptionalLong;

/// The current estimates of one path, each present only once measured (like the `…Set` flags
/// of `QOS_FLOW_FUNDAMENTALS`), with the time of the newest sample behind each.
///
/// @param bottleneck the bottleneck (capacity) estimate
/// @param available  the available-bandwidth estimate (needs a bottleneck, qwave.md §6.5)
/// @param rtt        the RTT estimate
/// @param nowNs      the caller's clock when the snapshot was taken
public record PathSnapshot(Optional<BottleneckEstimate> bottleneck, Optional<AvailableEstimate> available,
                           Optional<RttEstimate> rtt, long nowNs) {
    /// No estimate at all.
    public static PathSnapshot none(long nowNs) {
        return new PathSnapshot(Optional.empty(), Optional.empty(), Optional.empty(), nowNs);
    }

    /// Sustained bottleneck bandwidth, bits/s at the IP level.
    public OptionalLong bottleneckBps() {
        return bottleneck.map(b -> OptionalLong.of(b.rateBps())).orElse(OptionalLong.empty());
    }

    /// Available bandwidth, bits/s at the IP level.
    public OptionalLong availableBps() {
        return available.map(a -> OptionalLong.of(a.availableBps())).orElse(OptionalLong.empty());
    }

    /// Mean RTT, microseconds.
    public OptionalLong rttUs() {
        return rtt.map(r -> OptionalLong.of(r.rttUs())).orElse(OptionalLong.empty());
    }

    /// Minimum RTT over 10 s, microseconds.
    public OptionalLong minRttUs() {
        return rtt.map(r -> OptionalLong.of(r.minRttUs())).orElse(OptionalLong.empty());
    }

    /// A detected token-bucket burst allowance, bytes.
    public OptionalLong burstAllowanceBytes() {
        return bottleneck.filter(BottleneckEstimate::burstDetected).map(b -> OptionalLong.of(b.burstBytes()))
                .orElse(OptionalLong.empty());
    }

    /// When no train was slowed by the path: the least burst allowance a token bucket could
    /// have (the bottleneck is then a lower bound, the sustained rate unknown).
    public OptionalLong burstAtLeastBytes() {
        return bottleneck.filter(BottleneckEstimate::lowerBound).map(b -> OptionalLong.of(b.burstAtLeastBytes()))
                .orElse(OptionalLong.empty());
    }

    /// When the newest train behind the bottleneck estimate arrived (`Long.MIN_VALUE` = never).
    public long bottleneckAtNs() {
        return bottleneck.map(BottleneckEstimate::updatedAtNs).orElse(Long.MIN_VALUE);
    }

    /// When the newest probe behind the available estimate arrived (`Long.MIN_VALUE` = never).
    public long availableAtNs() {
        return available.map(AvailableEstimate::updatedAtNs).orElse(Long.MIN_VALUE);
    }

    /// When the newest RTT sample arrived (`Long.MIN_VALUE` = never).
    public long rttAtNs() {
        return rtt.map(RttEstimate::updatedAtNs).orElse(Long.MIN_VALUE);
    }

    /// Whether every value qWAVE reports (bottleneck, available, RTT) exists and has a sample
    /// taken at or after `sinceNs`.
    public boolean allNewerThan(long sinceNs) {
        return bottleneck.isPresent() && available.isPresent() && rtt.isPresent()
                && bottleneckAtNs() - sinceNs >= 0 && availableAtNs() - sinceNs >= 0 && rttAtNs() - sinceNs >= 0;
    }
}
