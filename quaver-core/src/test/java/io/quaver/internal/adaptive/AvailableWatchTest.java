package io.quaver.internal.adaptive;

import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/// G8's Available rule: available + own rate ≥ target × 1.05 for 500 ms, in virtual time.
class AvailableWatchTest {
    private static final long MS = 1_000_000L;
    private static final long TARGET = 10_000_000L;

    private static void feed(AvailableWatch w, long fromNs, long toNs, long availableBps) {
        for (long t = fromNs; t < toNs; t += 50 * MS) {
            w.onEstimate(t, availableBps, CongestionState.UNCONGESTED);
        }
    }

    @Test
    void firesAfterTheHeadroomHeldFiveHundredMillisecondsWithTheAvailableBandwidth() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 1_000 * MS, 5_000_000); // 5 + 1 own = 6 Mbit/s: not enough
        assertThat(w.availableFor(TARGET, 1_000_000, 1_000 * MS)).isEmpty();
        feed(w, 1_000 * MS, 1_500 * MS, 9_600_000); // 10.6 Mbit/s ≥ 10.5
        assertThat(w.availableFor(TARGET, 1_000_000, 1_450 * MS)).isEmpty(); // held only 450 ms
        w.onEstimate(1_500 * MS, 9_700_000, CongestionState.UNCONGESTED);
        assertThat(w.availableFor(TARGET, 1_000_000, 1_500 * MS)).isEqualTo(OptionalLong.of(9_700_000));
        // the flow's own rate is what makes the difference
        assertThat(w.availableFor(TARGET, 0, 1_500 * MS)).isEmpty();
    }

    @Test
    void theFivePercentMarginIsTheHysteresis() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 5_000 * MS, TARGET + TARGET / 25); // 4 % above: never enough
        assertThat(w.availableFor(TARGET, 0, 5_000 * MS)).isEmpty();
        feed(w, 5_000 * MS, 6_000 * MS, TARGET + TARGET / 20); // exactly 5 % above
        assertThat(w.availableFor(TARGET, 0, 5_950 * MS)).isPresent();
        AvailableWatch none = new AvailableWatch(500 * MS, 0, 1_000 * MS);
        feed(none, 0, 1_000 * MS, TARGET);
        assertThat(none.availableFor(TARGET, 0, 950 * MS)).isPresent();
    }

    @Test
    void aDipRestartsTheDwell() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 400 * MS, 12_000_000);
        w.onEstimate(400 * MS, 10_400_000, CongestionState.UNCONGESTED); // below 10.5
        feed(w, 450 * MS, 950 * MS, 12_000_000);
        assertThat(w.availableFor(TARGET, 0, 899 * MS)).isEmpty();
        assertThat(w.availableFor(TARGET, 0, 900 * MS)).isEmpty(); // 450 ms since the dip's successor
        assertThat(w.availableFor(TARGET, 0, 950 * MS)).isPresent();
    }

    @Test
    void congestionCountsAsNoHeadroomWhateverTheEstimatesBeforeSaid() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 2_000 * MS, 20_000_000);
        assertThat(w.availableFor(TARGET, 0, 2_000 * MS)).isPresent();
        w.onCongestion(new Transition(CongestionState.UNCONGESTED, CongestionState.CONGESTED, 2_010 * MS,
                Transition.Cause.DELAY_GRADIENT));
        assertThat(w.availableFor(TARGET, 0, 2_010 * MS)).isEmpty();
        w.onEstimate(2_050 * MS, 20_000_000, CongestionState.CONGESTED);
        feed(w, 2_100 * MS, 2_600 * MS, 20_000_000); // uncongested again from 2,100
        assertThat(w.availableFor(TARGET, 0, 2_560 * MS)).isEmpty();
        feed(w, 2_600 * MS, 2_650 * MS, 20_000_000);
        assertThat(w.availableFor(TARGET, 0, 2_600 * MS)).isPresent(); // 500 ms after the last congested moment
    }

    @Test
    void estimatesOfTheDrainedExitHoldCountOnceTheDetectorAgrees() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 2_000 * MS, 20_000_000);
        w.onCongestion(new Transition(CongestionState.UNCONGESTED, CongestionState.CONGESTED, 2_000 * MS,
                Transition.Cause.DELAY_GRADIENT));
        for (long t = 2_000 * MS; t < 2_600 * MS; t += 50 * MS) {
            w.onEstimate(t, 20_000_000, CongestionState.CONGESTED); // queue drained from 2,300
        }
        assertThat(w.availableFor(TARGET, 0, 2_600 * MS)).isEmpty();
        w.onDrainedSince(2_300 * MS);
        assertThat(w.availableFor(TARGET, 0, 2_750 * MS)).as("450 ms since the queue drained").isEmpty();
        feed(w, 2_600 * MS, 2_850 * MS, 20_000_000);
        assertThat(w.availableFor(TARGET, 0, 2_800 * MS)).as("500 ms since").isPresent();
        // the moment congestion was entered never counts
        AvailableWatch early = new AvailableWatch();
        feed(early, 0, 2_000 * MS, 20_000_000);
        early.onCongestion(new Transition(CongestionState.UNCONGESTED, CongestionState.CONGESTED, 2_000 * MS,
                Transition.Cause.QUEUE_LEVEL));
        early.onDrainedSince(1_000 * MS);
        feed(early, 2_050 * MS, 2_500 * MS, 20_000_000);
        assertThat(early.availableFor(TARGET, 0, 2_450 * MS)).isEmpty();
    }

    /// Through the [PathMonitor]: a queue that builds and drains; Available's dwell runs from the
    /// moment the queue drained, not from the end of the detector's exit hold.
    @Test
    void thePathMonitorStartsTheDwellWhereTheQueueDrained() {
        PathMonitor m = new PathMonitor();
        long drainedAt = -1;
        long uncongestedAt = -1;
        long availableAt = -1;
        for (long send = 0; send < 20_000 * MS; send += MS) {
            long t = send - 10_000 * MS;
            long q = t < 0 ? 0 : t < 200 * MS ? t / 2 : t < 400 * MS ? 100 * MS - (t - 200 * MS) / 2 : 0;
            if (t >= 400 * MS && drainedAt < 0) {
                drainedAt = send;
            }
            long arrive = send + 20 * MS + q;
            Transition tr = m.onProbe(arrive, send / MS, send, arrive);
            if (tr != null && tr.to() == CongestionState.UNCONGESTED) {
                uncongestedAt = arrive;
            }
            if (send % (10 * MS) == 0) {
                m.onEstimate(arrive, t >= 0 && t < 400 * MS ? 0 : 20_000_000);
            }
            if (availableAt < 0 && uncongestedAt >= 0 && m.state() == CongestionState.UNCONGESTED
                    && m.availableFor(TARGET, 0, arrive).isPresent()) {
                availableAt = arrive;
            }
        }
        assertThat(uncongestedAt - drainedAt).as("exit hold").isGreaterThanOrEqualTo(300 * MS);
        assertThat(availableAt - drainedAt).as("dwell from the drain").isBetween(500 * MS, 560 * MS);
    }

    @Test
    void staleEstimatesAreNoEvidenceAndResetForgets() {
        AvailableWatch w = new AvailableWatch();
        feed(w, 0, 1_000 * MS, 20_000_000);
        assertThat(w.availableFor(TARGET, 0, 1_000 * MS)).isPresent();
        assertThat(w.availableFor(TARGET, 0, 2_100 * MS)).isEmpty();
        w.reset();
        assertThat(w.availableFor(TARGET, 0, 1_000 * MS)).isEmpty();
        assertThat(w.lastAvailableBps()).isEqualTo(-1);
    }

    @Test
    void aLongHistoryKeepsOnlyTheDwellWindow() {
        AvailableWatch w = new AvailableWatch();
        for (long t = 0; t < 600_000 * MS; t += MS) { // 10 min of estimates every 1 ms
            w.onEstimate(t, t < 599_000 * MS ? 1_000 : 20_000_000, CongestionState.UNCONGESTED);
        }
        assertThat(w.availableFor(TARGET, 0, 599_999 * MS)).isPresent();
    }

    @Test
    void thePathMonitorTellsTheWatchAboutCongestion() {
        PathMonitor m = new PathMonitor();
        long t = 0;
        for (; t < 10_000 * MS; t += MS) {
            m.onProbe(t + 20 * MS, t / MS, t, t + 10 * MS);
            if (t % (50 * MS) == 0) {
                m.onEstimate(t + 20 * MS, 50_000_000);
            }
        }
        assertThat(m.availableFor(TARGET, 0, t + 20 * MS)).isPresent();
        Transition congested = null;
        for (long q = 0; congested == null; t += MS, q += MS / 2) {
            congested = m.onProbe(t + 20 * MS + q, t / MS, t, t + 10 * MS + q);
        }
        assertThat(m.state()).isEqualTo(CongestionState.CONGESTED);
        assertThat(m.availableFor(TARGET, 0, congested.atNs())).isEmpty();
    }
}
