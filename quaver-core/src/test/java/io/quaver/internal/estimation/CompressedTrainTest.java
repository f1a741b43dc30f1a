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

    /// Gaps (µs) → times (ns) from 0.
    static long[] times(long... gapsUs) {
        long[] t = new long[gapsUs.length + 1];
        for (int i = 0; i < gapsUs.length; i++) {
            t[i + 1] = t[i] + gapsUs[i] * US;
        }
        return t;
    }

    static TrainAnalysis analyse1500(long[] recv, long[] send) {
        int[] sizes = new int[recv.length];
        Arrays.fill(sizes, 1500);
        return TrainDispersion.analyse(new TrainSample(sizes, recv, send, 0));
    }

    /// Trains recorded on the demo's 20 Mbit/s emulated path (600 µs per 1500-byte probe) with
    /// the 2-core host at load ≈ 15: the relay stalled for longer than the train took, and
    /// released it in pile-ups; no gap shows the bottleneck's spacing. Nothing can be read.
    @Test
    void aTrainReleasedInLateStampedPileUpsIsNotRead() {
        long[] send = times(567, 23, 13, 9, 9, 8, 10, 11, 8, 8, 34, 27, 8, 7, 8, 52, 10, 8, 8);
        long[] recv = times(4592, 14331, 22, 14, 14, 15, 20969, 78, 25, 15, 12, 11, 12, 10, 11, 11, 13, 10, 11);
        assertThat(analyse1500(recv, send).valid()).isFalse(); // was read as 5.7 Mbit/s
        long[] send2 = times(57, 5, 4, 924, 11, 4, 4, 98, 4, 5, 4, 4, 4, 4, 4, 4, 17, 4, 4);
        long[] recv2 = times(69, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 11496, 218, 137, 5091, 23, 5);
        assertThat(analyse1500(recv2, send2).valid()).isFalse(); // was read as 4.2 Mbit/s
        long[] send3 = times(80, 5, 61, 5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 12, 4, 4, 7, 4, 4, 4, 4, 4, 4, 3, 4, 4, 4, 4, 3, 4,
                4, 4, 5, 7, 4, 9, 4, 4, 4, 4, 4, 4);
        long[] recv3 = times(24, 4, 3, 2191, 5, 3, 3, 968, 6, 542, 22481, 55, 18, 19, 16, 15, 16, 16, 16, 16, 16, 175, 19,
                16, 15, 14, 14, 16, 15, 15, 16, 16, 15, 63, 15, 14, 20, 15, 16, 15, 15, 16);
        assertThat(analyse1500(recv3, send3).valid()).isFalse(); // was read as 692 Mbit/s
    }

    /// A train the relay released whole, back to back, arrives as fast as it was sent: it is
    /// flagged sender-limited and does not displace trains that show the path's dispersion.
    @Test
    void aTrainArrivingAsFastAsItWasSentIsSenderLimited() {
        long[] send = times(27, 25, 4, 4, 4, 4, 4, 4, 4, 4, 3, 4, 4, 4, 4, 125, 5, 6, 4);
        long[] recv = times(32, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 6, 3, 3, 4, 3, 3, 3);
        TrainAnalysis wild = analyse1500(recv, send);
        assertThat(wild.senderLimited()).as("%s", wild).isTrue();
        long[] clean = new long[27];
        for (int i = 0; i < clean.length; i++) {
            clean[i] = i * 600 * US;
        }
        long[] sendGaps = new long[26];
        Arrays.fill(sendGaps, 4);
        TrainAnalysis good = analyse1500(clean, times(sendGaps));
        assertThat(good.senderLimited()).isFalse();
        BottleneckEstimator b = new BottleneckEstimator();
        b.add(0, good);
        b.add(100 * MS, wild);
        b.add(200 * MS, wild);
        assertThat(rel(b.estimate().orElseThrow().rateBps())).isCloseTo(0, within(0.02));
        // alone (a path faster than the sender, e.g. loopback) it is the estimate
        BottleneckEstimator alone = new BottleneckEstimator();
        alone.add(0, wild);
        assertThat(alone.estimate().orElseThrow().rateBps()).isEqualTo(wild.rateBps());
    }

    /// A first train stretched by a stall reads low; a clean train after it is not held back as
    /// an "unconfirmed fast" one, and two agreeing trains outvote any number of stray ones.
    @Test
    void theTrainsThatAgreeWin() {
        TrainAnalysis slow = new TrainAnalysis(TrainAnalysis.Method.WHOLE_TRAIN, 5_551_511, 5_551_511, -1, false, 0,
                0.19, 20, 30_000, 41 * MS, false, false);
        TrainAnalysis good = new TrainAnalysis(TrainAnalysis.Method.WHOLE_TRAIN, 20_178_241, 20_178_241, -1, false, 0,
                1.0, 20, 30_000, 13 * MS, false, false);
        BottleneckEstimator b = new BottleneckEstimator();
        b.add(0, slow);
        b.add(100 * MS, good);
        assertThat(rel(b.estimate().orElseThrow().rateBps())).isCloseTo(0, within(0.02));
        long[] strays = {9_921_455, 394_088_670, 58_497_537};
        for (int i = 0; i < strays.length; i++) {
            b.add((200 + 100 * i) * MS, new TrainAnalysis(TrainAnalysis.Method.CLEAN_MODE, strays[i], strays[i], -1,
                    false, 0, 0.4, 20, 30_000, 10 * MS, false, false));
        }
        b.add(600 * MS, new TrainAnalysis(TrainAnalysis.Method.CLEAN_MODE, 19_717_608, 19_717_608, -1, false, 0, 0.375,
                21, 31_500, 16 * MS, false, false));
        assertThat(rel(b.estimate().orElseThrow().rateBps())).isCloseTo(0, within(0.02));
    }
}
