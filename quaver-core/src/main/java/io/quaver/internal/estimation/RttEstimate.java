package io.quaver.internal.estimation;

/// Round-trip time of a path, from probegap replies (see [RttEstimator]).
///
/// @param rttUs       mean RTT over the recent window, microseconds (qWAVE's "RTT")
/// @param minRttUs    minimum RTT over the min-filter window (10 s, BBR's RTprop), µs
/// @param latestRttUs the newest warm sample, µs
/// @param samples     warm samples in the mean
/// @param updatedAtNs the caller's clock when the newest sample arrived
public record RttEstimate(long rttUs, long minRttUs, long latestRttUs, int samples, long updatedAtNs) {
}
