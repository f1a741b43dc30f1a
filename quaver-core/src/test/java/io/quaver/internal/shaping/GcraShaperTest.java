package io.quaver.internal.shaping;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The shaper core in virtual time, with exact expected waits.
class GcraShaperTest {
    private static final long MS = 1_000_000L;

    @Test
    void pacesBackToBackPacketsAtExactlyTheRate() {
        // 8 Mbit/s = 1 byte per microsecond: a 1,000-byte packet costs exactly 1 ms.
        GcraShaper s = new GcraShaper(8_000_000, 0, 0);
        assertThat(s.reserve(0, 1000)).isZero();
        assertThat(s.reserve(0, 1000)).isEqualTo(1 * MS);
        assertThat(s.reserve(0, 1000)).isEqualTo(2 * MS);
        assertThat(s.reserve(MS / 2, 1000)).isEqualTo(5 * MS / 2); // TAT is 3 ms: 2.5 ms from 0.5 ms
    }

    @Test
    void burstToleranceLetsThatManyBytesGoAtOnceAndNoMore() {
        GcraShaper s = new GcraShaper(8_000_000, 3000, 0);
        assertThat(s.reserve(0, 1000)).isZero();
        assertThat(s.reserve(0, 1000)).isZero();
        assertThat(s.reserve(0, 1000)).isZero();
        assertThat(s.reserve(0, 1000)).isZero(); // burst 3,000 B plus the packet being decided
        assertThat(s.reserve(0, 1000)).isEqualTo(1 * MS);
        assertThat(s.reserve(0, 1000)).isEqualTo(2 * MS);
    }

    @Test
    void catchUpAfterAStallIsBoundedByTheBurst() {
        GcraShaper s = new GcraShaper(8_000_000, 2000, 0);
        for (int i = 0; i < 10; i++) {
            s.reserve(i * MS, 1000); // steady at the rate
        }
        // The sender stalls for 100 ms (GC). Afterwards only burst + 1 packet go at once.
        long now = 110 * MS;
        int immediate = 0;
        while (s.reserve(now, 1000) == 0) {
            immediate++;
        }
        assertThat(immediate).isEqualTo(3);
    }

    @Test
    void nonConformantTrafficConsumesNothing() {
        GcraShaper s = new GcraShaper(8_000_000, 0, 0);
        assertThat(s.tryConsume(0, 1000)).isTrue();
        assertThat(s.tryConsume(0, 1000)).isFalse();
        assertThat(s.tryConsume(MS / 2, 1000)).isFalse();
        assertThat(s.tryConsume(MS, 1000)).isTrue();
        assertThat(s.tryConsume(2 * MS - 1, 1000)).isFalse();
        assertThat(s.tryConsume(2 * MS, 1000)).isTrue();
        assertThat(s.nextConformantNs(2 * MS)).isEqualTo(3 * MS);
    }

    @ParameterizedTest
    @ValueSource(longs = {64_000L, 1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L, 3_000_001L})
    void longRunRateIsExact(long rateBps) {
        for (int size : new int[] {228, 1228}) {
            GcraShaper s = new GcraShaper(rateBps, 0, 0);
            long now = 0;
            long bytes = 0;
            int packets = 20_000;
            for (int i = 0; i < packets; i++) {
                now += s.reserve(now, size);
                bytes += size;
            }
            // The last packet leaves at (n-1) costs; the exact schedule is bytes·8/rate.
            double expectedNs = (double) (bytes - size) * 8e9 / rateBps;
            assertThat((double) now).isCloseTo(expectedNs, org.assertj.core.data.Offset.offset(Math.max(2.0, expectedNs * 1e-9)));
        }
    }

    @Test
    void everyWindowConformsUnderRandomArrivals() {
        long seed = 20261124L;
        SplittableRandom rnd = new SplittableRandom(seed);
        long rateBps = 10_000_000;
        long burst = 5_000;
        GcraShaper s = new GcraShaper(rateBps, burst, 0);
        long now = 0;
        long[] sendTimes = new long[50_000];
        int[] sizes = new int[sendTimes.length];
        for (int i = 0; i < sendTimes.length; i++) {
            now += rnd.nextInt(0, 2_000_000); // bursty arrivals, sometimes idle
            sizes[i] = rnd.nextInt(64, 1500);
            long t = now + s.reserve(now, sizes[i]);
            sendTimes[i] = t;
        }
        // Bytes departing in any window of length w never exceed rate·w + burst + one packet.
        long windowNs = 10 * MS;
        int j = 0;
        long inWindow = 0;
        for (int i = 0; i < sendTimes.length; i++) {
            inWindow += sizes[i];
            while (sendTimes[i] - sendTimes[j] >= windowNs) {
                inWindow -= sizes[j++];
            }
            assertThat(inWindow).as("seed %d, packet %d", seed, i)
                    .isLessThanOrEqualTo(rateBps * windowNs / 8_000_000_000L + burst + 1500);
        }
    }

    @Test
    void rateChangeKeepsCommittedSchedule() {
        GcraShaper s = new GcraShaper(8_000_000, 0, 0);
        s.reserve(0, 1000);
        s.setRate(16_000_000, 0); // 0.5 ms per 1,000 B from now on
        assertThat(s.reserve(0, 1000)).isEqualTo(MS);
        assertThat(s.reserve(0, 1000)).isEqualTo(MS + MS / 2);
        assertThat(s.rateBps()).isEqualTo(16_000_000);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new GcraShaper(0, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GcraShaper(1, -1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void twoThreadsNeverOverCommit() throws Exception {
        GcraShaper s = new GcraShaper(8_000_000, 0, 0);
        int perThread = 100_000;
        long[] lastWait = new long[2];
        Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int idx = t;
            threads[t] = Thread.ofPlatform().start(() -> {
                long w = 0;
                for (int i = 0; i < perThread; i++) {
                    w = Math.max(w, s.reserve(0, 1000));
                }
                lastWait[idx] = w;
            });
        }
        for (Thread t : threads) {
            t.join();
        }
        // 200,000 packets of 1 ms each, all reserved at t=0: the last waits exactly 199,999 ms.
        assertThat(Math.max(lastWait[0], lastWait[1])).isEqualTo((2L * perThread - 1) * MS);
    }
}
