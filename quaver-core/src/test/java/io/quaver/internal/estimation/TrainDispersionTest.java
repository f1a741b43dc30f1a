package io.quaver.internal.estimation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/// One train at a time, on synthetic paths with known answers.
class TrainDispersionTest {
    private static final long MBPS = 1_000_000L;

    private static double rel(long estimate, double truth) {
        return (estimate - truth) / truth;
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 10, 100, 1000})
    void cleanPathGivesTheCapacityAtTheIpLevel(long mbps) {
        SyntheticPath p = SyntheticPath.builder(mbps * MBPS).senderLine(Math.max(10_000 * MBPS, mbps * MBPS * 10))
                .seed(1).build();
        SyntheticPath.Train t = p.sendTrain(0, 1200, 48);
        TrainAnalysis a = TrainDispersion.analyse(t.sample());
        assertThat(a.method()).isEqualTo(TrainAnalysis.Method.WHOLE_TRAIN);
        assertThat(rel(a.rateBps(), mbps * MBPS)).as("%s", a).isCloseTo(0, within(0.01));
        assertThat(a.burstBytes()).isEqualTo(-1);
        assertThat(a.coalescingDetected()).isFalse();
    }

    @Test
    void exactTenMegabitsFromHandMadeDeltas() {
        // 1200 B at 10 Mbit/s = 960 µs = 9600 ticks of 100 ns
        long[] deltas = new long[47];
        java.util.Arrays.fill(deltas, 9600);
        TrainAnalysis a = TrainDispersion.analyse(TrainSample.ofSummary(1200, deltas, 0));
        assertThat(a.rateBps()).isEqualTo(10_000_000L);
    }

    @Test
    void lateFirstStampAfterIdleDoesNotInflateTheRate() {
        long[] deltas = new long[47];
        java.util.Arrays.fill(deltas, 9600);
        deltas[0] = 9600 - 7000; // the first probe stamped 700 µs late
        TrainAnalysis a = TrainDispersion.analyse(TrainSample.ofSummary(1200, deltas, 0));
        assertThat(rel(a.rateBps(), 10 * MBPS)).isCloseTo(0, within(0.01));
    }

    @Test
    void interfaceSpeedCapsTheEstimate() {
        long[] deltas = new long[47];
        java.util.Arrays.fill(deltas, 9600);
        TrainAnalysis a = TrainDispersion.analyse(TrainSample.ofSummary(1200, deltas, 8_000_000L));
        assertThat(a.rateBps()).isEqualTo(8_000_000L);
        assertThat(a.interfaceLimited()).isTrue();
    }

    @Test
    void degenerateTrainsAreInvalid() {
        assertThat(TrainDispersion.analyse(TrainSample.ofSummary(1200, new long[] {0, 0, 0}, 0)).valid()).isFalse();
        assertThat(TrainDispersion.analyse(TrainSample.ofSummary(1200, new long[] {100}, 0)).valid()).isFalse();
    }

    /// G3: tbf 20 Mbit/s on a 1 Gbit/s line, trains that exceed the bucket.
    @ParameterizedTest(name = "burst {0} B")
    @ValueSource(ints = {10_240, 32_768, 262_144})
    void tokenBucketTailGivesTheSustainedRateAndTheBurst(int burst) {
        long r = 20 * MBPS;
        int probes = (int) (burst * 1.3 / 1200) + 30;
        SyntheticPath p = SyntheticPath.builder(1000 * MBPS).tokenBucket(r, burst).seed(3).build();
        SyntheticPath.Train t = p.sendTrain(1_000_000_000L, 1200, probes);
        TrainAnalysis a = TrainDispersion.analyse(t.sample());
        assertThat(a.method()).as("%s", a).isEqualTo(TrainAnalysis.Method.TOKEN_BUCKET_TAIL);
        assertThat((double) a.rateBps()).as("%s", a).isLessThanOrEqualTo(1.10 * r);
        assertThat(rel(a.rateBps(), r)).as("%s", a).isCloseTo(0, within(0.02));
        assertThat(rel(a.burstBytes(), burst)).as("%s", a).isCloseTo(0, within(0.25));
        assertThat(a.peakRateBps()).as("%s", a).isGreaterThan(500 * MBPS);
    }

    @ParameterizedTest(name = "{0} Mbit/s, period {1} µs")
    @CsvSource({"1000,50", "1000,75", "1000,100", "1000,125", "400,50", "400,75", "400,100", "400,125"})
    void coalescedTimestampsAreDetectedAndReadBatchByBatch(long mbps, long periodUs) {
        List<Double> errors = new ArrayList<>();
        for (long seed = 1; seed <= 20; seed++) {
            SyntheticPath p = SyntheticPath.builder(mbps * MBPS).senderLine(10_000 * MBPS)
                    .coalescing(periodUs * 1000, 300).seed(seed).build();
            SyntheticPath.Train t = p.sendTrain(0, 1500, 200);
            TrainAnalysis a = TrainDispersion.analyse(t.sample());
            assertThat(a.coalescingDetected()).as("seed %d: %s", seed, a).isTrue();
            assertThat(a.coalescingPeriodNs()).as("seed %d: %s", seed, a)
                    .isCloseTo(periodUs * 1000, within(periodUs * 1000 / 10));
            errors.add(rel(a.rateBps(), mbps * MBPS));
        }
        Stats s = Stats.ofAbs(errors);
        System.out.printf("G2 coalescing %d Mbit/s, period %d µs, 200-probe trains: %s%n", mbps, periodUs, s);
        assertThat(s.max()).as("%s", s).isLessThanOrEqualTo(0.05);
    }

    @ParameterizedTest(name = "period {0} µs")
    @ValueSource(longs = {50, 75, 100, 125})
    void quantisedButUnbatchedStampsStillGiveTheCapacity(long periodUs) {
        // 100 Mbit/s, 1500 B: one probe per 120 µs, about one per period: quantisation, no batches
        List<Double> errors = new ArrayList<>();
        for (long seed = 1; seed <= 20; seed++) {
            SyntheticPath p = SyntheticPath.builder(100 * MBPS).senderLine(10_000 * MBPS)
                    .coalescing(periodUs * 1000, 300).seed(seed).build();
            TrainAnalysis a = TrainDispersion.analyse(p.sendTrain(0, 1500, 48).sample());
            errors.add(rel(a.rateBps(), 100 * MBPS));
        }
        Stats s = Stats.ofAbs(errors);
        assertThat(s.max()).as("%s", s).isLessThanOrEqualTo(0.05);
    }

    /// Cross traffic widens some gaps; the clean cluster gives the capacity and no knee or
    /// coalescing is invented.
    @ParameterizedTest(name = "{0} {1}%")
    @CsvSource({"CBR,30", "CBR,60", "CBR,80", "POISSON,30", "POISSON,60", "POISSON,80"})
    void crossTrafficDoesNotBiasTheCapacity(SyntheticPath.CrossKind kind, int loadPercent) {
        long cap = 10 * MBPS;
        List<Double> errors = new ArrayList<>();
        int knees = 0;
        int coalesced = 0;
        for (long seed = 1; seed <= 40; seed++) {
            SyntheticPath.Builder b = SyntheticPath.builder(cap).seed(seed);
            long cross = cap * loadPercent / 100;
            b = kind == SyntheticPath.CrossKind.CBR ? b.cbrCross(cross, 1500)
                    : b.poissonCross(cross, new int[] {64, 576, 1500}, new double[] {0.5, 0.2, 0.3});
            SyntheticPath p = b.build();
            TrainAnalysis a = TrainDispersion.analyse(p.sendTrain(500_000_000L, 1500, 48).sample());
            errors.add(rel(a.rateBps(), cap));
            knees += a.kneeSeen() ? 1 : 0;
            coalesced += a.coalescingDetected() ? 1 : 0;
        }
        Stats s = Stats.ofAbs(errors);
        System.out.printf("capacity per train, %s %d%%: %s, knees %d, coalescing %d%n", kind, loadPercent, s, knees,
                coalesced);
        assertThat(s.median()).as("%s", s).isLessThanOrEqualTo(0.05);
        assertThat(s.p95()).as("%s", s).isLessThanOrEqualTo(0.15);
        assertThat(knees).as("false knees").isLessThanOrEqualTo(2);
        assertThat(coalesced).as("false coalescing").isZero();
    }
}
