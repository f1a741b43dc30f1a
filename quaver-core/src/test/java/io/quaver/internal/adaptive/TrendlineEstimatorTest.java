package io.quaver.internal.adaptive;

import io.quaver.internal.adaptive.TrendlineEstimator.Hypothesis;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/// The GoogCC trendline port on hand-made delay series.
class TrendlineEstimatorTest {
    private static final long MS = 1_000_000L;

    @Test
    void constantDelayIsNormalAndTheThresholdDecaysToItsFloor() {
        TrendlineEstimator t = new TrendlineEstimator();
        for (long send = 0; send < 5_000 * MS; send += MS) {
            assertThat(t.onPacket(send, send + 20 * MS + 123_456_789L)).isEqualTo(Hypothesis.NORMAL);
        }
        assertThat(t.threshold()).isEqualTo(TrendlineEstimator.MIN_THRESHOLD);
        // 1 ms spacing, 5 ms groups: a group closes with the packet sent more than 5 ms after its first
        assertThat(t.groups()).isBetween(5_000L / 6 - 2, 5_000L / 6 + 2);
    }

    @Test
    void growingDelayIsOverUseWithinAboutOneHundredMilliseconds() {
        TrendlineEstimator t = new TrendlineEstimator();
        long send = 0;
        for (; send < 3_000 * MS; send += MS) {
            t.onPacket(send, send + 20 * MS);
        }
        long onset = send;
        long detectedAt = -1;
        for (; send < onset + 500 * MS; send += MS) {
            long queue = (send - onset) * 4 / 10; // the queue grows 0.4 ms per ms
            if (t.onPacket(send, send + 20 * MS + queue) == Hypothesis.OVERUSING && detectedAt < 0) {
                detectedAt = send;
            }
        }
        assertThat(detectedAt).isPositive();
        assertThat(detectedAt - onset).isLessThan(120 * MS);
        // the slope is per ms of *arrival* time: arrivals spread 1.4x, so 0.4 / 1.4
        assertThat(t.trend()).isCloseTo(0.4 / 1.4, org.assertj.core.data.Offset.offset(0.02));
    }

    @Test
    void aDrainingQueueIsNeverOverUseAndItsCompressedArrivalsGroupAsBursts() {
        TrendlineEstimator t = new TrendlineEstimator();
        long send = 0;
        for (; send < 1_000 * MS; send += MS) {
            t.onPacket(send, send + 80 * MS);
        }
        long groups = t.groups();
        // arrivals come closer than sends: GoogCC's burst rule merges them (up to 100 ms per group)
        for (long q = 80 * MS; q > 0; q -= MS / 5, send += MS) {
            assertThat(t.onPacket(send, send + q)).isNotEqualTo(Hypothesis.OVERUSING);
        }
        assertThat(t.groups() - groups).isBetween(3L, 6L);
    }

    @Test
    void arrivalBurstsAreGroupedAndDoNotReadAsOverUse() {
        long seed = 42;
        SplittableRandom rnd = new SplittableRandom(seed);
        TrendlineEstimator t = new TrendlineEstimator();
        long release = 0;
        int overuse = 0;
        for (long send = 0; send < 60_000 * MS; send += MS) {
            long arrival = send + 10 * MS;
            while (release < arrival) {
                release += rnd.nextLong(20 * MS, 40 * MS + 1); // Wi-Fi-like aggregation
            }
            if (t.onPacket(send, release) == Hypothesis.OVERUSING) {
                overuse++;
            }
        }
        // one group per burst (about 30 ms), not one per 5 ms of sending
        assertThat(t.groups()).as("seed %d", seed).isBetween(60_000L / 40, 60_000L / 20);
        assertThat(overuse).as("seed %d", seed).isLessThan(60);
    }

    @Test
    void reorderedPacketsAreIgnoredAndAStreamTimeoutResets() {
        TrendlineEstimator t = new TrendlineEstimator();
        for (long send = 0; send < 1_000 * MS; send += MS) {
            t.onPacket(send, send + 20 * MS);
        }
        long groups = t.groups();
        t.onPacket(10 * MS, 1_030 * MS); // an old packet arriving late
        assertThat(t.groups()).isEqualTo(groups);
        t.onPacket(5_000 * MS, 5_020 * MS); // after more than 2 s of silence
        assertThat(t.threshold()).isEqualTo(TrendlineEstimator.INITIAL_THRESHOLD);
        assertThat(t.hypothesis()).isEqualTo(Hypothesis.NORMAL);
    }
}
