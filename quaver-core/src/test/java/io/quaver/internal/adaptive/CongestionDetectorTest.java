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
