package io.quaver.internal.adaptive;

import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/// G8's Available rule: ≥ target × 1.05 for 500 ms, in virtual time.
class AvailableWatchTest {
    private static final long MS = 1_000_000L;
    private static final long TARGET = 10_000_000L;

    private static void feed(AvailableWatch w, long fromNs, long toNs, long availableBps, long ownBps) {
        for (long t = fromNs; t < toNs; t += 50 * MS) {
            w.onEstimate(t, availableBps, ownBps, CongestionState.UNCONGESTED);
        }
    }

    @Test
    void firesAfterTheHeadroomHeldFiveHundredMillisecondsWithTheAvailableBandwidth() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 1_000 * MS, 5_000_000, 1_000_000); // 6 Mbit/s of headroom: not enough
        assertThat(w.availableFor(TARGET, 1_000 * MS)).isEmpty();
        feed(w, 1_000 * MS, 1_500 * MS, 9_600_000, 1_000_000); // 10.6 Mbit/s ≥ 10.5
        assertThat(w.availableFor(TARGET, 1_450 * MS)).isEmpty(); // held only 450 ms
        w.onEstimate(1_500 * MS, 9_700_000, 1_000_000, CongestionState.UNCONGESTED);
        assertThat(w.availableFor(TARGET, 1_500 * MS)).isEqualTo(OptionalLong.of(9_700_000));
    }

    @Test
    void theFivePercentMarginIsTheHysteresis() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 5_000 * MS, TARGET + TARGET / 25, 0); // 4 % above: never enough
        assertThat(w.availableFor(TARGET, 5_000 * MS)).isEmpty();
        feed(w, 5_000 * MS, 6_000 * MS, TARGET + TARGET / 20, 0); // exactly 5 % above
        assertThat(w.availableFor(TARGET, 5_950 * MS)).isPresent();
    }

    @Test
    void aDipRestartsTheDwell() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 400 * MS, 12_000_000, 0);
        w.onEstimate(400 * MS, 10_400_000, 0, CongestionState.UNCONGESTED); // below 10.5
        feed(w, 450 * MS, 900 * MS, 12_000_000, 0);
        assertThat(w.availableFor(TARGET, 880 * MS)).isEmpty();
        feed(w, 900 * MS, 950 * MS, 12_000_000, 0);
        assertThat(w.availableFor(TARGET, 900 * MS)).isEmpty(); // 450 ms after the dip's successor
        assertThat(w.availableFor(TARGET, 950 * MS)).isPresent();
    }

    @Test
    void congestionCountsAsNoHeadroomWhateverTheEstimatesBeforeSaid() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 2_000 * MS, 20_000_000, 0);
        assertThat(w.availableFor(TARGET, 2_000 * MS)).isPresent();
        w.onCongestion(new Transition(CongestionState.UNCONGESTED, CongestionState.CONGESTED, 2_010 * MS,
                Transition.Cause.DELAY_GRADIENT));
        assertThat(w.availableFor(TARGET, 2_010 * MS)).isEmpty();
        w.onEstimate(2_050 * MS, 20_000_000, 0, CongestionState.CONGESTED);
        feed(w, 2_100 * MS, 2_600 * MS, 20_000_000, 0);
        assertThat(w.availableFor(TARGET, 2_560 * MS)).isEmpty();
        feed(w, 2_600 * MS, 2_700 * MS, 20_000_000, 0);
        assertThat(w.availableFor(TARGET, 2_650 * MS)).isPresent();
    }

    @Test
    void staleEstimatesAreNoEvidenceAndResetForgets() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 1_000 * MS, 20_000_000, 0);
        assertThat(w.availableFor(TARGET, 1_000 * MS)).isPresent();
        assertThat(w.availableFor(TARGET, 2_100 * MS)).isEmpty();
        w.reset();
        assertThat(w.availableFor(TARGET, 1_000 * MS)).isEmpty();
        assertThat(w.lastAvailableBps()).isEqualTo(-1);
    }

    @Test
    void theFlowsOwnRateCountsAsHeadroom() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 1_000 * MS, 9_000_000, 1_000_000); // sample loop: dropped to a tenth of 10 Mbit/s
        assertThat(w.availableFor(TARGET, 950 * MS)).isEmpty(); // 10.0 < 10.5
        feed(w, 1_000 * MS, 2_000 * MS, 9_600_000, 1_000_000);
        assertThat(w.availableFor(TARGET, 1_950 * MS)).hasValue(9_600_000);
    }
}
