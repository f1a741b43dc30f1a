package io.quaver.internal.qlpb;

/// The sink's observer of route-check trains for one session ([MS-QLPB] §3.2.5.4),
/// following the spec's algorithm literally. Pure: no clock, no I/O. Owned by one thread (the
/// sink's UDP thread); not thread-safe.
///
/// The initiator's train is: an oversized probe (`O`) on the priority socket, two large and
/// one empty probe on the best-effort socket, then an empty probe with `Train_Size` 5 on the
/// priority socket; all with consecutive sequence numbers, `Train_Size` 0 except the last.
///
/// * the final probe arrives after `Train_Size` consecutive arrivals → [Observation#NO_ISSUE];
/// * a best-effort probe (`Train_Size` 0) of the same train arrives *after* the final
///   high-priority probe → [Observation#INVERSION] (the priority packet overtook it);
/// * the final probe arrives out of order and no oversized probe of this train was seen →
///   [Observation#LOSS];
/// * other gaps: nothing yet (the missing probe may still come and prove an inversion).
///
/// Sequence numbers are unsigned 32-bit; consecutiveness is modulo 2³², the ordering
/// comparisons are the spec's plain integer comparisons.
public final class RouteCheckObserver {
    private long sequence;
    private long consecutiveReceives;
    private long latestHighPrioritySequence;
    private long latestHighPriorityTrainSize;
    private long oversizedSequence;

    /// Feeds one route-check probe.
    ///
    /// @param sequence  the probe's `Sequence_Number` (unsigned 32-bit)
    /// @param trainSize the probe's `Train_Size` (0, or 2..65,535 for a train's last probe)
    /// @param oversized the probe's `O` flag
    /// @return the observation to report now in a Route Check Summary, or `null` for none
    public Observation onProbe(long sequence, int trainSize, boolean oversized) {
        if (sequence != ((this.sequence + 1) & 0xFFFF_FFFFL)) {
            consecutiveReceives = 1;
        } else {
            consecutiveReceives++;
        }
        this.sequence = sequence;
        if (trainSize == 0) {
            if (sequence < latestHighPrioritySequence
                    && sequence >= latestHighPrioritySequence - latestHighPriorityTrainSize + 1) {
                latestHighPriorityTrainSize = 0;
                latestHighPrioritySequence = 0;
                consecutiveReceives = 0;
                oversizedSequence = 0;
                return Observation.INVERSION;
            }
            if (oversized && sequence > latestHighPrioritySequence) {
                oversizedSequence = sequence;
            }
            return null;
        }
        if (consecutiveReceives >= trainSize) {
            latestHighPriorityTrainSize = 0;
            latestHighPrioritySequence = 0;
            consecutiveReceives = 0;
            oversizedSequence = 0;
            return Observation.NO_ISSUE;
        }
        if (oversizedSequence == 0 || oversizedSequence + trainSize <= sequence) {
            latestHighPriorityTrainSize = 0;
            latestHighPrioritySequence = 0;
            consecutiveReceives = 0;
            return Observation.LOSS;
        }
        latestHighPrioritySequence = sequence;
        latestHighPriorityTrainSize = trainSize;
        return null;
    }
}
