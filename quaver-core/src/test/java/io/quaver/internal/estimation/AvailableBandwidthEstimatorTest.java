package io.quaver.internal.estimation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/// ProbeGap available bandwidth, goal G1: ≤ 5 % median and ≤ 15 % p95 error with 0–80 %
/// cross traffic.
class AvailableBandwidthEstimatorTest {
    private static final long MS = 1_000_000L;
    private static final long MBPS = 1_000_000L;

    @Test
    void floorLineIsTheLowerHullEdgeUnderTheMeanTime() {
        // points on o = 5 + 0.001·t (a 1000 ppm drift), with some lifted by queueing
        SplittableRandom r = new SplittableRandom(1);
        int n = 1000;
        double[] t = new double[n];
        double[] o = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = i * 1000.0;
            o[i] = 5 + 0.001 * t[i] + (r.nextDouble() < 0.6 ? r.nextDouble() * 500 : 0);
        }
        double[] line = AvailableBandwidthEstimator.floorLine(t, o, n);
        assertThat(line[1]).isCloseTo(0.001, within(1e-9));
        assertThat(line[0]).isCloseTo(5, within(1e-6));
        for (int i = 0; i < n; i++) {
            assertThat(o[i] - (line[0] + line[1] * t[i])).isGreaterThanOrEqualTo(-1e-6);
        }
    }

    @Test
    void needsACapacityAndEnoughProbes() {
        AvailableBandwidthEstimator a = new AvailableBandwidthEstimator();
        assertThat(a.estimate(10 * MBPS)).isEmpty();
        for (int i = 0; i < 49; i++) {
            a.onProbe(i, i * MS, 1000 + i * MS, 60, i * MS + 2 * MS);
        }
        assertThat(a.estimate(10 * MBPS)).isEmpty();
        a.onProbe(49, 49 * MS, 1000 + 49 * MS, 60, 51 * MS);
        assertThat(a.estimate(0)).isEmpty();
        AvailableEstimate e = a.estimate(10 * MBPS).orElseThrow();
        assertThat(e.availableBps()).isEqualTo(10 * MBPS);
        assertThat(e.utilisation()).isZero();
    }

    /// After a train's exclusion window, the cross traffic that queued behind the train drains:
    /// probes see a queue shrinking to nothing. They are skipped up to the first probe that
    /// finds the link idle, so an idle path reads idle; on a path that stays busy, skipping
    /// stops [AvailableBandwidthEstimator#MAX_DRAIN_NS] after the window.
    @Test
    void theDrainAfterATrainIsSkippedUpToTheFirstIdleProbe() {
        AvailableBandwidthEstimator a = new AvailableBandwidthEstimator();
        // 1 s of probes 1 ms apart; a train crossed in [200, 230] ms and left a 60 ms drain
        // (queueing delay falling from 3 ms to 0 over [230, 290] ms)
        long seq = 0;
        for (int i = 0; i < 1000; i++) {
            long send = i * MS;
            if (send >= 200 * MS && send <= 230 * MS) {
                continue; // the prober sends none while a train crosses
            }
            long queued = send > 230 * MS && send < 290 * MS ? (290 * MS - send) / 20 : 0;
            a.onProbe(seq++, send, 5 * MS + send + queued, 60, send + 10 * MS);
        }
        assertThat(a.estimate(10 * MBPS).orElseThrow().utilisation()).as("before the window is known")
                .isGreaterThan(0.05);
        a.excludeSendWindow(198 * MS, 232 * MS);
        AvailableEstimate e = a.estimate(10 * MBPS).orElseThrow();
        assertThat(e.utilisation()).as("%s", e).isLessThan(0.005);
        assertThat(e.samples()).as("969 sent, 4 in the window, 57 in the drain").isEqualTo(908);

        // the link saturates at 500 ms and stays so: no probe finds it idle after the train's
        // window [900, 940] ms, and the drain gives up MAX_DRAIN_NS after it
        AvailableBandwidthEstimator busy = new AvailableBandwidthEstimator();
        for (int i = 0; i < 2000; i++) {
            long send = i * MS;
            long queued = i < 500 ? 0 : 2 * MS + (i % 7) * 100_000L;
            busy.onProbe(i, send, 5 * MS + send + queued, 60, send + 10 * MS);
        }
        busy.excludeSendWindow(900 * MS, 940 * MS);
        AvailableEstimate b = busy.estimate(10 * MBPS).orElseThrow();
        assertThat(b.samples()).as("2000 sent, 41 in the window, 1000 in the drain: %s", b).isEqualTo(959);
        assertThat(b.utilisation()).as("the 459 busy probes still count: %s", b).isGreaterThan(459 / 959.0 - 0.01);
    }

    /// Return trips whose delay stands above their floor show timestamp noise; ProbeGap
    /// reports how often ([AvailableEstimate#reverseNoiseShare()]), drift removed.
    @Test
    void returnTripNoiseIsMeasuredAboveItsDriftingFloor() {
        AvailableBandwidthEstimator a = new AvailableBandwidthEstimator();
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < 1000; i++) {
            long send = i * MS;
            long late = i % 4 == 0 ? 100_000 + r.nextLong(200_000) : r.nextLong(1_000);
            long reverse = 7 * MS + send / 10_000 + late; // 100 ppm drift
            a.onProbe(i, send, 5 * MS + send, reverse, 60, send + 20 * MS);
        }
        AvailableEstimate e = a.estimate(10 * MBPS).orElseThrow();
        assertThat(e.reverseNoiseShare()).as("%s", e).isCloseTo(0.25, within(0.01));
        assertThat(e.utilisation()).as("the way out was clean").isLessThan(0.01);
        AvailableBandwidthEstimator none = new AvailableBandwidthEstimator();
        for (int i = 0; i < 100; i++) {
            none.onProbe(i, i * MS, 5 * MS + i * MS, 60, i * MS + 20 * MS);
        }
        assertThat(none.estimate(10 * MBPS).orElseThrow().reverseNoiseShare()).as("no return trips known").isZero();
    }

    @Test
    void lostProbesCountAsBusyAndDuplicatesOnce() {
        AvailableBandwidthEstimator a = new AvailableBandwidthEstimator();
        for (int i = 0; i <= 100; i++) {
            if (i % 4 == 3) {
                continue; // a quarter lost
            }
            a.onProbe(i, i * MS, 77 + i * MS, 1, i * MS + 5 * MS);
            if (i % 10 == 0) {
                a.onProbe(i, i * MS, 77 + i * MS, 1, i * MS + 5 * MS); // duplicated in the network
            }
        }
        AvailableEstimate e = a.estimate(8 * MBPS).orElseThrow();
        assertThat(e.lostProbes()).isEqualTo(25);
        assertThat(e.samples()).isEqualTo(76);
        // 76 of 101 probes saw an idle link (1-byte probes: their own load is negligible)
        assertThat((double) e.availableBps()).isCloseTo(8e6 * 76 / 101, within(8e6 * 0.002));
    }

    @Test
    void probesDuringATrainAreExcluded() {
        AvailableBandwidthEstimator a = new AvailableBandwidthEstimator();
        for (int i = 0; i < 200; i++) {
            long queued = i >= 100 && i < 150 ? 3 * MS : 0; // a train's queue
            a.onProbe(i, i * MS, 5 + i * MS + queued, 1, i * MS + 5 * MS);
        }
        assertThat(a.estimate(10 * MBPS).orElseThrow().utilisation()).isCloseTo(0.25, within(1e-3));
        a.excludeSendWindow(100 * MS, 149 * MS);
        AvailableEstimate e = a.estimate(10 * MBPS).orElseThrow();
        assertThat(e.utilisation()).isZero();
        assertThat(e.samples()).isEqualTo(150);
        assertThat(e.lostProbes()).as("excluded probes are not lost ones").isZero();
    }

    @Test
    void reorderedRepliesGiveTheSameEstimate() {
        SyntheticPath p = SyntheticPath.builder(10 * MBPS).poissonCross(5 * MBPS, new int[] {1500}, new double[] {1})
                .seed(21).build();
        List<SyntheticPath.Reply> replies = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(21);
        long t = 0;
        for (long seq = 0; t < 2_000 * MS; seq++) {
            replies.add(p.sendProbegap(t, seq, 60));
            t += (long) (MS * (0.75 + 0.5 * r.nextDouble()));
        }
        AvailableBandwidthEstimator inOrder = new AvailableBandwidthEstimator();
        replies.forEach(x -> inOrder.onProbe(x.sequence(), x.sendNs(), x.sinkRecv100ns() * 100, 60, x.recvNs()));
        List<SyntheticPath.Reply> shuffled = new ArrayList<>(replies);
        java.util.Collections.shuffle(shuffled, new java.util.Random(21));
        AvailableBandwidthEstimator reordered = new AvailableBandwidthEstimator();
        shuffled.forEach(x -> reordered.onProbe(x.sequence(), x.sendNs(), x.sinkRecv100ns() * 100, 60, x.recvNs()));
        assertThat(reordered.estimate(10 * MBPS).orElseThrow().availableBps())
                .isEqualTo(inOrder.estimate(10 * MBPS).orElseThrow().availableBps());
        assertThat((double) inOrder.estimate(10 * MBPS).orElseThrow().availableBps())
                .isCloseTo(p.availableBetween(0, t), org.assertj.core.data.Percentage.withPercentage(10));
    }

    @Test
    void idlePathWithDriftingSinkClockIsAllAvailable() {
        SyntheticPath p = SyntheticPath.builder(20 * MBPS).sinkClock(-5_000_000_000_000L, 100.0).stampJitter(300)
                .seed(2).build();
        AvailableBandwidthEstimator a = new AvailableBandwidthEstimator();
        SplittableRandom r = new SplittableRandom(2);
        long t = 0;
        for (long seq = 0; t < 3_000 * MS; seq++) {
            SyntheticPath.Reply rep = p.sendProbegap(t, seq, 60);
            a.onProbe(seq, rep.sendNs(), rep.sinkRecv100ns() * 100, 60, rep.recvNs());
            t += (long) (MS * (0.5 + r.nextDouble()));
        }
        AvailableEstimate e = a.estimate(20 * MBPS).orElseThrow();
        assertThat(e.skewPpm()).isCloseTo(100, within(1.0));
        assertThat(e.utilisation()).as("%s", e).isLessThan(0.01);
    }

    /// G1 on the whole pipeline (planner, trains, probegap, estimator) with an adaptive flow
    /// active, over many seeds: error of the available estimate against the true available
    /// bandwidth (capacity minus the cross traffic actually offered in the estimate's window).
    @ParameterizedTest(name = "{0} Mbit/s {1}")
    @CsvSource({"10,CBR", "10,POISSON", "50,CBR", "50,POISSON"})
    void availableBandwidthMeetsG1(long mbps, SyntheticPath.CrossKind kind) {
        long cap = mbps * MBPS;
        StringBuilder report = new StringBuilder();
        List<Double> all = new ArrayList<>();
        List<Stats> perLoad = new ArrayList<>();
        double worst = 0;
        String worstCase = "";
        for (int load : new int[] {0, 30, 60, 80}) {
            List<Double> errors = new ArrayList<>();
            List<Long> failedSeeds = new ArrayList<>();
            for (long seed = 1; seed <= 12; seed++) {
                SyntheticPath.Builder b = SyntheticPath.builder(cap).propagation(10 * MS, 10 * MS).stampJitter(300)
                        .sinkClock(seed * 1_234_567_890_123L, 30.0 - 5 * seed).seed(seed * 1000 + load);
                long cross = cap * load / 100;
                if (load > 0) {
                    b = kind == SyntheticPath.CrossKind.CBR ? b.cbrCross(cross, 1500)
                            : b.poissonCross(cross, new int[] {64, 576, 1500}, new double[] {0.5, 0.2, 0.3});
                }
                Harness h = new Harness(b.build());
                h.active = true;
                h.runUntil(3_000 * MS);
                AvailableEstimate e = h.snapshot().available().orElse(null);
                if (e == null) {
                    failedSeeds.add(seed);
                    continue;
                }
                long end = h.nowNs;
                double truth = h.path.availableBetween(end - e.windowNs() - 20 * MS, end - 20 * MS);
                double err = (e.availableBps() - truth) / truth;
                errors.add(err);
                all.add(err);
                if (Math.abs(err) > Math.abs(worst)) {
                    worst = err;
                    worstCase = String.format("load %d%% seed %d: %+.2f%%", load, seed, err * 100);
                }
            }
            Stats s = Stats.ofAbs(errors);
            report.append(String.format("%n  load %d%%: %s", load, s));
            assertThat(failedSeeds).as("seeds without an estimate").isEmpty();
            perLoad.add(s);
        }
        Stats total = Stats.ofAbs(all);
        String msg = String.format("%d Mbit/s %s: overall %s; worst %s%s", mbps, kind, total, worstCase, report);
        System.out.println("G1 " + msg);
        assertThat(total.median()).as(msg).isLessThanOrEqualTo(0.05);
        assertThat(total.p95()).as(msg).isLessThanOrEqualTo(0.15);
        assertThat(perLoad).as(msg).allSatisfy(s -> assertThat(s.p95()).isLessThanOrEqualTo(0.15));
    }
}
