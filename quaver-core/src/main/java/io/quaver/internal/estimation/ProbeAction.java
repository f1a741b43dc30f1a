package io.quaver.internal.estimation;

/// The next experiment [ProbePlanner] asks the prober to run.
public sealed interface ProbeAction {

    /// Send one packet-pair train now: `count` probes of `probeIpBytes` each (IP level),
    /// back to back ([MS-QLPB] Packet Pair; the sink requires one size per train).
    ///
    /// @param probeIpBytes each probe's size at the IP level
    /// @param count        probes in the train (2..65535)
    record SendTrain(int probeIpBytes, int count) implements ProbeAction {
        public SendTrain {
            if (probeIpBytes <= 0 || count < 2 || count > 65_535) {
                throw new IllegalArgumentException("train of " + count + " × " + probeIpBytes + " B");
            }
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
