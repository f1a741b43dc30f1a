package io.quaver.internal.estimation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/// Spruce over paced streams ([SpruceEstimator]) against synthetic paths with known answers
/// (virtual time): a FIFO bottleneck with CBR, Poisson and TCP-like on–off cross traffic, and
/// a token bucket that hides smooth cross traffic from ProbeGap.
class SpruceEstimatorTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;
    private static final long MBPS = 1_000_000L;

    @Test
    void kneeAndSlopeOfAFlatHeadAndARisingTail() {
        int n = 40;
        double[] t = new double[n];
        double[] o = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = i * 1000.0;
            o[i] = i <= 12 ? 7 : 7 + 0.25 * (t[i] - t[12]);
        }
        int knee = SpruceEstimator.knee(t, o, n / 2);
        assertThat(knee).isBetween(11, 13);
        assertThat(SpruceEstimator.slope(t, o, knee, n)).isCloseTo(0.25, within(0.01));
    }

    @Test
    void streamsAreRequiredToBeLongEnoughAndToCarrySendTimes() {
        long[] recv = new long[10];
        long[] send = new long[10];
        for (int i = 0; i < 10; i++) {
            recv[i] = i * 1000L;
            send[i] = 5_000 + i * 1000L;
        }
        int[] sizes = new int[10];
        Arrays.fill(sizes, 1500);
        SpruceEstimator sp = new SpruceEstimator();
        assertThat(sp.onStream(1, new TrainSample(sizes, recv, send, 0))).as("10 probes < 2·8 − 1").isEmpty();
        assertThat(sp.onStream(1, TrainSample.of(1500, recv, 0))).as("no send times").isEmpty();
        assertThat(sp.estimate(10 * MBPS)).isEmpty();
    }

    @Test
    void anIdlePathIsFullyAvailable() {
        SyntheticPath path = SyntheticPath.builder(10 * MBPS).build();
        SpruceEstimate e = streams(path, 10 * MBPS, 6, 7);
        assertThat(e.availableBps()).isCloseTo(10 * MBPS, within(10 * MBPS / 100));
        assertThat(e.spreadShare()).isLessThan(0.02);
        assertThat(e.streams()).isEqualTo(6);
    }

    /// Goal G1's range: 0–80 % cross traffic, CBR and Poisson, on a FIFO bottleneck, 10
    /// streams (≈ 300 pairs at 10 Mbit/s); error ≤ 5 % of the capacity with CBR, ≤ 8 % with
    /// Poisson (a 40 ms stream holds a Poisson number of cross packets: Spruce's sampling
    /// noise).
    @ParameterizedTest(name = "{0} {1} % at {2} Mbit/s")
    @CsvSource({"CBR, 30, 10, 0.05", "CBR, 60, 10, 0.05", "CBR, 80, 10, 0.05", "CBR, 60, 50, 0.05",
            "POISSON, 30, 10, 0.08", "POISSON, 60, 50, 0.08", "POISSON, 80, 10, 0.08"})
    void fifoBottleneckWithSmoothCrossTraffic(SyntheticPath.CrossKind kind, int pct, long mbps, double tolerance) {
        long c = mbps * MBPS;
        long cross = c * pct / 100;
        SyntheticPath.Builder b = SyntheticPath.builder(c).seed(pct * 7L + mbps);
        if (kind == SyntheticPath.CrossKind.CBR) {
            b.cbrCross(cross, 1242);
        } else {
            b.poissonCross(cross, new int[] {64, 576, 1500}, new double[] {0.5, 0.1, 0.4});
        }
        SyntheticPath path = b.build();
        SpruceEstimate e = streams(path, c, 10, pct);
        double truth = c - cross;
        assertThat((double) e.availableBps()).as("%s", e).isCloseTo(truth, within(tolerance * c));
    }

    /// The reason for streams: a `tbf` (10 Mbit/s, 2 ms of burst, on a 1 Gbit/s line) lets
    /// 30 % and 60 % CBR pass out of its bucket, so ProbeGap's small probes never wait and read
    /// the link as free; a stream paced at the rate drains the bucket and then sees the cross
    /// traffic.
    @ParameterizedTest(name = "tbf 10 Mbit/s, CBR {0} %")
    @CsvSource({"30", "60"})
    void tokenBucketHidesCbrFromProbeGapButNotFromStreams(int pct) {
        long rate = 10 * MBPS;
        long cross = rate * pct / 100;
        SyntheticPath path = SyntheticPath.tokenBucketWithCbr(rate, cross).seed(pct).build();
        AvailableBandwidthEstimator probegap = new AvailableBandwidthEstimator();
        long t = 10 * MS;
        for (int i = 0; i < 2000; i++, t += MS) {
            SyntheticPath.Reply r = path.sendProbegap(t, i, 60);
            probegap.onProbe(r.sequence(), r.sendNs(), r.sinkRecv100ns() * 100, 60, r.recvNs());
        }
        assertThat(probegap.estimate(rate).orElseThrow().availableBps()).as("ProbeGap is blind here")
                .isGreaterThan(rate * 95 / 100);
        SpruceEstimate e = streams(path, rate, 6, pct, t);
        assertThat((double) e.availableBps()).as("%s", e).isCloseTo(rate - cross, within(0.05 * rate));
        assertThat(e.spreadShare()).as("smooth").isLessThan(0.05);
    }

    /// TCP-like on–off cross traffic (bursts of 40 × 1500 B at 1 Gbit/s, 30 % on average):
    /// streams that caught a burst and streams that did not disagree, widening how far
    /// [PathEstimator] lets Spruce and ProbeGap differ before it believes Spruce.
    @Test
    void onOffCrossTrafficMakesStreamsDisagree() {
        long c = 10 * MBPS;
        SyntheticPath path = SyntheticPath.builder(c).burstCross(3 * MBPS, 1500, 40, 1_000 * MBPS).seed(3).build();
        SpruceEstimate e = streams(path, c, 6, 11);
        assertThat(e.spreadShare()).as("%s", e).isGreaterThan(0.15);
        AvailableEstimate pg = new AvailableEstimate(7_000_000, 0.3, 2000, 2 * S, c, 150_000, 0, 0, 0);
        assertThat(PathEstimator.agreeBps(e, pg, c)).isGreaterThan(0.2 * c);
    }

    /// A tail that did not enter the bottleneck `L/C` apart (a stalled sender that sent the
    /// rest in a burst) is left out of the mean.
    @Test
    void streamsOutsideTheGapModelAreLeftOut() {
        long c = 20 * MBPS;
        SpruceEstimator sp = new SpruceEstimator();
        SyntheticPath path = SyntheticPath.builder(c).cbrCross(c * 65 / 100, 1500).seed(8).build();
        SyntheticPath.Train good = path.sendTrain(S, 1500, 66, 600_000);
        assertThat(sp.onStream(good.summaryAtNs(), good.sampleWithSendTimes())).isPresent();
        SyntheticPath.Train burst = path.sendTrain(2 * S, 1500, 41, 5_000);
        SpruceEstimator.Stream b = sp.onStream(burst.summaryAtNs(), burst.sampleWithSendTimes()).orElseThrow();
        assertThat(b.inputBps()).as("sent at line rate").isGreaterThan(1.5 * c);
        assertThat(SpruceEstimator.usable(b, c)).isFalse();
        SpruceEstimate e = sp.estimate(c).orElseThrow();
        assertThat(e.streams()).isEqualTo(1);
        assertThat((double) e.availableBps()).as("%s", e).isCloseTo(0.35 * c, within(0.03 * c));
        SpruceEstimator.Stream slow = new SpruceEstimator.Stream(0, 3, 20, 0.4 * c, 0.25, 0, 40 * MS, 0.01);
        assertThat(SpruceEstimator.usable(slow, c)).as("input at 40 % of the capacity").isFalse();
    }

    /// A tail's error ([SpruceEstimator#fit], Santer et al.'s effective sample size, times
    /// [SpruceEstimator#ERROR_CALIBRATION]) is small for CBR, whose one-way delay climbs a
    /// regular staircase, and large enough for Poisson, whose queue is a random walk: single
    /// 40 ms streams at 10 Mbit/s, 60 % load, actual error against the stated one.
    @ParameterizedTest(name = "{0}")
    @CsvSource({"CBR, 0.02, 0.95", "POISSON, 0.15, 0.75"})
    void aStreamsErrorFitsItsCrossTraffic(SyntheticPath.CrossKind kind, double maxMedianError, double minCovered) {
        long c = 10 * MBPS;
        long cross = c * 60 / 100;
        SyntheticPath.Builder b = SyntheticPath.builder(c).seed(21);
        if (kind == SyntheticPath.CrossKind.CBR) {
            b.cbrCross(cross, 1242);
        } else {
            b.poissonCross(cross, new int[] {64, 576, 1500}, new double[] {0.5, 0.1, 0.4});
        }
        SyntheticPath path = b.build();
        SplittableRandom r = new SplittableRandom(5);
        double[] stated = new double[100];
        int covered = 0;
        long t = 0;
        for (int i = 0; i < stated.length; i++) {
            t += (long) ((0.5 + r.nextDouble()) * S);
            SyntheticPath.Train tr = path.sendTrain(t, 1500, 33, 1_200_000);
            SpruceEstimator.Stream s = SpruceEstimator.analyse(tr.summaryAtNs(), tr.sampleWithSendTimes(), 8)
                    .orElseThrow();
            double actual = Math.abs(s.availableBps(c) - (c - cross)) / c;
            stated[i] = s.slopeError();
            if (actual <= 2 * s.slopeError() + 0.01) {
                covered++;
            }
        }
        Arrays.sort(stated);
        assertThat(stated[stated.length / 2]).isLessThan(maxMedianError);
        assertThat(covered / (double) stated.length).isGreaterThanOrEqualTo(minCovered);
    }

    /// A change of the path between streams (here the load steps from 13 to 19 Mbit/s of CBR
    /// and back on a 20 Mbit/s link, as under a capacity step-down and recovery) ends the
    /// series: the mean is over the streams since the change, not a blend of both paths
    /// (which read 5.3 Mbit/s for 7 free). A stationary series is not cut.
    @Test
    void aChangeOfThePathEndsTheSeriesOfStreamsAveraged() {
        long c = 20 * MBPS;
        SyntheticPath calm = SyntheticPath.builder(c).cbrCross(13 * MBPS, 1242).seed(21).build();
        SyntheticPath loaded = SyntheticPath.builder(c).cbrCross(19 * MBPS, 1242).seed(22).build();
        SpruceEstimator sp = new SpruceEstimator(new SpruceEstimator.Config(8, 60 * S, 8));
        long gap = Math.round(1500 * 8e9 / c);
        int probes = (int) (40 * MS / gap);
        long t = 0;
        for (int i = 0; i < 4; i++, t += 2 * S) {
            sp.onStream(t, calm.sendTrain(t, 1500, probes, gap).sampleWithSendTimes());
        }
        SpruceEstimate stationary = sp.estimate(c).orElseThrow();
        assertThat(stationary.streams()).as("a stationary series is not cut: %s", stationary).isEqualTo(4);
        for (int i = 0; i < 2; i++, t += 2 * S) {
            sp.onStream(t, loaded.sendTrain(t, 1500, probes, gap).sampleWithSendTimes());
        }
        SpruceEstimate during = sp.estimate(c).orElseThrow();
        assertThat(during.streams()).as("%s", during).isEqualTo(2);
        assertThat((double) during.availableBps()).as("%s", during).isCloseTo(1e6, within(0.05 * c));
        sp.onStream(t, calm.sendTrain(t, 1500, probes, gap).sampleWithSendTimes());
        SpruceEstimate after = sp.estimate(c).orElseThrow();
        assertThat(after.streams()).as("%s", after).isEqualTo(1);
        assertThat((double) after.availableBps()).as("%s", after).isCloseTo(7e6, within(0.05 * c));
    }

    @Test
    void theEstimateFollowsTheCapacityAndForgetsOldStreams() {
        SpruceEstimator.Stream s = new SpruceEstimator.Stream(0, 3, 20, 10e6, 0.25, 0, 40 * MS, 0.01);
        assertThat(s.availableBps(10 * MBPS)).isCloseTo(7.5e6, within(1.0));
        assertThat(s.availableBps(40 * MBPS)).as("clamped at 0").isZero();
        SyntheticPath path = SyntheticPath.builder(10 * MBPS).cbrCross(5 * MBPS, 1242).seed(5).build();
        SpruceEstimator sp = new SpruceEstimator(new SpruceEstimator.Config(2, 5 * S, 8));
        long t = 0;
        for (int i = 0; i < 3; i++, t += 2 * S) {
            SyntheticPath.Train tr = path.sendTrain(t, 1500, 25, 1_200_000);
            assertThat(sp.onStream(tr.summaryAtNs(), tr.sampleWithSendTimes())).isPresent();
        }
        assertThat(sp.estimate(10 * MBPS).orElseThrow().streams()).as("ring of 2").isEqualTo(2);
        SyntheticPath.Train late = path.sendTrain(t + 20 * S, 1500, 25, 1_200_000);
        sp.onStream(late.summaryAtNs(), late.sampleWithSendTimes());
        assertThat(sp.estimate(10 * MBPS).orElseThrow().streams()).as("older than 5 s").isEqualTo(1);
        sp.reset();
        assertThat(sp.estimate(10 * MBPS)).isEmpty();
    }

    /// The whole pipeline (planner, streams, probegap, [PathEstimator.AvailableMethod#AUTO])
    /// with an adaptive flow for 3 s on a `tbf`-like bucket with CBR: Spruce's estimate is
    /// reported, close to the truth, while ProbeGap alone reads the link as nearly free.
    @ParameterizedTest(name = "tbf 10 Mbit/s, CBR {0} %")
    @CsvSource({"30", "60"})
    void pipelineReportsSpruceBehindATokenBucket(int pct) {
        long rate = 10 * MBPS;
        long cross = rate * pct / 100;
        SyntheticPath path = SyntheticPath.tokenBucketWithCbr(rate, cross).propagation(MS, MS).seed(pct).build();
        Harness h = new Harness(path);
        h.active = true;
        h.runUntil(3 * S);
        AvailableEstimate e = h.snapshot().available().orElseThrow();
        assertThat(e.method()).as("%s", e).isEqualTo(AvailableEstimate.Method.SPRUCE);
        assertThat((double) e.availableBps()).as("%s", e).isCloseTo(rate - cross, within(0.1 * rate));
        assertThat(h.estimator.probegap().orElseThrow().availableBps()).isGreaterThan(rate - cross / 2);
        assertThat(h.streamsBetween(0, 3 * S)).isBetween(1L, 2L);
        assertThat(h.streams).allSatisfy(x -> assertThat(x).isNotNull());
    }

    /// TCP-like bursts (80 × 1500 B back to back, 30 % on average) on a FIFO: ProbeGap sees
    /// the queues they build and stays the estimate.
    @Test
    void pipelineKeepsProbeGapWithBurstyCrossTraffic() {
        long rate = 10 * MBPS;
        SyntheticPath path = SyntheticPath.builder(rate).burstCross(3 * MBPS, 1500, 80, 1_000 * MBPS)
                .propagation(MS, MS).seed(4).build();
        Harness h = new Harness(path);
        h.active = true;
        h.runUntil(4 * S);
        AvailableEstimate e = h.snapshot().available().orElseThrow();
        assertThat(PathEstimator.burstyQueues(e, rate)).as("%s", e).isTrue();
        assertThat(e.method()).isEqualTo(AvailableEstimate.Method.PROBEGAP);
        double truth = path.availableBetween(h.nowNs - e.windowNs(), h.nowNs);
        assertThat((double) e.availableBps()).as("%s", e).isCloseTo(truth, within(0.15 * truth));
    }

    @Test
    void spruceOverridesOnlyWhenTheLoadsDifferByAFactorBeyondItsNoise() {
        long c = 10 * MBPS;
        AvailableEstimate blind = new AvailableEstimate(9_800_000, 0.02, 2000, 2 * S, c, 150_000, 0, 0, 0);
        SpruceEstimate cbr = new SpruceEstimate(7_000_000, 2, 40, 0.01, 0.01, S, c, 0);
        assertThat(PathEstimator.spruceOverrides(blind, cbr, c)).as("tbf hides CBR from ProbeGap").isTrue();
        AvailableEstimate close = new AvailableEstimate(7_500_000, 0.25, 2000, 2 * S, c, 150_000, 0, 0, 0);
        assertThat(PathEstimator.spruceOverrides(close, cbr, c)).as("they agree").isFalse();
        assertThat(PathEstimator.decide(close, cbr, c)).isEqualTo(PathEstimator.Choice.MEAN);
        SpruceEstimate noisy = new SpruceEstimate(3_000_000, 2, 40, 0.2, 0.7, S, c, 0);
        assertThat(PathEstimator.spruceOverrides(blind, noisy, c)).as("within its noise").isFalse();
        AvailableEstimate bursty = new AvailableEstimate(7_000_000, 0.3, 2000, 2 * S, c, 150_000, 0, 0, 0, 20_000_000,
                AvailableEstimate.Method.PROBEGAP);
        SpruceEstimate missed = new SpruceEstimate(9_900_000, 2, 40, 0.0, 0.005, S, c, 0);
        assertThat(PathEstimator.decide(bursty, missed, c)).as("streams missed the bursts")
                .isEqualTo(PathEstimator.Choice.PROBEGAP);
        AvailableEstimate jitter = new AvailableEstimate(4_000_000, 0.6, 2000, 2 * S, c, 150_000, 0, 0, 0, 500_000,
                AvailableEstimate.Method.PROBEGAP, 0.2);
        assertThat(PathEstimator.spruceOverrides(jitter, missed, c)).as("return trips show timestamp noise").isTrue();
        SpruceEstimate higher = new SpruceEstimate(9_900_000, 1, 30, 0.0, 0.04, S, c, 0);
        AvailableEstimate clean = new AvailableEstimate(8_600_000, 0.14, 2000, 2 * S, c, 150_000, 0, 0, 0, 500_000,
                AvailableEstimate.Method.PROBEGAP, 0.0);
        assertThat(PathEstimator.decide(clean, higher, c))
                .as("2-3 combined errors apart, no sign of noise: ProbeGap's time average")
                .isEqualTo(PathEstimator.Choice.PROBEGAP);
        AvailableEstimate noisy2 = new AvailableEstimate(8_600_000, 0.14, 2000, 2 * S, c, 150_000, 0, 0, 0, 500_000,
                AvailableEstimate.Method.PROBEGAP, 0.2);
        assertThat(PathEstimator.decide(noisy2, higher, c)).as("the same with return-trip noise: ProbeGap's error grows")
                .isEqualTo(PathEstimator.Choice.MEAN);
        assertThat(PathEstimator.spruceWeight(higher, noisy2)).isGreaterThan(0.9);
        AvailableEstimate far = new AvailableEstimate(4_000_000, 0.6, 2000, 2 * S, c, 150_000, 0, 0, 0, 500_000,
                AvailableEstimate.Method.PROBEGAP, 0.0);
        assertThat(PathEstimator.decide(far, missed, c))
                .as("beyond three combined errors and a factor in the load: noise the return trips did not show")
                .isEqualTo(PathEstimator.Choice.SPRUCE);
    }

    private static SpruceEstimate streams(SyntheticPath path, long capacityBps, int count, long seed) {
        return streams(path, capacityBps, count, seed, 0);
    }

    /// `count` streams of 40 ms paced at `capacityBps` (1500 B probes), at random times
    /// 0.5–1.5 s apart from `fromNs`, fed to a fresh estimator that keeps them all.
    private static SpruceEstimate streams(SyntheticPath path, long capacityBps, int count, long seed, long fromNs) {
        SplittableRandom r = new SplittableRandom(seed);
        SpruceEstimator sp = new SpruceEstimator(new SpruceEstimator.Config(count, 60 * S, 8));
        long gap = Math.round(1500 * 8e9 / capacityBps);
        int probes = (int) Math.max(16, 40 * MS / gap);
        long t = fromNs + 100 * MS;
        for (int i = 0; i < count; i++) {
            t += (long) ((0.5 + r.nextDouble()) * S);
            SyntheticPath.Train tr = path.sendTrain(t, 1500, probes, gap);
            assertThat(tr.complete()).isTrue();
            sp.onStream(tr.summaryAtNs(), tr.sampleWithSendTimes());
        }
        return sp.estimate(capacityBps).orElseThrow();
    }
}
