package io.quaver.internal.estimation;

/// The available-bandwidth estimate of a path: ProbeGap ([AvailableBandwidthEstimator]) or
/// Spruce over paced streams ([SpruceEstimator]), as [PathEstimator] chose.
///
/// @param availableBps     bandwidth left by the cross traffic, bits/s at the IP level
/// @param utilisation      0..1: the bottleneck's busy share (1 − available / capacity)
/// @param samples          probes (ProbeGap) or pairs (Spruce) behind the estimate
/// @param windowNs         first-to-last send time of the ProbeGap probes (0 for Spruce)
/// @param capacityBps      the bottleneck estimate it is relative to
/// @param idleThresholdNs  a probe whose one-way delay is within this of the floor saw an
///                         idle bottleneck
/// @param lostProbes       probes missing from the sequence range, counted as busy
/// @param skewPpm          the relative clock drift removed (sink against initiator), ppm
/// @param updatedAtNs      the caller's clock when the newest probe behind it arrived
/// @param busyDelayNs      ProbeGap: the median queueing delay of the probes that found the
///                         bottleneck busy (0 if none): a few packet times for smooth cross
///                         traffic, far more when bursts build queues
/// @param method           the method behind the value
/// @param reverseNoiseShare ProbeGap: the share of reflections whose return trip stood more
///                         than the idle threshold above its floor — how often the measurement
///                         itself (timestamps, a relay) adds as much delay as queueing would
public record AvailableEstimate(long availableBps, double utilisation, int samples, long windowNs,
                                long capacityBps, long idleThresholdNs, int lostProbes, double skewPpm,
                                long updatedAtNs, long busyDelayNs, Method method, double reverseNoiseShare) {
    /// The method behind an estimate.
    public enum Method {
        /// ProbeGap: the bottleneck's idle share seen by small probes.
        PROBEGAP,
        /// Spruce's gap model over the tails of paced streams.
        SPRUCE
    }

    /// A ProbeGap estimate.
    public AvailableEstimate(long availableBps, double utilisation, int samples, long windowNs, long capacityBps,
                             long idleThresholdNs, int lostProbes, double skewPpm, long updatedAtNs) {
        this(availableBps, utilisation, samples, windowNs, capacityBps, idleThresholdNs, lostProbes, skewPpm,
                updatedAtNs, 0, Method.PROBEGAP);
    }

    /// An estimate without return-trip noise.
    public AvailableEstimate(long availableBps, double utilisation, int samples, long windowNs, long capacityBps,
                             long idleThresholdNs, int lostProbes, double skewPpm, long updatedAtNs, long busyDelayNs,
                             Method method) {
        this(availableBps, utilisation, samples, windowNs, capacityBps, idleThresholdNs, lostProbes, skewPpm,
                updatedAtNs, busyDelayNs, method, 0);
    }
}
