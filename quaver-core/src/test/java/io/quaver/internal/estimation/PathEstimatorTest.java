package io.quaver.internal.estimation;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/// The façade as the prober uses it: [MS-QLPB] summaries and probegap replies in, snapshots out.
class PathEstimatorTest {
    private static final long MS = 1_000_000L;

    private static long[] deltas(int probes, long ticks) {
        long[] d = new long[probes - 1];
        Arrays.fill(d, ticks);
        return d;
    }

    @Test
    void estimatesAppearOnlyOnceMeasuredLikeTheSetFlags() {
        PathEstimator est = new PathEstimator();
        PathSnapshot s = est.snapshot(0);
        assertThat(s.bottleneckBps()).isEmpty();
        assertThat(s.availableBps()).isEmpty();
        assertThat(s.rttUs()).isEmpty();
        assertThat(s.bottleneckAtNs()).isEqualTo(Long.MIN_VALUE);

        // probegap replies alone: RTT (once warm), no available bandwidth without a bottleneck
        long sinkEpoch100 = 9_000_000_000L; // the sink's own epoch, in 100 ns ticks
        for (int i = 0; i < 200; i++) {
            long send = i * MS;
            long sinkRecv = sinkEpoch100 + (send + 10 * MS) / 100;
            est.onProbegap(i, send, sinkRecv, sinkRecv + 200, send + 20 * MS + 20_000, 60);
        }
        s = est.snapshot(220 * MS);
        assertThat(s.rttUs()).hasValue(20_000);
        assertThat(s.minRttUs()).hasValue(20_000);
        assertThat(s.availableBps()).as("relative to a bottleneck that does not exist yet").isEmpty();

        // a Packet Pair Summary: 1500 B at 12 Mbit/s = 1 ms = 10,000 ticks of 100 ns
        TrainAnalysis a = est.onTrain(230 * MS, 1500, deltas(20, 10_000), 100_000_000L);
        assertThat(a.rateBps()).isEqualTo(12_000_000L);
        s = est.snapshot(230 * MS);
        assertThat(s.bottleneckBps()).hasValue(12_000_000L);
        assertThat(s.bottleneckAtNs()).isEqualTo(230 * MS);
        assertThat(s.availableBps()).as("an idle path").hasValue(12_000_000L);
        assertThat(s.availableAtNs()).isEqualTo(199 * MS + 20 * MS + 20_000);
        assertThat(s.burstAllowanceBytes()).isEmpty();
        assertThat(s.allNewerThan(200 * MS)).isTrue();
        assertThat(s.allNewerThan(225 * MS)).isFalse();
        assertThat(est.trainsSeen()).isEqualTo(1);
        assertThat(est.probegapsSeen()).isEqualTo(200);
    }

    /// The available bandwidth is relative to the bottleneck and never above it, also right
    /// after the bottleneck estimate dropped (the demo once showed available > bottleneck).
    @Test
    void availableNeverExceedsTheBottleneck() {
        PathEstimator est = new PathEstimator();
        for (int i = 0; i < 200; i++) {
            long send = i * MS;
            long sinkRecv = (send + 10 * MS) / 100;
            est.onProbegap(i, send, sinkRecv, sinkRecv + 100, send + 20 * MS + 10_000, 60);
        }
        est.onTrain(230 * MS, 1500, deltas(20, 10_000), 0); // 12 Mbit/s
        PathSnapshot s = est.snapshot(230 * MS);
        assertThat(s.availableBps().getAsLong()).isLessThanOrEqualTo(s.bottleneckBps().getAsLong());
        // the path changes to 6 Mbit/s: two agreeing trains replace the estimate
        for (int k = 0; k < 4; k++) {
            est.onTrain((240 + 10 * k) * MS, 1500, deltas(20, k < 2 ? 10_000 : 20_000), 0);
            s = est.snapshot((240 + 10 * k) * MS);
            assertThat(s.availableBps().getAsLong()).as("after train %d: %s", k, s)
                    .isLessThanOrEqualTo(s.bottleneckBps().getAsLong());
            assertThat(s.available().orElseThrow().capacityBps()).isEqualTo(s.bottleneckBps().getAsLong());
        }
        assertThat(s.bottleneckBps()).hasValue(6_000_000L);
    }

    @Test
    void probesThatMetATrainDoNotCountAsCrossTraffic() {
        PathEstimator est = new PathEstimator();
        // 1 s of probegap on an idle 10 ms / 10 ms path, except that probes sent in
        // [500, 530) ms queued behind a 30 ms train
        for (int i = 0; i < 1000; i++) {
            long send = i * MS;
            long queued = send >= 500 * MS && send < 530 * MS ? 530 * MS - send : 0;
            long sinkRecv = (send + 10 * MS + queued) / 100;
            est.onProbegap(i, send, sinkRecv, sinkRecv + 100, send + 20 * MS + queued + 10_000, 60);
        }
        // the train's summary arrives when its last probe reached the sink plus 10 ms back
        est.onTrain(550 * MS, 1500, deltas(25, 12_500), 0); // 1500 B per 1.25 ms: 9.6 Mbit/s, 30 ms
        AvailableEstimate a = est.snapshot(1_020 * MS).available().orElseThrow();
        assertThat(a.utilisation()).as("%s", a).isLessThan(0.001);
        assertThat(a.samples()).isLessThan(1000 - 25);
    }

    @Test
    void summaryTicksAreOneHundredNanoseconds() {
        TrainSample t = TrainSample.ofSummary(1200, new long[] {3, 4}, 0);
        assertThat(t.recvNs()).containsExactly(0, 300, 700);
        assertThat(t.sizesIpBytes()).containsExactly(1200, 1200, 1200);
        assertThat(t.totalBytes()).isEqualTo(3600);
        assertThat(t.recvSpanNs()).isEqualTo(700);
    }
}
