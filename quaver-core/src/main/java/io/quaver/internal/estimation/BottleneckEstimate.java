package io.quaver.internal.estimation;

/// The bottleneck (capacity) estimate of a path, aggregated over the recent trains.
///
/// @param rateBps            sustained capacity at the IP level, bits/s: with a token bucket,
///                           its rate R, never the burst-inflated head rate
/// @param peakRateBps        the rate a train's head reached before a token-bucket knee (the
///                           line rate behind the shaper); equal to `rateBps` without a knee
/// @param burstBytes         the estimated burst allowance B̂ of a token bucket, or -1 when no
///                           knee was seen. While it is -1, a bucket larger than about
///                           `maxTrainBytes` cannot be excluded
/// @param coalescingDetected receive timestamps come in periodic batches (interrupt
///                           coalescing / GRO on the sink); rates came from batch spacing
/// @param coalescingPeriodNs the estimated batching period, or 0
/// @param quality            0..1: agreement and support of the trains behind the estimate
/// @param samples            trains behind the estimate
/// @param maxTrainBytes      the largest train in the window, bytes
/// @param interfaceLimited   the estimate was capped at the sink's reported interface speed
/// @param updatedAtNs        the caller's clock when the newest train behind it arrived
/// @param lowerBound         no train behind the estimate was slowed by the path (each arrived
///                           as fast as it was sent, [TrainAnalysis#senderLimited()]): the
///                           sustained rate is unknown, `rateBps` only says the path carried
///                           that much, and a token bucket whose burst allowance is at least
///                           `maxTrainBytes` cannot be excluded (goal G3's "burst allowance ≥ X,
///                           sustained rate unknown")
public record BottleneckEstimate(long rateBps, long peakRateBps, long burstBytes, boolean coalescingDetected,
                                 long coalescingPeriodNs, double quality, int samples, long maxTrainBytes,
                                 boolean interfaceLimited, long updatedAtNs, boolean lowerBound) {
    /// Whether a token-bucket burst allowance was seen.
    public boolean burstDetected() {
        return burstBytes >= 0;
    }

    /// The least burst allowance a token bucket on the path could have when the sustained rate
    /// is unknown ([#lowerBound()]): the largest train that passed unslowed; -1 otherwise.
    public long burstAtLeastBytes() {
        return lowerBound ? maxTrainBytes : -1;
    }
}
