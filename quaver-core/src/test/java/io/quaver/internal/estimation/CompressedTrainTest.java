package io.quaver.internal.estimation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/// Trains distorted by a loaded host, in virtual time: a preempted sink, relay or emulator
/// releases part of a train compressed (a stall, then a burst of back-to-back stamps), or the
/// sender is preempted mid-train. The path is 20 Mbit/s with 1250-byte probes (500 µs per probe
/// at the bottleneck); the sender writes a probe every 4 µs.
class CompressedTrainTest {
    private static final long US = 1_000L;
    private static final long MS = 1_000_000L;
    private static final long MBPS = 1_000_000L;
    private static final int BYTES = 1250;
    private static final long PROBE_NS = 500 * US;
    private static final long SEND_GAP_NS = 4 * US;

    /// Send times of a back-to-back train of `n` probes; a sender stall of `stallNs` before
    /// probe `stallAt` (none if negative).
    static long[] sendTimes(int n, int stallAt, long stallNs) {
        long[] s = new long[n];
        for (int i = 1; i < n; i++) {
            s[i] = s[i - 1] + SEND_GAP_NS + (i == stallAt ? stallNs : 0);
        }
        return s;
    }

    /// Receive times at the bottleneck rate, then probes `from..to` (inclusive) held until the
    /// true arrival of probe `to` and released `burstGapNs` apart from there.
    static long[] compressed(int n, int from, int to, long burstGapNs) {
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            r[i] = 10 * MS + i * PROBE_NS;
        }
        long release = r[to];
        for (int i = from; i <= to; i++) {
            r[i] = release + (i - from) * burstGapNs;
        }
        for (int i = to + 1; i < n; i++) {
            r[i] = Math.max(r[i], r[i - 1] + burstGapNs);
        }
        return r;
    }

    static TrainSample train(long[] recv, long[] send) {
        int[] sizes = new int[recv.length];
        Arrays.fill(sizes, BYTES);
        return new TrainSample(sizes, recv, send, 0);
    }

    static double rel(long estimate) {
        return (estimate - 20.0 * MBPS) / (20.0 * MBPS);
    }

    @ParameterizedTest(name = "probes {1}..{2} of {0} released {3} ns apart")
    @CsvSource({
            "30, 0, 19, 1000", // the sink woke late: the head arrives as one burst
            "30, 0, 19, 4000", // an emulator catching up at the sender's own pace
            "30, 10, 24, 1000", // a stall in the middle
            "30, 0, 25, 200", // most of the train compressed
            "48, 5, 12, 1500", // two stalls
    })
    void aCompressedSegmentIsNotReadAsCapacity(int n, int from, int to, long burstGapNs) {
        long[] recv = compressed(n, from, to, burstGapNs);
        if (n == 48) {
            long[] second = compressed(n, 30, 40, burstGapNs);
            for (int i = 30; i < n; i++) {
                recv[i] = Math.max(recv[i - 1] + 1, second[i]);
            }
        }
        TrainAnalysis a = TrainDispersion.analyse(train(recv, sendTimes(n, -1, 0)));
        if (a.valid()) {
            assertThat(rel(a.rateBps())).as("%s", a).isCloseTo(0, within(0.15));
        }
        assertThat(a.valid() || n - (to - from) < 6).as("enough clean gaps remain for an estimate: %s", a).isTrue();
    }

    @Test
    void aSenderPreemptedMidTrainGivesTheCapacityOrNothing() {
        // the sender stalls 3 ms before probe 15: the bottleneck drains and idles; probes 15..
        // arrive at the bottleneck rate again after the stall
        int n = 30;
        long[] send = sendTimes(n, 15, 3 * MS);
        long[] recv = new long[n];
        for (int i = 0; i < n; i++) {
            recv[i] = 10 * MS + (i < 15 ? i * PROBE_NS : send[i] + (i - 15 + 1) * PROBE_NS);
            if (i > 0) {
                recv[i] = Math.max(recv[i], recv[i - 1] + PROBE_NS);
            }
        }
        TrainAnalysis a = TrainDispersion.analyse(train(recv, send));
        assertThat(a.valid()).isTrue();
        assertThat(rel(a.rateBps())).as("%s", a).isCloseTo(0, within(0.1));
    }

    @Test
    void receiveTimestampBatchingWithSendTimesIsStillReadAsCoalescing() {
        // a sink NIC stamping in batches every 100 µs on a 100 Mbit/s path (100 µs per probe)
        int n = 48;
        long[] recv = new long[n];
        for (int i = 0; i < n; i++) {
            long trueNs = 10 * MS + i * 100 * US + 37 * US;
            recv[i] = (trueNs / (300 * US) + 1) * 300 * US + (i % 3) * 300;
        }
        TrainAnalysis a = TrainDispersion.analyse(train(recv, sendTimes(n, -1, 0)));
        assertThat(a.valid()).isTrue();
        assertThat((a.rateBps() - 100.0 * MBPS) / (100.0 * MBPS)).as("%s", a).isCloseTo(0, within(0.1));
    }

    @Test
    void oneWildTrainDoesNotReplaceTheEstimateUntilConfirmed() {
        BottleneckEstimator b = new BottleneckEstimator();
        b.onTrain(0, TrainSample.of(BYTES, compressed(30, 0, 0, 1), 0)); // a clean 20 Mbit/s train
        assertThat(rel(b.estimate().orElseThrow().rateBps())).isCloseTo(0, within(0.05));
        // a wild train at 2 Gbit/s (no send times to unmask it)
        long[] wild = new long[30];
        for (int i = 0; i < 30; i++) {
            wild[i] = i * 5 * US;
        }
        b.onTrain(100 * MS, TrainSample.of(BYTES, wild, 0));
        assertThat(rel(b.estimate().orElseThrow().rateBps())).isCloseTo(0, within(0.05));
        // a second agreeing train confirms: the path really changed
        b.onTrain(200 * MS, TrainSample.of(BYTES, wild, 0));
        assertThat(b.estimate().orElseThrow().rateBps()).isGreaterThan(1000 * MBPS);
    }

    @Test
    void aWildFirstTrainGivesWayToALowerOne() {
        BottleneckEstimator b = new BottleneckEstimator();
        long[] wild = new long[30];
        for (int i = 0; i < 30; i++) {
            wild[i] = i * 5 * US;
        }
        b.onTrain(0, TrainSample.of(BYTES, wild, 0));
        b.onTrain(100 * MS, TrainSample.of(BYTES, compressed(30, 0, 0, 1), 0));
        assertThat(rel(b.estimate().orElseThrow().rateBps())).isCloseTo(0, within(0.05));
    }
}
