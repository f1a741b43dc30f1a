package io.quaver.internal.estimation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/// RTT from probegap timestamps, goal G16: |error| ≤ max(100 µs, 2 %).
class RttEstimatorTest {
    private static final long US = 1_000L;
    private static final long MS = 1_000_000L;

    private static long tolerance(long truthUs) {
        return Math.max(100, truthUs * 2 / 100);
    }

    private static PathEstimator feed(SyntheticPath p, long fromNs, long toNs, long meanGapNs, SplittableRandom r,
                                      PathEstimator est) {
        long t = fromNs;
        long seq = 1;
        while (t < toNs) {
            SyntheticPath.Reply rep = p.sendProbegap(t, seq++, 60);
            est.onProbegap(rep.sequence(), rep.sendNs(), rep.sinkRecv100ns(), rep.sinkSend100ns(), rep.recvNs(), 60);
            t += (long) (meanGapNs * (0.5 + r.nextDouble()));
        }
        return est;
    }

    @ParameterizedTest(name = "one-way {0} µs")
    @ValueSource(longs = {100, 1_000, 10_000, 100_000})
    void continuousProbegapGivesTheRttDespiteClockOffsetDriftAndColdStart(long oneWayUs) {
        long worstMeanUs = 0;
        long worstMinUs = 0;
        for (long seed = 1; seed <= 10; seed++) {
            SyntheticPath p = SyntheticPath.builder(100_000_000L).propagation(oneWayUs * US, oneWayUs * US)
                    .sinkClock(-987_654_321_000L * seed, 80.0).stampJitter(500).sinkHold(5 * US, 200 * US)
                    .coldStart(20 * MS, 60 * US, 700 * US).seed(seed).build();
            PathEstimator est = feed(p, 0, 1_000 * MS, MS, new SplittableRandom(seed), new PathEstimator());
            long truthUs = p.baseRttNs(60) / 1000;
            RttEstimate e = est.snapshot(1_000 * MS).rtt().orElseThrow();
            assertThat(e.rttUs()).as("seed %d, truth %d µs: %s", seed, truthUs, e)
                    .isCloseTo(truthUs, within(tolerance(truthUs)));
            assertThat(e.minRttUs()).as("seed %d: %s", seed, e).isCloseTo(truthUs, within(tolerance(truthUs)));
            worstMeanUs = Math.max(worstMeanUs, Math.abs(e.rttUs() - truthUs));
            worstMinUs = Math.max(worstMinUs, Math.abs(e.minRttUs() - truthUs));
        }
        System.out.printf("G16 one-way %d µs: worst |mean − truth| %d µs, worst |min − truth| %d µs (10 seeds)%n",
                oneWayUs, worstMeanUs, worstMinUs);
    }

    @Test
    void coldStartSamplesAreDiscarded() {
        RttEstimator r = new RttEstimator();
        // start: probes every ms; the first 50 ms (and the first 3) are cold
        for (int i = 0; i < 50; i++) {
            assertThat(r.onProbe(i * MS, i * MS + 20 * MS + (i == 0 ? 700 * US : 0), 10 * US)).isFalse();
        }
        assertThat(r.estimate()).isEmpty();
        assertThat(r.onProbe(50 * MS, 70 * MS + 10 * US, 10 * US)).isTrue();
        assertThat(r.estimate().orElseThrow().rttUs()).isEqualTo(20_000);
        // after 1 s of silence a new run: its first 3 probes are cold again
        long t = 1_100 * MS;
        for (int i = 0; i < 5; i++) {
            long extra = i == 0 ? 700 * US : 0;
            boolean used = r.onProbe(t + i * MS, t + i * MS + 20 * MS + extra + 10 * US, 10 * US);
            assertThat(used).as("probe %d of the run", i).isEqualTo(i >= 3);
        }
        assertThat(r.estimate().orElseThrow().rttUs()).isEqualTo(20_000);
    }

    @Test
    void sparseUpkeepBurstsAfterIdleStayAccurate() {
        // bursts of 5 probes, 1 ms apart, every second: each burst's first probe is cold
        SyntheticPath p = SyntheticPath.builder(10_000_000L).propagation(3 * MS, 4 * MS).sinkHold(5 * US, 50 * US)
                .coldStart(20 * MS, 60 * US, 700 * US).seed(9).build();
        PathEstimator est = new PathEstimator();
        long seq = 1;
        for (long burst = 0; burst < 20; burst++) {
            for (int i = 0; i < 5; i++) {
                long t = burst * 1_000 * MS + i * MS;
                SyntheticPath.Reply rep = p.sendProbegap(t, seq++, 60);
                est.onProbegap(rep.sequence(), rep.sendNs(), rep.sinkRecv100ns(), rep.sinkSend100ns(), rep.recvNs(),
                        60);
            }
        }
        long truthUs = p.baseRttNs(60) / 1000;
        RttEstimate e = est.snapshot(20_000 * MS).rtt().orElseThrow();
        assertThat(e.rttUs()).as("%s vs %d", e, truthUs).isCloseTo(truthUs, within(tolerance(truthUs)));
        assertThat(Math.abs(e.rttUs() - truthUs)).as("cold samples would add ~60–700 µs").isLessThan(20);
    }

    @Test
    void minimumIsWindowedOverTenSeconds() {
        RttEstimator r = new RttEstimator(new RttEstimator.Config(0, 50 * MS, 0, 1_000 * MS, 128, 10_000 * MS));
        long t = 0;
        for (; t < 5_000 * MS; t += 10 * MS) {
            r.onProbe(t, t + 10 * MS, 0); // 10 ms
        }
        for (; t < 30_000 * MS; t += 10 * MS) {
            r.onProbe(t, t + 25 * MS, 0); // the route changed: 25 ms
            RttEstimate e = r.estimate().orElseThrow();
            if (t < 14_000 * MS) {
                assertThat(e.minRttUs()).as("at %d ms", t / MS).isEqualTo(10_000);
            }
            if (t > 16_000 * MS) {
                assertThat(e.minRttUs()).as("at %d ms", t / MS).isEqualTo(25_000);
            }
        }
        assertThat(r.estimate().orElseThrow().rttUs()).isEqualTo(25_000);
    }

    @Test
    void clockOffsetBetweenInitiatorAndSinkDoesNotMatter() {
        long[] results = new long[3];
        long[] offsets = {0, 5_000_000_000_000L, -77_777_777_777L};
        for (int i = 0; i < 3; i++) {
            SyntheticPath p = SyntheticPath.builder(10_000_000L).sinkClock(offsets[i], 0).seed(4).build();
            PathEstimator est = feed(p, 0, 500 * MS, MS, new SplittableRandom(4), new PathEstimator());
            results[i] = est.snapshot(500 * MS).rttUs().orElseThrow();
        }
        assertThat(results[1]).isEqualTo(results[0]);
        assertThat(results[2]).isEqualTo(results[0]);
    }

    @Test
    void meanFollowsTheRecentWindow() {
        RttEstimator r = new RttEstimator(new RttEstimator.Config(0, 50 * MS, 0, 1_000 * MS, 128, 10_000 * MS));
        for (long t = 0; t < 3_000 * MS; t += 10 * MS) {
            r.onProbe(t, t + (t < 1_500 * MS ? 10 : 30) * MS, 0);
        }
        assertThat(r.estimate().orElseThrow().rttUs()).isEqualTo(30_000);
        assertThat(r.estimate().orElseThrow().minRttUs()).isEqualTo(10_000);
    }
}
