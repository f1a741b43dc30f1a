package io.quaver.internal.qlpb;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/// The sink's route-check observations ([MS-QLPB] §3.2.5.4) on the trains qWAVE sends: probe
/// 1 oversized on the priority socket, 2–4 best effort, 5 (Train_Size 5) on the priority
/// socket; sequence numbers continue across rounds.
class RouteCheckObserverTest {
    /// Feeds probes `order` (offsets 1..5 within the round starting after `base`) and returns
    /// the observations reported, in order, as a string.
    private static String round(RouteCheckObserver observer, long base, int... order) {
        StringBuilder seen = new StringBuilder();
        for (int k : order) {
            Observation o = observer.onProbe(base + k, k == 5 ? 5 : 0, k == 1);
            if (o != null) {
                seen.append(o).append(' ');
            }
        }
        return seen.toString().trim();
    }

    @Test
    void inOrderTrainIsNoIssue() {
        RouteCheckObserver observer = new RouteCheckObserver();
        assertThat(round(observer, 0, 1, 2, 3, 4, 5)).isEqualTo("NO_ISSUE");
        assertThat(round(observer, 5, 1, 2, 3, 4, 5)).isEqualTo("NO_ISSUE");
    }

    @Test
    void finalPriorityProbeOvertakingABestEffortOneIsInversion() {
        RouteCheckObserver observer = new RouteCheckObserver();
        assertThat(round(observer, 0, 1, 2, 3, 5, 4)).isEqualTo("INVERSION");
        assertThat(round(observer, 5, 1, 5, 2, 3, 4)).isEqualTo("INVERSION");
        assertThat(round(observer, 10, 1, 2, 3, 4, 5)).isEqualTo("NO_ISSUE");
    }

    @Test
    void missingOversizedProbeIsLoss() {
        RouteCheckObserver observer = new RouteCheckObserver();
        assertThat(round(observer, 0, 2, 3, 4, 5)).isEqualTo("LOSS");
        assertThat(round(observer, 5, 2, 3, 4, 5)).isEqualTo("LOSS");
        assertThat(round(observer, 10, 1, 2, 3, 4, 5)).isEqualTo("NO_ISSUE");
    }

    @Test
    void otherGapsReportNothingYet() {
        RouteCheckObserver observer = new RouteCheckObserver();
        // best-effort probe 3 lost; the oversized one arrived: no verdict for this train
        assertThat(round(observer, 0, 1, 2, 4, 5)).isEmpty();
        // the next clean train still reports
        assertThat(round(observer, 5, 1, 2, 3, 4, 5)).isEqualTo("NO_ISSUE");
    }

    @Test
    void sequenceContinuityWrapsAround() {
        RouteCheckObserver observer = new RouteCheckObserver();
        long base = 0xFFFF_FFFFL - 5; // probes ...FFFA..FFFE, then the next round wraps
        assertThat(round(observer, base, 1, 2, 3, 4, 5)).isEqualTo("NO_ISSUE");
        assertThat(observer.onProbe(0xFFFF_FFFFL, 0, true)).isNull();
        assertThat(observer.onProbe(0, 0, false)).isNull();
        assertThat(observer.onProbe(1, 0, false)).isNull();
        assertThat(observer.onProbe(2, 0, false)).isNull();
        assertThat(observer.onProbe(3, 5, false)).isEqualTo(Observation.NO_ISSUE);
    }
}
