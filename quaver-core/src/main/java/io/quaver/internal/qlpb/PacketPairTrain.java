package io.quaver.internal.qlpb;

import io.quaver.internal.qlpb.QlpbMessage.PacketPairSummary;

/// The sink's receiver of packet-pair trains for one session ([MS-QLPB] §3.2.5.5). Pure:
/// the caller passes the receive time; no clock, no I/O. Owned by one thread (the sink's UDP
/// thread); not thread-safe.
///
/// A probe with the `F` flag starts a train (dropping any unfinished one). Every further
/// probe must carry the next sequence number (modulo 2³²), the train's `Train_Size`, and the
/// first probe's datagram size; anything else is ignored. When the probe that completes the
/// train arrives, the train is over and [#summary(long)] gives the receive-time deltas.
///
/// Unlike the letter of §3.2.5.5, which destroys the session after its summary, the
/// session lives on and a later train on it is accepted too: the initiator sends up to 3
/// trains on one handshake (§3.1.6.4), and Windows' forced-estimation path expects summaries
/// for each. Memory is bounded by the largest train seen (≤ 65,535 timestamps).
public final class PacketPairTrain {
    /// What a probe did to the train.
    public enum Outcome {
        /// It carried the `F` flag and started a new train.
        STARTED,
        /// It was the expected next probe.
        ACCEPTED,
        /// It was the expected next probe and completed the train: a summary is due.
        COMPLETED,
        /// It did not belong to the train in progress (or there was none): ignored.
        IGNORED
    }

    private long[] arrivals100ns = new long[16];
    private int trainLength;
    private int received;
    private long initialSequence;
    private long latestSequence;
    private int packetSizeBytes;
    private long completedInitialSequence;
    private int completedLength;

    /// Feeds one packet-pair probe with a non-zero `Train_Size`.
    ///
    /// @param sequence           the probe's `Sequence_Number` (unsigned 32-bit)
    /// @param trainSize          the probe's `Train_Size` (2..65,535; 0 and 1 are filtered out
    ///                           before, by the caller and the codec)
    /// @param first              the probe's `F` flag
    /// @param sizeBytes          the size of the whole probe message (UDP payload)
    /// @param arrival100ns       the sink's clock when the probe arrived, 100 ns units
    public Outcome onProbe(long sequence, int trainSize, boolean first, int sizeBytes, long arrival100ns) {
        if (trainSize < 2) {
            return Outcome.IGNORED;
        }
        if (first) {
            if (arrivals100ns.length < trainSize) {
                arrivals100ns = new long[Math.max(trainSize, Math.min(2 * arrivals100ns.length, 0xFFFF))];
            }
            trainLength = trainSize;
            received = 1;
            initialSequence = sequence;
            latestSequence = sequence;
            packetSizeBytes = sizeBytes;
            arrivals100ns[0] = arrival100ns;
            return Outcome.STARTED;
        }
        if (trainLength == 0 || trainSize != trainLength || sizeBytes != packetSizeBytes
                || sequence != ((latestSequence + 1) & 0xFFFF_FFFFL)
                || ((sequence - initialSequence) & 0xFFFF_FFFFL) >= trainLength) {
            return Outcome.IGNORED;
        }
        latestSequence = sequence;
        arrivals100ns[received++] = arrival100ns;
        if (received < trainLength) {
            return Outcome.ACCEPTED;
        }
        completedInitialSequence = initialSequence;
        completedLength = trainLength;
        trainLength = 0;
        return Outcome.COMPLETED;
    }

    /// Whether a train is in progress.
    public boolean inProgress() {
        return trainLength != 0;
    }

    /// The summary of the train completed last: its first probe's sequence number and the
    /// `train size − 1` receive-time deltas in arrival order.
    ///
    /// @param interfaceSpeedBps speed of the receiving interface (0 = unknown), clamped to the
    ///                          32-bit field
    /// @throws IllegalStateException if no train has completed
    public PacketPairSummary summary(long interfaceSpeedBps) {
        if (completedLength < 2) {
            throw new IllegalStateException("no train has completed");
        }
        long[] deltas = new long[completedLength - 1];
        for (int i = 0; i < deltas.length; i++) {
            deltas[i] = arrivals100ns[i + 1] - arrivals100ns[i];
        }
        return new PacketPairSummary(completedInitialSequence, Math.clamp(interfaceSpeedBps, 0, 0xFFFF_FFFFL), deltas);
    }
}
