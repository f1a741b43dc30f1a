package io.quaver.internal.estimation;

/// The available-bandwidth estimate of a path (ProbeGap; see [AvailableBandwidthEstimator]).
///
/// @param availableBps     bandwidth left by the cross traffic, bits/s at the IP level:
///                         capacity × idle fraction
/// @param utilisation      0..1: the bottleneck's busy fraction seen by the probes
/// @param samples          probes behind the estimate (received, not lost)
/// @param windowNs         first-to-last send time of those probes
/// @param capacityBps      the bottleneck estimate it is relative to
/// @param idleThresholdNs  a probe whose one-way delay is within this of the floor saw an
///                         idle bottleneck
/// @param lostProbes       probes missing from the sequence range, counted as busy
/// @param skewPpm          the relative clock drift removed (sink against initiator), ppm
/// @param updatedAtNs      the caller's clock when the newest probe behind it arrived
public record AvailableEstimate(long availableBps, double utilisation, int samples, long windowNs,
                                long capacityBps, long idleThresholdNs, int lostProbes, double skewPpm,
                                long updatedAtNs) {
}
