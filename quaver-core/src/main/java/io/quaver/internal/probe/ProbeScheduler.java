package io.quaver.internal.probe;

/// Decides the prober's next experiment: the seam for a pure probe planner (time is an
/// argument; no I/O, no threads; called under the prober's lock). [ClientProber] asks for
/// the next action whenever the previous one is done and carries every `Send` action out at
/// once.
public interface ProbeScheduler {

    /// What to do next.
    sealed interface Action {
    }

    /// Send one packet-pair train now: `count` probes of `probeIpBytes` each (IP level), back
    /// to back, or paced `gapNs` apart (a stream: its result goes to
    /// [PathModel#onStream(long, int, long[], long[])], not to the bottleneck).
    record SendTrain(int probeIpBytes, int count, long gapNs) implements Action {
        public SendTrain {
            if (probeIpBytes < 64 || count < 2 || count > 65_535 || gapNs < 0) {
                throw new IllegalArgumentException("train of " + count + " × " + probeIpBytes + " B, gap " + gapNs);
            }
        }

        /// A back-to-back train.
        public SendTrain(int probeIpBytes, int count) {
            this(probeIpBytes, count, 0);
        }

        /// Whether this is a paced stream.
        public boolean paced() {
            return gapNs > 0;
        }

        public long bytes() {
            return (long) probeIpBytes * count;
        }
    }

    /// Send one probegap probe now, `probeIpBytes` at the IP level (60 = header only on IPv4).
    record SendProbegap(int probeIpBytes) implements Action {
    }

    /// Nothing before `untilNs` (or an earlier [ClientProber] event: a train result, a change
    /// of the adaptive-flow state, a fresh request).
    record Idle(long untilNs) implements Action {
    }

    /// The next experiment.
    ///
    /// @param active whether an adaptive flow to the client is open
    /// @param path   the current estimates
    Action next(long nowNs, boolean active, PathEstimates path);

    /// A fresh measurement is wanted now (`QOS_QUERYFLOW_FRESH`, a start of tracking).
    void requestFresh(long nowNs);

    /// A fresh available-bandwidth reading is wanted soon: the path's queue has just drained,
    /// so readings taken while it was congested no longer hold. Called under the prober's lock
    /// (from its path model). By default ignored.
    default void requestStream(long nowNs) {
    }

    /// The train asked for last left (all of it) at `nowNs`.
    default void onTrainSent(long nowNs, SendTrain train) {
    }

    /// What became of a train.
    enum TrainOutcome {
        /// The sink's Packet Pair Summary arrived (the model has it).
        SUMMARY,
        /// The sink answered the handshake but no summary came: a probe was lost (typically a
        /// shallow bottleneck queue dropped the train's tail; the sink needs every probe).
        LOST,
        /// No sink answered the handshake.
        NO_SINK
    }

    /// The outcome of the train asked for last.
    default void onTrainResult(long nowNs, TrainOutcome outcome) {
    }
}
