package io.quaver;

import java.util.Objects;
import java.util.OptionalLong;

/// The path estimates of an adaptive flow (`QOS_FLOW_FUNDAMENTALS`): each value is present
/// only once it has been measured.
///
/// Beyond qWAVE, the token-bucket shaper (a `tbf`, a cable or DSL modem's policer) a probe
/// found on the path is reported too (goal G3): a burst allowance lets the head of a train
/// through faster than the shaper's sustained rate, which is what [#bottleneckBps()] then
/// reports.
///
/// @param bottleneckBps       bottleneck (capacity) bandwidth, bits/s at the IP level: with a
///                            token bucket its sustained rate, never the burst's
/// @param availableBps        available bandwidth for new traffic, bits/s at the IP level
/// @param rttUs               average round-trip time, microseconds
/// @param source              where the estimates came from
/// @param burstAllowanceBytes the burst allowance B̂ of a token bucket seen on the path
///                            (bytes the shaper lets through above its sustained rate after
///                            idling), when a probe train outlasted it: the bucket's level
///                            when that train came, so at least this much (exact when the
///                            bucket was full; below ~90 Mbit/s the probe budget, 1 % of the
///                            capacity, does not allow draining a 256 KB bucket again to
///                            confirm it)
/// @param burstAtLeastBytes   present while no probe train has been slowed by the path: the
///                            sustained rate is then unknown, [#bottleneckBps()] is only a
///                            lower bound (what the path carried), and a token bucket with a
///                            burst allowance of at least this many bytes cannot be excluded
public record FlowFundamentals(OptionalLong bottleneckBps, OptionalLong availableBps, OptionalLong rttUs,
                               Source source, OptionalLong burstAllowanceBytes, OptionalLong burstAtLeastBytes) {
    /// The origin of the estimates.
    public enum Source {
        /// [MS-QLPB] probing against a sink on the client.
        PROBING,
        /// The kernel's `TCP_INFO` for a TCP flow whose peer runs no sink (beyond qWAVE).
        TCP_INFO
    }

    public FlowFundamentals {
        Objects.requireNonNull(bottleneckBps, "bottleneckBps");
        Objects.requireNonNull(availableBps, "availableBps");
        Objects.requireNonNull(rttUs, "rttUs");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(burstAllowanceBytes, "burstAllowanceBytes");
        Objects.requireNonNull(burstAtLeastBytes, "burstAtLeastBytes");
    }

    /// Estimates without token-bucket information (as qWAVE reports them).
    public FlowFundamentals(OptionalLong bottleneckBps, OptionalLong availableBps, OptionalLong rttUs,
                            Source source) {
        this(bottleneckBps, availableBps, rttUs, source, OptionalLong.empty(), OptionalLong.empty());
    }

    /// Whether [#bottleneckBps()] is only a lower bound ([#burstAtLeastBytes()] is present).
    public boolean bottleneckIsLowerBound() {
        return burstAtLeastBytes.isPresent();
    }
}
