package io.quaver.internal.adaptive;

/// A change of a path's [CongestionState], as the [CongestionDetector] returns it.
///
/// @param from  the state before
/// @param to    the state after
/// @param atNs  when the change was decided (the `nowNs` of the call that returned it)
/// @param cause what made it
public record Transition(CongestionState from, CongestionState to, long atNs, Cause cause) {
    /// Why the state changed.
    public enum Cause {
        /// The delay gradient (GoogCC trendline) over-uses while a queue of at least
        /// [DetectorConfig#gradientMinQueueNs()] exists.
        DELAY_GRADIENT,
        /// The queuing delay reached [DetectorConfig#queueDelayThresholdNs()].
        QUEUE_LEVEL,
        /// The loss fraction reached [DetectorConfig#lossEnterFraction()].
        LOSS,
        /// The queue drained and loss stayed low for [DetectorConfig#exitHoldNs()].
        DRAINED
    }
}
