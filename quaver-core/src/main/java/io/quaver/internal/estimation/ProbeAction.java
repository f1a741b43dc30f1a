package io.quaver.internal.estimation;

/// The next experiment [ProbePlanner] asks the prober to run.
public sealed interface ProbeAction {

    /// Send one packet-pair train now: `count` probes of `probeIpBytes` each (IP level),
    /// back to back ([MS-QLPB] Packet Pair; the sink requires one size per train), or, with
    /// `gapNs > 0`, paced `gapNs` apart (a stream for [SpruceEstimator]: probe `i` leaves at
    /// start + `i`·`gapNs`; the sink accepts any timing within the session).
    ///
    /// @param probeIpBytes each probe's size at the IP level
    /// @param count        probes in the train (2..65535)
    /// @param gapNs        send spacing, 0 = back to back
    record SendTrain(int probeIpBytes, int count, long gapNs) implements ProbeAction {
        public SendTrain {
            if (probeIpBytes <= 0 || count < 2 || count > 65_535 || gapNs < 0) {
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

        /// Bytes of the whole train at the IP level.
        public long bytes() {
            return (long) probeIpBytes * count;
        }
    }

    /// Send one probegap probe now ([MS-QLPB] message 0x05).
    ///
    /// @param probeIpBytes the probe's size at the IP level
    record SendProbegap(int probeIpBytes) implements ProbeAction {
    }

    /// Nothing is due before `untilNs`; ask again then, or earlier when a train result arrives
    /// or the adaptive-flow state changes.
    ///
    /// @param untilNs the caller's clock when the next experiment is due
    record Idle(long untilNs) implements ProbeAction {
    }
}
