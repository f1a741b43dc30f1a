package io.quaver.internal.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.quaver.internal.probe.ProbeScheduler.Action;
import io.quaver.internal.probe.ProbeScheduler.Idle;
import io.quaver.internal.probe.ProbeScheduler.SendProbegap;
import io.quaver.internal.probe.ProbeScheduler.SendTrain;
import io.quaver.internal.probe.ProbeScheduler.TrainOutcome;

import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

/// The interim scheduler in virtual time.
class InterimSchedulerTest {
    private static final long MS = 1_000_000L;

    private static PathEstimates capacity(long bps) {
        return new PathEstimates(OptionalLong.of(bps), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                OptionalLong.empty(), OptionalLong.empty(), 0, 0, 0);
    }

    /// Runs the scheduler from `fromNs` to `toNs` as the prober would (Idle waits, sends
    /// happen at once) and counts probegap probes and trains.
    private static long[] run(InterimScheduler s, long fromNs, long toNs, boolean active, PathEstimates path) {
        long now = fromNs;
        long probes = 0;
        long trains = 0;
        while (now < toNs) {
            Action a = s.next(now, active, path);
            switch (a) {
                case Idle idle -> now = Math.max(now + 1, idle.untilNs());
                case SendProbegap p -> {
                    probes++;
                    now += 1000;
                }
                case SendTrain t -> {
                    trains++;
                    s.onTrainSent(now, t);
                    s.onTrainResult(now + 5 * MS, TrainOutcome.SUMMARY);
                    now += 5 * MS;
                }
            }
        }
        return new long[] {probes, trains};
    }

    @Test
    void startsWithATrainThenSamplesEveryMillisecondInTheFastPhase() {
        InterimScheduler s = new InterimScheduler(60);
        Action first = s.next(0, false, PathEstimates.NONE);
        assertThat(first).isEqualTo(new SendTrain(1500, InterimScheduler.FIRST_TRAIN_PROBES));
        assertThat(s.next(1 * MS, false, PathEstimates.NONE)).as("waits for the result").isInstanceOf(Idle.class);
        s.onTrainSent(1 * MS, (SendTrain) first);
        s.onTrainResult(3 * MS, TrainOutcome.SUMMARY);
        long[] counts = run(s, 3 * MS, 303 * MS, false, capacity(100_000_000L));
        assertThat(counts[0]).as("probegap at 1 ms for the fast phase").isBetween(260L, 301L);
        assertThat(counts[1]).as("one sized follow-up train").isEqualTo(1);
        assertThat(s.trainProbes()).isEqualTo(InterimScheduler.MAX_TRAIN_PROBES);
    }

    @Test
    void upkeepStaysWithinOnePercentAndActiveFlowsSampleContinuously() {
        long capacity = 10_000_000L;
        InterimScheduler s = new InterimScheduler(60);
        run(s, 0, 1_000 * MS, false, capacity(capacity));
        long[] upkeep = run(s, 1_000 * MS, 61_000 * MS, false, capacity(capacity));
        double bits = upkeep[0] * 60 * 8 + upkeep[1] * (double) InterimScheduler.MAX_TRAIN_PROBES * 1500 * 8;
        assertThat(bits / 60 / capacity).as("upkeep share").isLessThanOrEqualTo(0.01);
        long[] active = run(s, 61_000 * MS, 62_000 * MS, true, capacity(capacity));
        assertThat(active[1]).as("a flow appearing brings a fresh train and its follow-up").isEqualTo(2);
        assertThat(active[0]).as("continuous 1 ms probegap").isGreaterThan(900);
    }

    @Test
    void aLostTrainIsHalvedAndRetriedAfterTwentyMillisecondsThenBacksOff() {
        InterimScheduler s = new InterimScheduler(60);
        long now = 0;
        int expected = InterimScheduler.FIRST_TRAIN_PROBES;
        for (int retry = 0; retry <= InterimScheduler.QUICK_RETRIES; retry++) {
            Action a = s.next(now, false, PathEstimates.NONE);
            assertThat(a).as("try %d", retry).isEqualTo(new SendTrain(1500, expected));
            s.onTrainSent(now, (SendTrain) a);
            now += 300 * MS;
            s.onTrainResult(now, TrainOutcome.LOST);
            expected = Math.max(InterimScheduler.MIN_TRAIN_PROBES, expected / 2);
            assertThat(s.next(now + 10 * MS, false, PathEstimates.NONE)).isNotInstanceOf(SendTrain.class);
            now += 20 * MS;
        }
        // quick retries used up: back off (1 s after the last result)
        assertThat(s.next(now + 500 * MS, false, PathEstimates.NONE)).isNotInstanceOf(SendTrain.class);
        assertThat(s.next(now + 1_000 * MS, false, PathEstimates.NONE)).isInstanceOf(SendTrain.class);
    }

    @Test
    void noSinkBacksOffFromOneSecondDoubling() {
        InterimScheduler s = new InterimScheduler(60);
        SendTrain t = (SendTrain) s.next(0, false, PathEstimates.NONE);
        s.onTrainSent(0, t);
        s.onTrainResult(500 * MS, TrainOutcome.NO_SINK);
        assertThat(s.next(1_400 * MS, false, PathEstimates.NONE)).isNotInstanceOf(SendTrain.class);
        assertThat(s.next(1_500 * MS, false, PathEstimates.NONE)).isInstanceOf(SendTrain.class);
        s.onTrainResult(1_600 * MS, TrainOutcome.NO_SINK);
        assertThat(s.next(3_500 * MS, false, PathEstimates.NONE)).as("2 s now").isNotInstanceOf(SendTrain.class);
        assertThat(s.next(3_600 * MS, false, PathEstimates.NONE)).isInstanceOf(SendTrain.class);
    }

    @Test
    void aFreshRequestBringsATrainAtOnce() {
        InterimScheduler s = new InterimScheduler(60);
        run(s, 0, 1_000 * MS, false, capacity(50_000_000L));
        s.requestFresh(1_000 * MS);
        assertThat(s.next(1_000 * MS, false, capacity(50_000_000L))).isInstanceOf(SendTrain.class);
    }

    @Test
    void trainsAreSizedToTheBottlenecksQueueOnceTheCapacityIsKnown() {
        InterimScheduler s = new InterimScheduler(60);
        run(s, 0, 100 * MS, false, capacity(2_000_000L));
        run(s, 100 * MS, 20_000 * MS, false, capacity(2_000_000L));
        assertThat(s.trainProbes()).isEqualTo(6); // 2 Mbit/s × 40 ms = 6.7 probes
    }
}
