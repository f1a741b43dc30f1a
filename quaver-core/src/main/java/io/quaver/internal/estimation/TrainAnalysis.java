package io.quaver.internal.estimation;

/// What one train says about the bottleneck, from [TrainDispersion#analyse(TrainSample)].
///
/// @param method             how the rate was obtained (or why there is none)
/// @param rateBps            sustained capacity estimate at the IP level, bits/s (0 if invalid)
/// @param peakRateBps        rate of the train's head when a token-bucket knee was seen, else
///                           equal to `rateBps`; may exceed `rateBps` by a lot (line rate)
/// @param burstBytes         the burst allowance B̂ passed at the peak rate before the knee,
///                           or -1 when no knee was seen
/// @param coalescingDetected whether receive timestamps came in periodic batches (interrupt
///                           coalescing / GRO)
/// @param coalescingPeriodNs the estimated batching period, or 0
/// @param quality            0..1: share of the train that supports the estimate, scaled down
///                           for short trains
/// @param probes             number of probes in the train
/// @param trainBytes         sum of the probe sizes
/// @param recvSpanNs         first-to-last receive time
/// @param interfaceLimited   whether the estimate was capped at the sink's interface speed
/// @param senderLimited      whether the train arrived at half the rate it was sent at or
///                           faster: it measured the sender (the path is at least that fast) or
///                           was compressed on the way by a preempted host
public record TrainAnalysis(Method method, long rateBps, long peakRateBps, long burstBytes,
                            boolean coalescingDetected, long coalescingPeriodNs, double quality, int probes,
                            long trainBytes, long recvSpanNs, boolean interfaceLimited, boolean senderLimited) {

    /// How a train's rate was obtained.
    public enum Method {
        /// Too short, or all probes stamped at the same instant: no estimate.
        INVALID,
        /// Bytes after the first arrival group over the first-to-last arrival time; used when
        /// the train shows no sign of cross traffic.
        WHOLE_TRAIN,
        /// The fastest dense cluster of per-gap (or per-batch-window) rates: the gaps no cross
        /// traffic widened.
        CLEAN_MODE,
        /// The regular tail after a token-bucket knee; the head gave the peak rate and B̂.
        TOKEN_BUCKET_TAIL
    }

    static TrainAnalysis invalid(int probes, long trainBytes, long spanNs) {
        return new TrainAnalysis(Method.INVALID, 0, 0, -1, false, 0, 0, probes, trainBytes, spanNs, false, false);
    }

    /// The same reading flagged [#senderLimited()]: the train was not slowed by the path.
    TrainAnalysis asSenderLimited() {
        return new TrainAnalysis(method, rateBps, peakRateBps, burstBytes, coalescingDetected, coalescingPeriodNs,
                quality, probes, trainBytes, recvSpanNs, interfaceLimited, true);
    }

    /// Whether the train gave an estimate.
    public boolean valid() {
        return method != Method.INVALID;
    }

    /// Whether a token-bucket knee was seen.
    public boolean kneeSeen() {
        return burstBytes >= 0;
    }
}
