package io.quaver.internal.estimation;

import java.util.Optional;

/// The per-client façade over the three estimators: the prober feeds it [MS-QLPB] samples
/// with its own clock, and reads a [PathSnapshot].
///
/// * [#onTrain(long, int, long[], long)]: a Packet Pair Summary → [BottleneckEstimator];
/// * [#onProbegap(long, long, long, long, long, int)]: a reflected probegap probe →
///   [AvailableBandwidthEstimator] (ProbeGap, relative to the bottleneck) and [RttEstimator];
/// * [#snapshot(long)]: the current estimates, each optional, with freshness.
///
/// Probegap probes sent while a train was crossing the bottleneck are excluded from the
/// available-bandwidth window: probes sent within `[arrival − span − RTT − m, arrival − RTT
/// + m]` of the summary's arrival (initiator clock; m = 2 ms + RTT/16: the send time follows
/// from the round trip whatever the asymmetry, m covers the sink's delays and jitter), or
/// within the train's own send times plus its span when they are given. Until the RTT
/// estimate is warm the smallest raw round trip stands in for it, and before any probegap
/// reply every probe sent before the arrival is excluded.
///
/// Pure (time is an argument; no I/O, no threads) and not thread-safe: the prober calls it
/// under its own lock.
public final class PathEstimator {
    /// Configuration of the three estimators.
    public record Config(BottleneckEstimator.Config bottleneck, AvailableBandwidthEstimator.Config available,
                         RttEstimator.Config rtt) {
        public static final Config DEFAULT = new Config(BottleneckEstimator.Config.DEFAULT,
                AvailableBandwidthEstimator.Config.DEFAULT, RttEstimator.Config.DEFAULT);
    }

    private static final long TRAIN_MARGIN_NS = 2_000_000L;

    private final BottleneckEstimator bottleneck;
    private final AvailableBandwidthEstimator available;
    private final RttEstimator rtt;
    private long roughRttNs = Long.MAX_VALUE;
    private long trains;
    private long probegaps;

    public PathEstimator() {
        this(Config.DEFAULT);
    }

    public PathEstimator(Config config) {
        this.bottleneck = new BottleneckEstimator(config.bottleneck());
        this.available = new AvailableBandwidthEstimator(config.available());
        this.rtt = new RttEstimator(config.rtt());
    }

    /// One [MS-QLPB] Packet Pair Summary.
    ///
    /// @param nowNs             the initiator's clock when the summary arrived
    /// @param probeIpBytes      the size of every probe at the IP level
    /// @param deltas100ns       the sink's receive-time deltas (newer − older), 100 ns units
    /// @param interfaceSpeedBps the summary's `Interface_Speed`, 0 = unknown
    /// @return the train's own analysis
    public TrainAnalysis onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
        return onTrain(nowNs, TrainSample.ofSummary(probeIpBytes, deltas100ns, interfaceSpeedBps));
    }

    /// One train, with per-probe sizes and, when known, the initiator's send times.
    ///
    /// @param nowNs the initiator's clock when the train's result arrived
    /// @return the train's own analysis
    public TrainAnalysis onTrain(long nowNs, TrainSample train) {
        trains++;
        long span = train.recvSpanNs();
        if (train.sendNs() != null) {
            long[] s = train.sendNs();
            available.excludeSendWindow(s[0] - TRAIN_MARGIN_NS, s[s.length - 1] + span + TRAIN_MARGIN_NS);
        } else {
            // the summary left the sink when the last probe arrived: the train was sent about
            // one RTT plus its span before now, and crossed the bottleneck for about its span
            Optional<RttEstimate> r = rtt.estimate();
            long rttNs = r.map(x -> x.rttUs() * 1000).orElse(roughRttNs);
            if (rttNs != Long.MAX_VALUE) {
                long margin = TRAIN_MARGIN_NS + rttNs / 16;
                available.excludeSendWindow(nowNs - span - rttNs - margin, nowNs - rttNs + margin);
            } else {
                available.excludeSendWindow(Long.MIN_VALUE, nowNs); // no RTT yet: all earlier probes
            }
        }
        return bottleneck.onTrain(nowNs, train);
    }

    /// One reflected probegap probe ([MS-QLPB] message 0x06).
    ///
    /// @param sequence      the probe's sequence number
    /// @param sendNs        the initiator's clock when the probe actually left
    /// @param sinkRecv100ns the sink's `Sink_Recv_Timestamp`, 100 ns units (its own epoch)
    /// @param sinkSend100ns the sink's `Sink_Send_Timestamp`, 100 ns units
    /// @param recvNs        the initiator's clock when the reflection arrived
    /// @param probeIpBytes  the probe's size at the IP level (ProbeGap corrects for the
    ///                      probes' own load)
    public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                           int probeIpBytes) {
        probegaps++;
        long sinkRecvNs = sinkRecv100ns * TrainSample.QLPB_TICK_NS;
        long holdNs = (sinkSend100ns - sinkRecv100ns) * TrainSample.QLPB_TICK_NS;
        available.onProbe(sequence, sendNs, sinkRecvNs, probeIpBytes, recvNs);
        long raw = (recvNs - sendNs) - holdNs;
        if (raw > 0) {
            roughRttNs = Math.min(roughRttNs, raw); // cold samples too: good enough to place trains
        }
        rtt.onProbe(sendNs, recvNs, holdNs);
    }

    /// The current estimates; the available bandwidth never exceeds the bottleneck it is
    /// relative to (qwave.md §6.5).
    public PathSnapshot snapshot(long nowNs) {
        Optional<BottleneckEstimate> b = bottleneck.estimate();
        Optional<AvailableEstimate> a = b.flatMap(x -> available.estimate(x.rateBps()).map(e -> atMost(e, x.rateBps())));
        return new PathSnapshot(b, a, rtt.estimate(), nowNs);
    }

    private static AvailableEstimate atMost(AvailableEstimate e, long capacityBps) {
        if (e.availableBps() <= capacityBps && e.capacityBps() == capacityBps) {
            return e;
        }
        return new AvailableEstimate(Math.min(e.availableBps(), capacityBps), e.utilisation(), e.samples(),
                e.windowNs(), capacityBps, e.idleThresholdNs(), e.lostProbes(), e.skewPpm(), e.updatedAtNs());
    }

    /// The bottleneck estimate alone.
    public Optional<BottleneckEstimate> bottleneck() {
        return bottleneck.estimate();
    }

    /// Trains fed so far.
    public long trainsSeen() {
        return trains;
    }

    /// Probegap replies fed so far.
    public long probegapsSeen() {
        return probegaps;
    }
}
