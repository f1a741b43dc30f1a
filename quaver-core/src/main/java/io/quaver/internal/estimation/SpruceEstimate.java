package io.quaver.internal.estimation;

/// The available bandwidth from paced streams ([SpruceEstimator]).
///
/// @param availableBps the pair-weighted mean of the streams' `A = R − C·s`, bits/s at the IP
///                     level
/// @param streams      streams behind it
/// @param pairs        Spruce pairs behind it (the streams' tails)
/// @param spreadShare  the pair-weighted standard deviation of the streams' estimates, as a
///                     share of the capacity (how much the streams disagree)
/// @param errorShare   the mean's standard error as a share of the capacity: the larger of
///                     the streams' own (regression residuals) and their spread over √(n − 1)
/// @param windowNs     first send of the oldest stream to last send of the newest
/// @param capacityBps  the bottleneck estimate it is relative to
/// @param updatedAtNs  the caller's clock when the newest stream's result arrived
public record SpruceEstimate(long availableBps, int streams, long pairs, double spreadShare, double errorShare,
                             long windowNs,
                             long capacityBps, long updatedAtNs) {
}
