package io.quaver.internal.estimation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/// The planner in virtual time, goal G6: first measurement ≤ 64 KB + R·50 ms, steady tracking
/// ≤ 1 % of the capacity, continuous probegap only while an adaptive flow is active.
class ProbePlannerTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;
    private static final long MBPS = 1_000_000L;

    @ParameterizedTest(name = "{0} Mbit/s")
    @ValueSource(longs = {1, 10, 100, 1000})
    void firstMeasurementStaysWithinBudgetAndGivesEveryEstimate(long mbps) {
        long cap = mbps * MBPS;
        SyntheticPath p = SyntheticPath.builder(cap).propagation(5 * MS, 5 * MS).seed(mbps).build();
        Harness h = new Harness(p).runUntil(1_000 * MS);
        long budget = 64 * 1024 + cap / 8 * 50 / 1000;
        long firstBytes = h.bytesBetween(0, 1_000 * MS);
        System.out.printf("G6 %d Mbit/s: first measurement %d B of %d B budget, %d trains, %d probegap; %s%n", mbps,
                firstBytes, budget, h.trainsBetween(0, 1_000 * MS), h.probegapsBetween(0, 1_000 * MS), h.analyses);
        assertThat(firstBytes).isLessThanOrEqualTo(budget);
        assertThat(h.planner.fastPhaseBytes()).isLessThanOrEqualTo(budget);
        PathSnapshot s = h.snapshot();
        assertThat((double) s.bottleneckBps().orElseThrow()).isCloseTo(cap, org.assertj.core.data.Percentage.withPercentage(2));
        assertThat(s.rttUs()).isPresent();
        if (mbps >= 10) {
            assertThat(s.availableBps()).as("G4: available within the fast phase").isPresent();
        }
    }

    /// G4: every estimate (bottleneck, available, RTT) within 250 ms + 1 RTT of the start.
    @ParameterizedTest(name = "{0} Mbit/s")
    @ValueSource(longs = {10, 100, 1000})
    void everyEstimateWithin250MillisecondsPlusOneRtt(long mbps) {
        for (long rttMs : new long[] {2, 20, 100}) {
            SyntheticPath p = SyntheticPath.builder(mbps * MBPS).propagation(rttMs * MS / 2, rttMs * MS / 2)
                    .seed(mbps + rttMs).build();
            Harness h = new Harness(p);
            h.active = true;
            long step = MS;
            while (!h.snapshot().allNewerThan(0) && h.nowNs < 2 * S) {
                h.runUntil(h.nowNs + step);
            }
            long firstNs = h.nowNs;
            System.out.printf("G4 %d Mbit/s, RTT %d ms: all estimates after %d ms%n", mbps, rttMs, firstNs / MS);
            assertThat(firstNs).as("%d Mbit/s, RTT %d ms", mbps, rttMs).isLessThanOrEqualTo(250 * MS + rttMs * MS);
        }
    }

    /// G4 on a slow path behind a shallow queue (`tbf … latency 50ms` at 2 Mbit/s holds about
    /// 15 KB): the first train fits it, and every estimate comes within 250 ms + 1 RTT.
    @ParameterizedTest(name = "RTT {0} ms")
    @ValueSource(longs = {2, 20})
    void aShallowQueueAtTwoMegabitsStillGivesAFastFirstEstimate(long rttMs) {
        SyntheticPath p = SyntheticPath.builder(2 * MBPS).buffer(15_000).propagation(rttMs * MS / 2, rttMs * MS / 2)
                .seed(7 + rttMs).build();
        Harness h = new Harness(p);
        h.active = true;
        while (!h.snapshot().allNewerThan(0) && h.nowNs < 3 * S) {
            h.runUntil(h.nowNs + MS);
        }
        assertThat(h.nowNs).as("all estimates at 2 Mbit/s, RTT %d ms", rttMs).isLessThanOrEqualTo(250 * MS + rttMs * MS);
        assertThat(h.snapshot().bottleneckBps().getAsLong()).isBetween(2 * MBPS * 9 / 10, 2 * MBPS * 11 / 10);
    }

    /// A lost train (the sink never sent its summary: a queue dropped its tail) is followed at
    /// once by a quarter-size one, and no later train of the phase grows past half the lost one.
    @Test
    void aLostTrainIsRetriedSmallerAtOnce() {
        ProbePlanner planner = new ProbePlanner();
        ProbeAction.SendTrain first = (ProbeAction.SendTrain) planner.nextAction(0,
                new PlannerState(false, PathSnapshot.none(0)));
        assertThat(first.bytes()).isLessThanOrEqualTo(12_000);
        assertThat(first.count()).isEqualTo(20);
        planner.onTrainResult(300 * MS, false);
        ProbeAction.SendTrain retry = null;
        for (long now = 300 * MS; retry == null && now < 400 * MS; now += MS) {
            if (planner.nextAction(now, new PlannerState(false, PathSnapshot.none(now))) instanceof ProbeAction.SendTrain t) {
                retry = t;
                assertThat(now).as("retried at once").isLessThan(301 * MS);
            }
        }
        assertThat(retry).isNotNull();
        assertThat(retry.bytes()).isLessThanOrEqualTo(first.bytes() / 4);
        // its result arrives (an estimate): the next train grows, but to at most half the lost one
        BottleneckEstimate b = new BottleneckEstimate(2 * MBPS, 2 * MBPS, -1, false, 0, 1, 1, retry.bytes(), false,
                350 * MS, false);
        PathSnapshot known = new PathSnapshot(Optional.of(b), Optional.empty(), Optional.empty(), 350 * MS);
        planner.onTrainResult(350 * MS, true);
        ProbeAction.SendTrain next = null;
        for (long now = 350 * MS; next == null && now < 500 * MS; now += MS) {
            if (planner.nextAction(now, new PlannerState(false, known)) instanceof ProbeAction.SendTrain t) {
                next = t;
            }
        }
        assertThat(next).isNotNull();
        assertThat(next.bytes()).isLessThanOrEqualTo(first.bytes() / 2);
    }

    @Test
    void firstTrainWithoutAnyEstimateIsAtMost64KB() {
        ProbePlanner planner = new ProbePlanner();
        ProbeAction a = planner.nextAction(123, new PlannerState(false, PathSnapshot.none(123)));
        assertThat(a).isInstanceOf(ProbeAction.SendTrain.class);
        assertThat(((ProbeAction.SendTrain) a).bytes()).isLessThanOrEqualTo(64 * 1024);
        // nothing else before its result, except probegap
        for (int i = 0; i < 50; i++) {
            ProbeAction b = planner.nextAction(123 + i * MS, new PlannerState(false, PathSnapshot.none(123 + i * MS)));
            assertThat(b).isNotInstanceOf(ProbeAction.SendTrain.class);
        }
    }

    @ParameterizedTest(name = "{0} Mbit/s")
    @ValueSource(longs = {1, 10, 100, 1000})
    void steadyTrackingLoadIsAtMostOnePercent(long mbps) {
        long cap = mbps * MBPS;
        SyntheticPath p = SyntheticPath.builder(cap).propagation(5 * MS, 5 * MS).seed(mbps + 7).build();
        Harness h = new Harness(p).runUntil(130 * S);
        double worst = 0;
        for (long from = 2 * S; from + 10 * S <= 130 * S; from += 500 * MS) {
            double share = h.bytesBetween(from, from + 10 * S) * 8.0 / (cap * 10.0);
            worst = Math.max(worst, share);
        }
        System.out.printf("G6 %d Mbit/s: steady tracking, worst 10 s window %.3f%% of capacity%n", mbps, worst * 100);
        assertThat(worst).isLessThanOrEqualTo(0.01);
        assertThat(h.trainsBetween(2 * S, 130 * S)).as("upkeep keeps measuring").isGreaterThanOrEqualTo(1);
        assertThat(h.snapshot().bottleneckAtNs()).isGreaterThan(2 * S);
    }

    /// G6 behind a token bucket (the benchmark's large-burst rows): 3 s with an adaptive
    /// flow, then steady tracking. Once the sustained rate R is known, no train is sized from
    /// the line rate the burst showed, and bytes passing within the burst allowance count like
    /// any other: a train that outlasts a 256 KB bucket costs more than G6 allows below
    /// ~40 Mbit/s (1 s re-probe: 5 % of R·1 s; 10 s: 1 % of R·10 s), so the bucket is not
    /// re-drained to confirm B̂ there. Once the flow is gone every 10 s window stays within 1 %
    /// of R; from the result that showed the bucket (R known) the trains of any 1 s stay within
    /// 5 % (a re-probe); the estimate never reports more than 1.10 R unflagged (G3).
    @ParameterizedTest(name = "tbf {0} Mbit/s, 256 KB")
    @ValueSource(longs = {2, 10, 50})
    void steadyLoadBehindATokenBucketStaysWithinOnePercent(long mbps) {
        long r = mbps * MBPS;
        for (long seed = 1; seed <= 3; seed++) {
            SyntheticPath p = SyntheticPath.builder(10_000 * MBPS).tokenBucket(r, 256 * 1024)
                    .senderLine(1_500 * MBPS).senderBuffer(135_000).propagation(50_000, 50_000).seed(seed).build();
            Harness h = new Harness(p);
            h.active = true;
            h.runUntil(3 * S);
            h.active = false;
            h.runUntil(60 * S);
            int knee = 0;
            while (knee < h.analyses.size() && !h.analyses.get(knee).kneeSeen()) {
                knee++;
            }
            assertThat(knee).as("a train found the bucket: %s", h.analyses).isLessThan(h.analyses.size());
            long known = h.analysedAtNs.get(knee); // R is known from here: any later train re-probes
            double worst10 = 0;
            for (long from = 3 * S; from + 10 * S <= 60 * S; from += 100 * MS) {
                worst10 = Math.max(worst10, h.bytesBetween(from, from + 10 * S) * 8.0 / (r * 10.0));
            }
            double worst1 = 0;
            for (long from = known; from + S <= 60 * S; from += 50 * MS) {
                long f = from;
                long trainBytes = h.sent.stream().filter(x -> x.train() && !x.stream() && x.atNs() >= f
                        && x.atNs() < f + S).mapToLong(Harness.Sent::bytes).sum();
                worst1 = Math.max(worst1, trainBytes * 8.0 / r);
            }
            BottleneckEstimate e = h.snapshot().bottleneck().orElseThrow();
            String why = "seed " + seed + ": " + e + ", worst 10 s " + worst10 + ", worst 1 s " + worst1;
            System.out.printf("G6 tbf %d Mbit/s 256 KB seed %d: worst 10 s window %.3f%%, worst 1 s %.3f%%; %s%n",
                    mbps, seed, 100 * worst10, 100 * worst1, e);
            assertThat(worst10).as(why).isLessThanOrEqualTo(0.01);
            assertThat(worst1).as(why).isLessThanOrEqualTo(0.05);
            if (e.rateBps() > 1.10 * r) {
                assertThat(e.burstDetected() || e.lowerBound()).as(why).isTrue();
            }
        }
    }

    /// A 2 Mbit/s bucket of 256 KB whose shaper queue (100 KB) drops the fast phase's 480 KB
    /// train: the estimate stays a flagged lower bound at the sender's pace. No paced stream is
    /// sized from it (it was 40 ms at ~1 Gbit/s: 5.5 MB on the test bed), and no probegap probe
    /// shares the shaper with a train longer than any that passed unslowed until that train's
    /// result (or loss) is known.
    @Test
    void whileTheBottleneckIsALowerBoundNoStreamGoesOutAndProbegapWaitsForALongTrain() {
        long r = 2 * MBPS;
        SyntheticPath p = SyntheticPath.builder(10_000 * MBPS).tokenBucket(r, 256 * 1024).senderLine(1_500 * MBPS)
                .buffer(100_000).propagation(50_000, 50_000).seed(3).build();
        Harness h = new Harness(p);
        h.active = true;
        h.runUntil(5 * S);
        BottleneckEstimate e = h.snapshot().bottleneck().orElseThrow();
        assertThat(e.lowerBound()).as("%s", e).isTrue();
        assertThat(h.streamsBetween(0, 5 * S)).as("%s", h.sent).isZero();
        List<Harness.Sent> trains = h.sent.stream().filter(x -> x.train() && x.bytes() > 130_000).toList();
        assertThat(trains).as("%s", h.sent).isNotEmpty();
        for (Harness.Sent t : trains) {
            long until = t.atNs() + Harness.LOST_AFTER_NS;
            assertThat(h.probegapsBetween(t.atNs() + 1, until)).as("probegap while %s was out", t).isZero();
        }
    }

    /// The prober reports a train's outcome after closing its session; on a loaded host that
    /// can come after the estimate it fed already let the next train go. That late outcome is
    /// the earlier train's: the planner still waits for the newer train's result (or timeout)
    /// before the next one, which would otherwise be queued behind it (recorded behind a
    /// 2 Mbit/s bucket: a 480 KB train sent 50 ms after a 231 KB one, lost).
    @Test
    void aLateOutcomeOfTheTrainBeforeIsNotTheNewerTrainsResult() {
        ProbePlanner planner = new ProbePlanner();
        long now = 0;
        assertThat(nextTrain(planner, now, PathSnapshot.none(now), 100 * MS)).isNotNull(); // train 1
        // train 1's summary fed the estimator at 100 ms: a lower bound at the sender's pace
        BottleneckEstimate e = new BottleneckEstimate(1_000_000_000L, 1_000_000_000L, -1, false, 0, 0.5, 1, 12_000,
                false, 100 * MS, true);
        PathSnapshot seen = new PathSnapshot(Optional.of(e), Optional.empty(), Optional.empty(), 100 * MS);
        ProbeAction.SendTrain second = nextTrain(planner, 100 * MS, seen, 200 * MS);
        assertThat(second).as("train 2 follows train 1's estimate").isNotNull();
        planner.onTrainResult(140 * MS, true); // train 1's outcome, late
        assertThat(nextTrain(planner, 141 * MS, seen, 1_000 * MS)).as("no train 3 before train 2's result")
                .isNull();
        planner.onTrainResult(1_000 * MS, true); // train 2's
        assertThat(nextTrain(planner, 1_000 * MS, seen, 1_100 * MS)).as("then train 3").isNotNull();
    }

    /// The first back-to-back train the planner asks for in `[fromNs, toNs)`, or `null`.
    private static ProbeAction.SendTrain nextTrain(ProbePlanner planner, long fromNs, PathSnapshot path, long toNs) {
        long now = fromNs;
        while (now < toNs) {
            ProbeAction a = planner.nextAction(now, new PlannerState(true, path));
            if (a instanceof ProbeAction.SendTrain t && !t.paced()) {
                return t;
            }
            now = a instanceof ProbeAction.Idle idle ? Math.max(now + 1, idle.untilNs()) : now + 1;
        }
        return null;
    }

    @Test
    void probegapRunsContinuouslyOnlyWhileAnAdaptiveFlowIsActive() {
        long cap = 100 * MBPS;
        SyntheticPath p = SyntheticPath.builder(cap).seed(11).build();
        Harness h = new Harness(p).runUntil(20 * S);
        long idleProbes = h.probegapsBetween(1 * S, 20 * S);
        h.active = true;
        h.runUntil(30 * S);
        long activeProbes = h.probegapsBetween(20 * S, 30 * S);
        h.active = false;
        h.runUntil(50 * S);
        long afterProbes = h.probegapsBetween(30 * S + 100 * MS, 50 * S);
        // tracking only: sparse bursts (≤ 5 per second, none between bursts)
        assertThat(idleProbes).isLessThanOrEqualTo(19 * 5);
        assertThat(maxProbesInAnyWindow(h, 1 * S, 20 * S, 100 * MS)).isLessThanOrEqualTo(5);
        // active: qWAVE's 1 ms cadence (dithered)
        assertThat(activeProbes).isBetween(9_000L, 11_000L);
        // gaps only while a train crosses the bottleneck (a fast phase starts on activation)
        assertThat(gapQuantile(h, 20 * S, 30 * S, 0.99)).isLessThanOrEqualTo(2 * MS);
        assertThat(gapQuantile(h, 20 * S, 30 * S, 1.0)).isLessThanOrEqualTo(50 * MS);
        assertThat(afterProbes).isLessThanOrEqualTo(20 * 5);
        System.out.printf("probegap per second: tracking %.1f, active %.1f, after %.1f%n", idleProbes / 19.0,
                activeProbes / 10.0, afterProbes / 19.9);
    }

    @Test
    void activeProbegapStaysWithinFivePercentOnSlowPaths() {
        long cap = 2 * MBPS;
        SyntheticPath p = SyntheticPath.builder(cap).seed(12).build();
        Harness h = new Harness(p).runUntil(5 * S);
        h.active = true;
        h.runUntil(25 * S);
        long probeBytes = h.sent.stream().filter(x -> !x.train() && x.atNs() >= 6 * S && x.atNs() < 25 * S)
                .mapToLong(Harness.Sent::bytes).sum();
        double share = probeBytes * 8.0 / (cap * 19.0);
        assertThat(share).isBetween(0.04, 0.055);
        assertThat(h.snapshot().availableBps()).isPresent();
    }

    /// A drained queue (the congestion detector says so) brings the next paced stream forward,
    /// so that Available is decided on a reading taken after the congestion, but never within
    /// a second of the previous stream (G6: any re-probe ≤ 5 % over 1 s); the usual spacing
    /// resumes afterwards, and in upkeep the request is dropped.
    @Test
    void aDrainedQueueBringsTheNextStreamForwardButNotWithinASecondOfTheLast() {
        long cap = 20 * MBPS;
        SyntheticPath p = SyntheticPath.builder(cap).seed(15).build();
        Harness h = new Harness(p);
        h.active = true;
        h.runUntil(10 * S);
        List<Long> before = streamTimes(h, 0, 10 * S);
        assertThat(before).hasSizeGreaterThanOrEqualTo(3);
        long usual = before.get(before.size() - 1) - before.get(before.size() - 2);
        assertThat(usual).as("the usual spacing while active at 20 Mbit/s").isGreaterThanOrEqualTo(1_900 * MS);
        long last = before.get(before.size() - 1);
        // asked 100 ms after a stream: the next one waits for the 1 s minimum
        h.runUntil(last + 100 * MS);
        h.planner.requestStream(h.nowNs);
        h.runUntil(last + 3 * S);
        List<Long> after = streamTimes(h, last + 1, last + 3 * S);
        assertThat(after).isNotEmpty();
        // (not before 1 s; the spacing from a train may add a little, the usual spacing is ~2 s)
        assertThat(after.get(0) - last).as("the stream asked for").isBetween(1_000 * MS, 1_200 * MS);
        // asked 1.5 s after a stream: it leaves at once (within a probegap period)
        long second = after.get(0);
        h.runUntil(second + 1_500 * MS);
        long asked = h.nowNs;
        h.planner.requestStream(asked);
        h.runUntil(asked + 500 * MS);
        List<Long> next = streamTimes(h, second + 1, asked + 500 * MS);
        assertThat(next).isNotEmpty();
        assertThat(next.get(0) - asked).isLessThanOrEqualTo(10 * MS);
        // then the usual spacing again
        h.runUntil(next.get(0) + 5 * S);
        List<Long> later = streamTimes(h, next.get(0) + 1, next.get(0) + 5 * S);
        assertThat(later).isNotEmpty();
        assertThat(later.get(0) - next.get(0)).isGreaterThanOrEqualTo(1_900 * MS);
        // in upkeep a request is dropped
        h.active = false;
        h.runUntil(h.nowNs + 30 * S);
        long upkeepLast = streamTimes(h, 0, h.nowNs).getLast();
        h.planner.requestStream(h.nowNs);
        long askedInUpkeep = h.nowNs;
        h.runUntil(askedInUpkeep + 3 * S);
        assertThat(streamTimes(h, askedInUpkeep, askedInUpkeep + 3 * S)).as("streams after a request in upkeep")
                .allMatch(t -> t - upkeepLast >= 12 * S);
    }

    private static List<Long> streamTimes(Harness h, long fromNs, long toNs) {
        return h.sent.stream().filter(x -> x.stream() && x.atNs() >= fromNs && x.atNs() < toNs)
                .map(Harness.Sent::atNs).toList();
    }

    @Test
    void anAdaptiveFlowOnAStalePathStartsAFreshMeasurement() {
        SyntheticPath p = SyntheticPath.builder(10 * MBPS).seed(13).build();
        Harness h = new Harness(p).runUntil(8 * S);
        long before = h.trainsBetween(0, 8 * S);
        h.active = true;
        h.runUntil(9 * S);
        assertThat(h.trainsBetween(8 * S, 9 * S)).as("fast phase again").isGreaterThanOrEqualTo(2);
        assertThat(before).isEqualTo(3);
    }

    @Test
    void requestFreshRunsAnotherFastPhase() {
        SyntheticPath p = SyntheticPath.builder(10 * MBPS).seed(14).build();
        Harness h = new Harness(p).runUntil(3 * S);
        h.planner.requestFresh(h.nowNs);
        h.runUntil(4 * S);
        assertThat(h.trainsBetween(3 * S, 4 * S)).isGreaterThanOrEqualTo(2);
        assertThat(h.snapshot().bottleneckAtNs()).isGreaterThan(3 * S);
    }

    @Test
    void trainsSpanSixteenCoalescingPeriods() {
        BottleneckEstimate b = new BottleneckEstimate(1_000 * MBPS, 1_000 * MBPS, -1, true, 125_000, 1, 3, 30_000,
                false, 0, false);
        PathSnapshot path = new PathSnapshot(Optional.of(b), Optional.empty(), Optional.empty(), 0);
        ProbePlanner planner = new ProbePlanner();
        planner.requestFresh(0);
        ProbeAction.SendTrain t = (ProbeAction.SendTrain) planner.nextAction(0, new PlannerState(false, path));
        // 16 × 125 µs at 1 Gbit/s = 250 KB
        assertThat(t.bytes()).isGreaterThanOrEqualTo(249_000);
    }

    @Test
    void slowPathsGetSmallerProbesRatherThanTooShortTrains() {
        BottleneckEstimate b = new BottleneckEstimate(64_000, 64_000, -1, false, 0, 1, 3, 30_000, false, 0, false);
        PathSnapshot path = new PathSnapshot(Optional.of(b), Optional.empty(), Optional.empty(), 0);
        ProbePlanner planner = new ProbePlanner();
        ProbeAction a;
        long now = 0;
        List<ProbeAction.SendTrain> trains = new ArrayList<>();
        while (now < 200 * S) {
            a = planner.nextAction(now, new PlannerState(false,
                    new PathSnapshot(Optional.of(new BottleneckEstimate(64_000, 64_000, -1, false, 0, 1, 3, 30_000,
                            false, now, false)), Optional.empty(), Optional.empty(), now)));
            if (a instanceof ProbeAction.SendTrain t) {
                trains.add(t);
            }
            now = a instanceof ProbeAction.Idle i ? i.untilNs() : now;
        }
        ProbeAction.SendTrain upkeep = trains.getLast();
        assertThat(upkeep.count()).isGreaterThanOrEqualTo(8);
        assertThat(upkeep.probeIpBytes()).isLessThan(1500);
        assertThat(path.bottleneckBps()).hasValue(64_000);
    }

    @Test
    void idleIsAlwaysInTheFuture() {
        ProbePlanner planner = new ProbePlanner();
        long now = 0;
        for (int i = 0; i < 10_000; i++) {
            ProbeAction a = planner.nextAction(now, new PlannerState(i % 1000 < 500, PathSnapshot.none(now)));
            if (a instanceof ProbeAction.Idle idle) {
                assertThat(idle.untilNs()).isGreaterThan(now);
                now = idle.untilNs();
            }
        }
    }

    @Test
    void sameSeedSamePlan() {
        List<String> a = plan(42);
        assertThat(plan(42)).isEqualTo(a);
        assertThat(plan(43)).isNotEqualTo(a);
    }

    private static List<String> plan(long seed) {
        SyntheticPath p = SyntheticPath.builder(10 * MBPS).seed(1).build();
        Harness h = new Harness(p, new PathEstimator(), new ProbePlanner(ProbePlanner.Config.DEFAULT, seed));
        h.active = true;
        h.runUntil(300 * MS);
        return h.sent.stream().map(Object::toString).toList();
    }

    private static long maxProbesInAnyWindow(Harness h, long from, long to, long windowNs) {
        List<Long> times = h.sent.stream().filter(x -> !x.train() && x.atNs() >= from && x.atNs() < to)
                .map(Harness.Sent::atNs).toList();
        long best = 0;
        int j = 0;
        for (int i = 0; i < times.size(); i++) {
            while (times.get(i) - times.get(j) >= windowNs) {
                j++;
            }
            best = Math.max(best, i - j + 1);
        }
        return best;
    }

    private static long gapQuantile(Harness h, long from, long to, double q) {
        List<Long> times = h.sent.stream().filter(x -> !x.train() && x.atNs() >= from && x.atNs() < to)
                .map(Harness.Sent::atNs).toList();
        long[] gaps = new long[times.size() - 1];
        for (int i = 1; i < times.size(); i++) {
            gaps[i - 1] = times.get(i) - times.get(i - 1);
        }
        java.util.Arrays.sort(gaps);
        return gaps[(int) Math.round(q * (gaps.length - 1))];
    }
}
