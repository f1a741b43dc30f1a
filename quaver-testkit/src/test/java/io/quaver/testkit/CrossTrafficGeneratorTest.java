package io.quaver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrossTrafficGeneratorTest {
    private static final long MS = 1_000_000L;

    private static List<Long> arrivals(CrossTrafficGenerator g, int n) {
        var out = new ArrayList<Long>();
        for (int i = 0; i < n; i++) {
            out.add(g.nextArrivalNs());
            g.advance();
        }
        return out;
    }

    @Test
    void cbrIsEvenlySpaced() {
        // 1500 B = 12 000 bits at 12 Mbit/s: one per millisecond.
        var g = new CrossTrafficGenerator(new CrossTraffic.Cbr(12_000_000, 1500), 0, 1);
        assertThat(arrivals(g, 4)).containsExactly(MS, 2 * MS, 3 * MS, 4 * MS);
        assertThat(g.nextSizeBytes()).isEqualTo(1500);
    }

    @Test
    void cbrCarriesRemaindersExactly() {
        // 12 000 bits at 7 Mbit/s = 1 714 285.71 ns: seven gaps are exactly 12 ms.
        var g = new CrossTrafficGenerator(new CrossTraffic.Cbr(7_000_000, 1500), 0, 1);
        assertThat(arrivals(g, 7).getLast()).isEqualTo(12 * MS);
    }

    @Test
    void silentAtRateZero() {
        var g = new CrossTrafficGenerator(CrossTraffic.none(), 0, 1);
        assertThat(g.nextArrivalNs()).isEqualTo(Long.MAX_VALUE);
        g.advance();
        assertThat(g.nextArrivalNs()).isEqualTo(Long.MAX_VALUE);
        g.reconfigure(5 * MS, CrossTraffic.cbr(12_000_000));
        assertThat(g.nextArrivalNs()).isEqualTo(6 * MS);
    }

    @Test
    void poissonHasTheMeanRateAndIsReproducible() {
        var a = new CrossTrafficGenerator(CrossTraffic.poisson(12_000_000), 0, 42);
        var b = new CrossTrafficGenerator(CrossTraffic.poisson(12_000_000), 0, 42);
        var c = new CrossTrafficGenerator(CrossTraffic.poisson(12_000_000), 0, 43);
        List<Long> xa = arrivals(a, 100_000);
        assertThat(arrivals(b, 100_000)).isEqualTo(xa);
        assertThat(arrivals(c, 100_000)).isNotEqualTo(xa);
        // 100 000 arrivals at one per ms on average: mean gap 1 ms ± 1 % (σ of the mean is 0.3 %).
        assertThat(xa.getLast() / 100_000.0).isCloseTo(MS, within(0.01 * MS));
        // Exponential gaps: about e^-1 of them are longer than the mean.
        long longer = 0;
        for (int i = 1; i < xa.size(); i++) {
            if (xa.get(i) - xa.get(i - 1) > MS) {
                longer++;
            }
        }
        assertThat(longer / (double) xa.size()).isCloseTo(Math.exp(-1), within(0.01));
    }

    @Test
    void onOffSendsCbrOnlyDuringOnPeriods() {
        // 12 Mbit/s while on (one per ms), on 10 ms, off 30 ms.
        var g = new CrossTrafficGenerator(new CrossTraffic.OnOff(12_000_000, 1500, 10 * MS, 30 * MS), 0, 1);
        List<Long> xs = arrivals(g, 20);
        for (int i = 0; i < 10; i++) {
            assertThat(xs.get(i)).isEqualTo(i * MS);
            assertThat(xs.get(10 + i)).isEqualTo(40 * MS + i * MS);
        }
        assertThat(new CrossTraffic.OnOff(12_000_000, 1500, 10 * MS, 30 * MS).meanRateBps()).isEqualTo(3_000_000);
    }

    @Test
    void skipJumpsAheadAndEstimatesTheSkippedCount() {
        var g = new CrossTrafficGenerator(CrossTraffic.cbr(12_000_000), 0, 1);
        long skipped = g.skipTo(1_000 * MS);
        assertThat(skipped).isBetween(999L, 1_001L);
        assertThat(g.nextArrivalNs()).isEqualTo(1_001 * MS);
    }
}
