package io.quaver.internal.probe;

/// Sees the prober's samples as they arrive, for consumers besides the path model — the
/// congestion detector (`io.quaver.internal.adaptive.PathMonitor`) in particular. Called on
/// the prober's threads, outside its lock; must be quick and must not throw.
public interface ProbeObserver {

    /// One reflected probegap probe (see [PathModel#onProbegap]); `recvNs` is the initiator's
    /// clock on arrival.
    default void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs) {
    }

    /// A reflected probegap probe whose sample was withdrawn (see
    /// [PathModel#onProbegapArrival]): it arrived, without timing.
    default void onProbegapArrival(long sequence, long recvNs) {
    }

    /// The estimates after a new train or probegap sample.
    default void onEstimates(long nowNs, PathEstimates estimates) {
    }
}
