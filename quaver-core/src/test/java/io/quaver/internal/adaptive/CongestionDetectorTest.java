package io.quaver.internal.adaptive;

import io.quaver.internal.adaptive.sim.DetectorReplay;
import io.quaver.internal.adaptive.sim.SyntheticPath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/// The detector on synthetic delay/loss series in virtual time; every random series has a
/// fixed seed, named in the assertion message.
class CongestionDetectorTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000 * MS;
    private static final long CAPACITY = 20_000_000L;

    /// Feeds a hand-made series: `delayAt(sendNs)` the one-way delay, probes every 1 ms.
    private static List<Transition> feed(CongestionDetector d, long fromNs, long toNs, DelayModel delayAt) {
        List<Transition> out = new ArrayList<>();
        for (long send = fromNs; send < toNs; send += MS) {
            long owd = delayAt.owd(send);
            if (owd < 0) {
                continue; // lost
            }
            Transition t = d.onProbe(send + owd + 10 * MS, send / MS, send, send + owd + 555_000_000_000L);
            if (t != null) {
                out.add(t);
            }
        }
        return out;
    }

    @FunctionalInterface
    interface DelayModel {
        long owd(long sendNs);
    }

    @Test
    void staysUncongestedOnAConstantDelayAndStartsUncongested() {
        CongestionDetector d = new CongestionDetector();
        assertThat(d.state()).isEqualTo(CongestionState.UNCONGESTED);
        assertThat(feed(d, 0, 60 * S, s -> 25 * MS)).isEmpty();
        assertThat(d.reading(60 * S).queueDelayNs()).isZero();
    }

    @Test
    void aGrowingQueueIsCongestedByTheGradientThenUncongestedOnceDrained() {
        CongestionDetector d = new CongestionDetector();
        feed(d, 0, 10 * S, s -> 20 * MS);
        // 0.5 ms per ms for 200 ms (to 100 ms), held 300 ms, drained at 0.5 ms per ms
        long onset = 10 * S;
        List<Transition> ts = feed(d, onset, onset + 2 * S, s -> {
            long t = s - onset;
            long q = t < 200 * MS ? t / 2 : t < 500 * MS ? 100 * MS : Math.max(0, 100 * MS - (t - 500 * MS) / 2);
            return 20 * MS + q;
        });
        assertThat(ts).hasSize(2);
        assertThat(ts.get(0).to()).isEqualTo(CongestionState.CONGESTED);
        assertThat(ts.get(0).cause()).isEqualTo(Transition.Cause.DELAY_GRADIENT);
        assertThat(ts.get(0).atNs() - onset).isLessThan(150 * MS);
        assertThat(ts.get(1).to()).isEqualTo(CongestionState.UNCONGESTED);
        assertThat(ts.get(1).cause()).isEqualTo(Transition.Cause.DRAINED);
        long drainedAt = onset + 700 * MS + 20 * MS + 10 * MS; // queue 0, seen after the way there and back
        assertThat(ts.get(1).atNs() - drainedAt).isBetween(0L, 1_000 * MS);
    }

    @Test
    void aSlowlyRisingStandingQueueIsCaughtByTheLevelGuard() {
        CongestionDetector d = new CongestionDetector();
        feed(d, 0, 10 * S, s -> 20 * MS);
        long onset = 10 * S;
        // 0.02 ms per ms: too slow for the trendline's threshold (0.05), reaches 60 ms after 3 s
        List<Transition> ts = feed(d, onset, onset + 4 * S, s -> 20 * MS + (s - onset) / 50);
        assertThat(ts).hasSize(1);
        assertThat(ts.get(0).cause()).isEqualTo(Transition.Cause.QUEUE_LEVEL);
        assertThat(ts.get(0).atNs() - onset).isBetween(3_000 * MS, 3_200 * MS);
    }

    @Test
    void heavyLossIsCongestionAndReorderingIsNotLoss() {
        CongestionDetector d = new CongestionDetector();
        feed(d, 0, 5 * S, s -> 20 * MS);
        // every fifth probe lost: 20 %
        List<Transition> ts = feed(d, 5 * S, 6 * S, s -> (s / MS) % 5 == 0 ? -1 : 20 * MS);
        assertThat(ts).extracting(Transition::cause).containsExactly(Transition.Cause.LOSS);
        ts = feed(d, 6 * S, 8 * S, s -> 20 * MS);
        assertThat(ts).extracting(Transition::to).containsExactly(CongestionState.UNCONGESTED);

        CongestionDetector r = new CongestionDetector();
        // pairs swapped: 1 0 3 2 5 4 ... (arrival order differs from sequence order)
        for (long i = 0; i < 10_000; i++) {
            long seq = i ^ 1;
            long send = seq * MS;
            assertThat(r.onProbe(i * MS + 20 * MS, seq, send, send + 20 * MS)).isNull();
        }
        assertThat(r.reading(10 * S).lossFraction()).isZero();
    }

    /// Probes whose sample the prober withdrew (a stalled send) arrive without timing: they are
    /// not loss; the same probes missing altogether are.
    @Test
    void arrivalsWithoutTimingAreNotLoss() {
        for (boolean reported : new boolean[] {true, false}) {
            CongestionDetector d = new CongestionDetector();
            List<Transition> ts = new ArrayList<>();
            for (long send = 0; send < 10 * S; send += MS) {
                long seq = send / MS;
                long arrive = send + 20 * MS;
                Transition t;
                if (seq % 5 == 0) { // 20 % of the samples withdrawn
                    t = reported ? d.onArrival(arrive, seq) : d.onTick(arrive);
                } else {
                    t = d.onProbe(arrive, seq, send, arrive);
                }
                if (t != null) {
                    ts.add(t);
                }
            }
            if (reported) {
                assertThat(ts).as("reported arrivals").isEmpty();
                assertThat(d.reading(10 * S).lossFraction()).isZero();
            } else {
                assertThat(ts).as("unreported: 20 % loss").isNotEmpty();
                assertThat(ts.get(0).cause()).isEqualTo(Transition.Cause.LOSS);
            }
        }
    }

    @Test
    void sequenceNumbersWrapAt32Bits() {
        CongestionDetector d = new CongestionDetector();
        long seq = 0xFFFF_FF00L;
        for (long i = 0; i < 2_000; i++, seq = (seq + 1) & 0xFFFF_FFFFL) {
            assertThat(d.onProbe(i * MS + 20 * MS, seq, i * MS, i * MS + 20 * MS)).isNull();
        }
        assertThat(d.reading(2 * S).lossFraction()).isZero();
    }

    @Test
    void aShortSpikeDoesNotEnterAndAQueueHoveringAtTheThresholdDoesNotFlap() {
        CongestionDetector d = new CongestionDetector();
        feed(d, 0, 10 * S, s -> 20 * MS);
        // a 30 ms spike lasting 20 ms: shorter than the floor window, so no queue is seen
        assertThat(feed(d, 10 * S, 11 * S, s -> s < 10 * S + 20 * MS ? 50 * MS : 20 * MS)).isEmpty();
        // congested by a real queue, then the queue hovers around the drained threshold
        long onset = 11 * S;
        List<Transition> ts = feed(d, onset, onset + 400 * MS, s -> 20 * MS + Math.min(80 * MS, (s - onset) / 2));
        assertThat(ts).extracting(Transition::to).containsExactly(CongestionState.CONGESTED);
        ts = feed(d, onset + 400 * MS, onset + 10 * S, s -> 20 * MS + ((s / (100 * MS)) % 2 == 0 ? 8 : 14) * MS);
        assertThat(ts).as("a queue that keeps returning above 10 ms is not drained").isEmpty();
        ts = feed(d, onset + 10 * S, onset + 11 * S, s -> 21 * MS);
        assertThat(ts).extracting(Transition::to).containsExactly(CongestionState.UNCONGESTED);
    }

    @Test
    void theClockOffsetOfTheSinkDoesNotMatter() {
        for (long offset : new long[] {0, -7_000_000_000_000L, 9_000_000_000_000_000L}) {
            CongestionDetector d = new CongestionDetector();
            for (long send = 0; send < 20 * S; send += MS) {
                long q = send < 10 * S ? 0 : Math.min(90 * MS, (send - 10 * S) / 2);
                d.onProbe(send + 30 * MS + q, send / MS, send, send + 20 * MS + q + offset);
            }
            assertThat(d.state()).as("offset %d", offset).isEqualTo(CongestionState.CONGESTED);
        }
    }

    @Test
    void tcpInfoSamplesDriveTheSameStates() {
        CongestionDetector d = new CongestionDetector();
        long acked = 0;
        long retrans = 0;
        List<Transition> ts = new ArrayList<>();
        for (long now = 0; now < 30 * S; now += 10 * MS) {
            long t = now - 10 * S;
            long srttUs = 20_000 + (t < 0 ? 0 : t < 300 * MS ? t / 2 / 1000 : t < 15 * S ? 150_000 : 0);
            acked += 100 * 1448;
            if (t >= 5 * S && t < 8 * S) {
                retrans += 20; // 20 of 120 segments: 17 % retransmitted
            }
            Transition tr = d.onTcpInfo(now, srttUs, 20_000, retrans, acked, 1448);
            if (tr != null) {
                ts.add(tr);
            }
        }
        assertThat(ts).extracting(Transition::to)
                .containsExactly(CongestionState.CONGESTED, CongestionState.UNCONGESTED);
        assertThat(ts.get(0).atNs() - 10 * S).isLessThan(250 * MS);
        assertThat(ts.get(1).atNs()).isBetween(25 * S, 26 * S);

        CongestionDetector loss = new CongestionDetector();
        acked = 0;
        retrans = 0;
        Transition first = null;
        for (long now = 0; now < 5 * S && first == null; now += 10 * MS) {
            acked += 100 * 1448;
            retrans += now >= 2 * S ? 20 : 0;
            first = loss.onTcpInfo(now, 20_000, 20_000, retrans, acked, 1448);
        }
        assertThat(first).isNotNull();
        assertThat(first.cause()).isEqualTo(Transition.Cause.LOSS);
    }

    @Test
    void ticksWithoutSamplesDecideNothing() {
        CongestionDetector d = new CongestionDetector();
        assertThat(d.onTick(5 * S)).isNull();
        feed(d, 0, 10 * S, s -> 20 * MS);
        assertThat(d.onTick(20 * S)).isNull();
        assertThat(d.state()).isEqualTo(CongestionState.UNCONGESTED);
    }

    // ---------------------------------------------------------------- synthetic paths (G7-G9)

    @ParameterizedTest
    @ValueSource(longs = {1, 10})
    void capacityStepDownIsDetectedWithinTheGoalLatency(long probeIntervalMs) {
        SyntheticPath.Params params = SyntheticPath.Params.CLEAN.withProbeIntervalNs(probeIntervalMs * MS);
        DetectorReplay.ScenarioStats s = DetectorReplay.scenario(DetectorReplay.Scenario.STEP_DOWN,
                DetectorConfig.DEFAULT, params, 40, 1_000);
        for (DetectorReplay.Run r : s.runs()) {
            assertThat(r.detectionNs()).as("seed %d", r.seed()).isBetween(0L, 250 * MS);
            assertThat(r.earlyAlarms()).as("seed %d", r.seed()).isZero();
            assertThat(r.uncongestedNs()).as("seed %d: drained -> Uncongested", r.seed()).isBetween(0L, 1_000 * MS);
            assertThat(r.availableNs()).as("seed %d: headroom -> Available", r.seed()).isBetween(0L, 1_000 * MS);
            assertThat(r.earlyAvailable()).as("seed %d", r.seed()).isFalse();
        }
        // G7: p50 <= 150 ms (+ RTT/2 = 10 ms here, which the latency includes), p95 <= 250 ms
        assertThat(s.detection().p50Ms()).isLessThanOrEqualTo(160);
        assertThat(s.detection().p95Ms()).isLessThanOrEqualTo(250);
    }

    @Test
    void crossTrafficOnsetIsDetectedAndTheLoopRecovers() {
        DetectorReplay.ScenarioStats s = DetectorReplay.scenario(DetectorReplay.Scenario.CROSS_TRAFFIC,
                DetectorConfig.DEFAULT, SyntheticPath.Params.CLEAN, 30, 2_000);
        for (DetectorReplay.Run r : s.runs()) {
            assertThat(r.detectionNs()).as("seed %d", r.seed()).isBetween(0L, 400 * MS);
            assertThat(r.uncongestedNs()).as("seed %d", r.seed()).isBetween(0L, 1_000 * MS);
            assertThat(r.availableNs()).as("seed %d", r.seed()).isBetween(0L, 1_000 * MS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jitter", "bursty", "wander"})
    void noFalseAlarmsOnCongestionFreePathsAcrossSeeds(String profile) {
        SyntheticPath.Params params = switch (profile) {
            case "jitter" -> SyntheticPath.Params.CLEAN.withJitterNs(5 * MS);
            case "bursty" -> SyntheticPath.Params.CLEAN.withJitterNs(MS).withBurstsNs(20 * MS, 40 * MS);
            default -> DetectorReplay.stressParams(SyntheticPath.Params.CLEAN);
        };
        long[] seeds = {11, 12, 13, 14, 15, 16};
        for (long seed : seeds) {
            long[] r = DetectorReplay.falseAlarmRun(DetectorConfig.DEFAULT, params, 5 * 60 * S, seed);
            assertThat(r[0]).as("%s, seed %d: Congested transitions in 5 min", profile, seed).isZero();
        }
    }

    @Test
    void noFalseAlarmsAt100PacketsPerSecondWithBursts() {
        SyntheticPath.Params params = SyntheticPath.Params.CLEAN.withProbeIntervalNs(10 * MS).withJitterNs(MS)
                .withBurstsNs(20 * MS, 40 * MS);
        for (long seed : new long[] {21, 22, 23}) {
            long[] r = DetectorReplay.falseAlarmRun(DetectorConfig.DEFAULT, params, 10 * 60 * S, seed);
            assertThat(r[0]).as("seed %d", seed).isZero();
        }
    }

    @Test
    void moderateClockSkewDoesNotRaiseAlarms() {
        SyntheticPath.Params params = SyntheticPath.Params.CLEAN.withJitterNs(2 * MS).withSkewPpm(20);
        long[] r = DetectorReplay.falseAlarmRun(DetectorConfig.DEFAULT, params, 10 * 60 * S, 31);
        assertThat(r[0]).as("seed 31, +20 ppm").isZero();
    }

    // ---------------------------------------------------------------- in-order jitter (the emulator's bursty path)

    private static final SyntheticPath.Params IN_ORDER = DetectorReplay.inOrderJitterParams(SyntheticPath.Params.CLEAN);

    /// The synthetic series stands its 40 ms floor as far above the minimum as the emulator's
    /// recorded one (median 16.1 ms there), and the detector without its jitter floor fails on it
    /// as it did on the emulator: an alarm, then CONGESTED for minutes on a path without a queue.
    @Test
    void theInOrderJitterSeriesReproducesTheEmulatorsFailureWithoutTheJitterFloor() {
        SyntheticPath p = new SyntheticPath(IN_ORDER, CAPACITY, CAPACITY / 10, 5);
        p.setMediaBps(CAPACITY / 2);
        List<long[]> owd = new ArrayList<>();
        p.advance(60 * S, (now, seq, send, recv) -> owd.add(new long[] {now, recv - send}));
        long min = owd.stream().mapToLong(x -> x[1]).min().orElseThrow();
        List<Long> floors = new ArrayList<>();
        for (int i = 0, j = 0; i < owd.size(); i += 10) {
            while (owd.get(i)[0] - owd.get(j)[0] > 40 * MS) {
                j++;
            }
            long f = Long.MAX_VALUE;
            for (int k = j; k <= i; k++) {
                f = Math.min(f, owd.get(k)[1]);
            }
            floors.add(f - min);
        }
        floors.sort(null);
        assertThat(floors.get(floors.size() / 2)).as("median 40 ms floor above the minimum")
                .isBetween(12 * MS, 20 * MS);

        DetectorConfig old = DetectorConfig.DEFAULT.withJitterFloorSpreads(0);
        long alarms = 0;
        long congestedNs = 0;
        for (long seed : new long[] {1, 3, 4}) {
            long[] r = DetectorReplay.falseAlarmRun(old, IN_ORDER, 5 * 60 * S, seed);
            alarms += r[0];
            congestedNs += r[1];
        }
        assertThat(alarms).as("alarms in 15 min without the jitter floor").isPositive();
        assertThat(congestedNs).as("time CONGESTED without the jitter floor").isGreaterThan(60 * S);
    }

    /// G9 on the in-order jitter path: no alarm over hours of virtual time, across seeds; the
    /// learnt jitter floor sits in the floor's usual height above the base.
    @Test
    void noFalseAlarmsOverHoursOnTheInOrderJitterPath() {
        DetectorReplay.FalseAlarms fa = DetectorReplay.falseAlarms(DetectorConfig.DEFAULT, IN_ORDER, 6, 50_000);
        assertThat(fa.alarms()).as("alarms in 6 virtual hours, seeds 50000-50005").isZero();
        assertThat(fa.congestedMs()).isZero();
        // at 100 probes/s a 40 ms floor holds 4 probes: within G9's bursty budget (1 per 10 min)
        fa = DetectorReplay.falseAlarms(DetectorConfig.DEFAULT, IN_ORDER.withProbeIntervalNs(10 * MS), 2, 51_000);
        assertThat(fa.perHour()).as("alarms per hour at 100 pps, seeds 51000-51001").isLessThanOrEqualTo(6);

        SyntheticPath p = new SyntheticPath(IN_ORDER, CAPACITY, CAPACITY / 10, 9);
        p.setMediaBps(CAPACITY / 2);
        CongestionDetector d = new CongestionDetector();
        p.advance(120 * S, (now, seq, send, recv) -> d.onProbe(now, seq, send, recv));
        CongestionDetector.Reading r = d.reading(120 * S);
        assertThat(r.jitterFloorNs()).as("jitter floor, seed 9").isBetween(6 * MS, 20 * MS);
        assertThat(r.state()).isEqualTo(CongestionState.UNCONGESTED);
    }

    /// G7 and G8 on the jittery paths: a real congestion episode is still caught within G7's
    /// bounds, and the path is UNCONGESTED within a second of the queue draining (the drained
    /// rule measures against the path's usual floor; reordering is not loss).
    @ParameterizedTest
    @ValueSource(strings = {"in-order", "jitter"})
    void congestionEpisodesOnJitteryPathsAreDetectedAndRecoverWithinG8(String profile) {
        SyntheticPath.Params params = profile.equals("in-order") ? IN_ORDER : SyntheticPath.Params.CLEAN.withJitterNs(5 * MS);
        for (DetectorReplay.Scenario scenario : DetectorReplay.Scenario.values()) {
            DetectorReplay.ScenarioStats s = DetectorReplay.scenario(scenario, DetectorConfig.DEFAULT, params, 30, 7_000);
            for (DetectorReplay.Run r : s.runs()) {
                String what = profile + " " + scenario + ", seed " + r.seed();
                assertThat(r.earlyAlarms()).as(what).isZero();
                assertThat(r.detectionNs()).as(what + ": onset -> Congested").isBetween(0L, 300 * MS);
                assertThat(r.uncongestedNs()).as(what + ": drained -> Uncongested").isBetween(0L, 1_000 * MS);
                assertThat(r.availableNs()).as(what + ": headroom -> Available").isBetween(0L, 1_000 * MS);
            }
            if (scenario == DetectorReplay.Scenario.STEP_DOWN) {
                assertThat(s.detection().p50Ms()).as(profile + " G7 p50 (+10 ms RTT/2)").isLessThanOrEqualTo(160);
                assertThat(s.detection().p95Ms()).as(profile + " G7 p95").isLessThanOrEqualTo(250);
            }
        }
    }

    /// A standing queue that builds too slowly for the trendline is not learnt as jitter floor:
    /// it lifts every delay alike, so the delays' spread (the cap) stays small.
    @Test
    void aSlowStandingQueueIsNotLearntAsJitterFloor() {
        CongestionDetector d = new CongestionDetector();
        feed(d, 0, 10 * S, s -> 20 * MS);
        long onset = 10 * S;
        // 0.01 ms per ms to 40 ms (below the level guard), then standing for a minute
        assertThat(feed(d, onset, onset + 64 * S, s -> 20 * MS + Math.min(40 * MS, (s - onset) / 100))).isEmpty();
        CongestionDetector.Reading r = d.reading(onset + 64 * S + 30 * MS);
        assertThat(r.jitterFloorNs()).isLessThan(2 * MS);
        assertThat(r.queueDelayNs()).isGreaterThan(38 * MS);
    }

    /// Probes reordered by up to ±5 ms are never read as loss, not even for a moment (at 1,000
    /// probes/s they used to hold about 2 % of the loss window as outstanding gaps); real gaps
    /// still count once the reordering window has passed.
    @Test
    void reorderingIsNeverReadAsLossAndGapsCountAfterTheReorderingWindow() {
        CongestionDetector d = new CongestionDetector();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(17);
        java.util.PriorityQueue<long[]> arrivals = new java.util.PriorityQueue<>((a, b) -> Long.compare(a[0], b[0]));
        for (long seq = 0; seq < 20_000; seq++) {
            long send = seq * MS;
            arrivals.add(new long[] {send + 20 * MS + rnd.nextLong(-5 * MS, 5 * MS + 1), seq, send});
        }
        double worst = 0;
        while (!arrivals.isEmpty()) {
            long[] a = arrivals.poll();
            assertThat(d.onProbe(a[0], a[1], a[2], a[0])).isNull();
            worst = Math.max(worst, d.reading(a[0]).lossFraction());
        }
        assertThat(worst).as("largest loss fraction seen, seed 17").isLessThan(0.005);

        CongestionDetector g = new CongestionDetector();
        for (long seq = 0; seq < 1_000; seq++) {
            g.onProbe(seq * MS + 20 * MS, seq, seq * MS, seq * MS + 20 * MS);
        }
        // 30 probes missing (1 000 .. 1 029), then arrivals resume
        long t = 1_030 * MS + 20 * MS;
        g.onProbe(t, 1_030, 1_030 * MS, t);
        assertThat(g.reading(t).lossFraction()).as("within the reordering window").isZero();
        for (long seq = 1_031; seq < 1_100; seq++) {
            g.onProbe(seq * MS + 20 * MS, seq, seq * MS, seq * MS + 20 * MS);
        }
        assertThat(g.reading(1_100 * MS + 20 * MS).lossFraction()).as("after it").isGreaterThan(0.1);
    }

    @Test
    void theSyntheticPathIsDeterministicPerSeed() {
        long[] a = series(7);
        long[] b = series(7);
        long[] c = series(8);
        assertThat(a).isEqualTo(b);
        assertThat(Arrays.equals(a, c)).isFalse();
    }

    private static long[] series(long seed) {
        SyntheticPath p = new SyntheticPath(SyntheticPath.Params.CLEAN.withJitterNs(5 * MS), CAPACITY, CAPACITY / 10, seed);
        p.setMediaBps(CAPACITY / 2);
        List<Long> out = new ArrayList<>();
        p.advance(2 * S, (now, seq, send, recv) -> out.add(recv - send));
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    @Test
    void theSyntheticQueueGrowsAtTheOverloadAndOverflowsTheBuffer() {
        SyntheticPath p = new SyntheticPath(SyntheticPath.Params.CLEAN, CAPACITY, CAPACITY / 10, 3);
        p.setMediaBps(CAPACITY * 3 / 2); // 1.5x: 0.5 ms of queue per ms
        int[] received = {0};
        p.advance(100 * MS, (now, seq, send, recv) -> received[0]++);
        assertThat(p.queueDelayNs()).isBetween(45 * MS, 55 * MS);
        p.advance(1_000 * MS, (now, seq, send, recv) -> received[0]++);
        assertThat(p.queueDelayNs()).isBetween(95 * MS, 100 * MS); // the 100 ms buffer is full
        // once full, a third of what is offered is dropped
        int before = received[0];
        p.advance(3_000 * MS, (now, seq, send, recv) -> received[0]++);
        assertThat(received[0] - before).isBetween(1_100, 1_550);
    }
}
