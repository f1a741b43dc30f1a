package io.quaver.internal.probe;

/// What the prober feeds its samples into and reads estimates from: the seam between the
/// [MS-QLPB] initiator (I/O, threads, timing) and the pure estimators.
///
/// Implementations are pure (no clock, no I/O: every time is an argument) and need not be
/// thread-safe; [ClientProber] calls them under its own lock.
public interface PathModel {

    /// One complete packet-pair train, as reported by the sink's Packet Pair Summary.
    ///
    /// @param nowNs             the initiator's clock when the summary arrived
    /// @param probeIpBytes      the size of every probe of the train at the IP level (UDP
    ///                          payload + UDP + IP headers)
    /// @param deltas100ns       the sink's receive-time deltas, newer − older, 100 ns units
    /// @param interfaceSpeedBps the sink's reported interface speed, 0 = unknown
    void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps);

    /// One complete train with the initiator's send time of each probe (same order), which
    /// lets a model tell exactly when its own train occupied the bottleneck. By default the
    /// send times are ignored.
    default void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps, long[] sendNs) {
        onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps);
    }

    /// One complete paced stream (a train sent with a gap, see
    /// [ProbeScheduler.SendTrain#gapNs()]), with the initiator's send times. It must not feed
    /// the bottleneck estimate (its dispersion is the input rate's, not the path's). By
    /// default it is ignored.
    ///
    /// @param nowNs        the initiator's clock when the summary arrived
    /// @param probeIpBytes the size of every probe at the IP level
    /// @param deltas100ns  the sink's receive-time deltas, newer − older, 100 ns units
    /// @param sendNs       the initiator's send time of each probe (same order)
    default void onStream(long nowNs, int probeIpBytes, long[] deltas100ns, long[] sendNs) {
    }

    /// One reflected probegap probe.
    ///
    /// @param sequence          the probe's sequence number
    /// @param sendNs            the initiator's clock when the probe actually left
    /// @param sinkRecv100ns     the sink's clock on receipt (100 ns units; its own epoch)
    /// @param sinkSend100ns     the sink's clock just before the reflection left
    /// @param recvNs            the initiator's clock when the reflection arrived
    /// @param probeIpBytes      the probe's size at the IP level
    void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                    int probeIpBytes);

    /// A reflected probegap probe whose sample the prober withdrew (its send stalled, so its
    /// send time is unknown): it arrived, and must not count as lost, but carries no timing.
    /// By default ignored.
    ///
    /// @param sequence the probe's sequence number
    /// @param recvNs   the initiator's clock when the reflection arrived
    default void onProbegapArrival(long sequence, long recvNs) {
    }

    /// The current estimates; values that do not exist yet are absent.
    PathEstimates estimates(long nowNs);
}
