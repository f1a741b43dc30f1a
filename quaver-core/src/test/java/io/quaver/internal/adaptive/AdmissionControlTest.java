package io.quaver.internal.adaptive;

import io.quaver.OutgoingRate;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.internal.adaptive.AdmissionDecision.Verdict;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// Admission of adaptive flows' rates (qwave.md §5.7, §8.7).
class AdmissionControlTest {
    private static final OptionalLong BOTTLENECK = OptionalLong.of(100_000_000);
    private static final OptionalLong AVAILABLE = OptionalLong.of(40_000_000);
    private static final AdmissionPolicy P = AdmissionPolicy.DEFAULT;

    private static Verdict decide(OptionalLong bottleneck, OptionalLong available, long requested, long current,
                                  long others, boolean onLink) {
        return AdmissionControl.decide(bottleneck, available, requested, current, others, onLink, P).verdict();
    }

    @Test
    void admitsWhatTheAvailableBandwidthCanCarry() {
        assertThat(decide(BOTTLENECK, AVAILABLE, 40_000_000, 0, 0, true)).isEqualTo(Verdict.ADMIT);
        assertThat(decide(BOTTLENECK, AVAILABLE, 40_000_001, 0, 0, true)).isEqualTo(Verdict.NETWORK_BUSY);
        assertThat(Verdict.NETWORK_BUSY.error().code()).isEqualTo(54);
    }

    @Test
    void insufficientEstimatesAreRetry() {
        assertThat(decide(OptionalLong.empty(), OptionalLong.empty(), 1_000_000, 0, 0, true)).isEqualTo(Verdict.RETRY);
        assertThat(decide(OptionalLong.empty(), AVAILABLE, 1_000_000, 0, 0, true)).isEqualTo(Verdict.RETRY);
        assertThat(decide(BOTTLENECK, OptionalLong.empty(), 1_000_000, 0, 0, true)).isEqualTo(Verdict.RETRY);
        assertThat(Verdict.RETRY.error().code()).isEqualTo(1237);
        // but a rate above the bottleneck is refused as soon as the bottleneck is known
        assertThat(decide(BOTTLENECK, OptionalLong.empty(), 200_000_000, 0, 0, true)).isEqualTo(Verdict.NETWORK_BUSY);
    }

    @Test
    void offLinkIsAlwaysAdmittedAndZeroRemovesTheContract() {
        assertThat(decide(OptionalLong.empty(), OptionalLong.empty(), 900_000_000, 0, 0, false)).isEqualTo(Verdict.ADMIT);
        assertThat(decide(OptionalLong.empty(), OptionalLong.empty(), 0, 5, 5, true)).isEqualTo(Verdict.ADMIT);
    }

    @Test
    void aRateAboveTheBottleneckIsRefusedEvenWithRoomToSpare() {
        AdmissionDecision d = AdmissionControl.decide(BOTTLENECK, OptionalLong.of(100_000_000), 100_000_001, 0, 0,
                true, P);
        assertThat(d.verdict()).isEqualTo(Verdict.NETWORK_BUSY);
        assertThat(d.reason()).contains("bottleneck");
        assertThatThrownBy(d::throwIfRefused)
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.error()).isEqualTo(QosError.NETWORK_BUSY));
    }

    @Test
    void ratesAdmittedToOtherFlowsTowardsThePathCount() {
        // 70 Mbit/s already admitted to others (idle yet: the measurement still shows 80 free)
        assertThat(decide(BOTTLENECK, OptionalLong.of(80_000_000), 30_000_000, 0, 70_000_000, true))
                .isEqualTo(Verdict.ADMIT);
        assertThat(decide(BOTTLENECK, OptionalLong.of(80_000_000), 30_000_001, 0, 70_000_000, true))
                .isEqualTo(Verdict.NETWORK_BUSY);
        AdmissionPolicy strict = new AdmissionPolicy(0.9, 1.0, 64_000);
        assertThat(AdmissionControl.decide(BOTTLENECK, OptionalLong.of(80_000_000), 30_000_000, 0, 70_000_000, true,
                strict).verdict()).isEqualTo(Verdict.NETWORK_BUSY);
    }

    @Test
    void theFlowsOwnCurrentRateCountsAsHeadroomWhenItChangesRate() {
        // the flow sends 20 Mbit/s (in the measurement as cross traffic) and asks for 50
        assertThat(decide(BOTTLENECK, OptionalLong.of(30_000_000), 50_000_000, 20_000_000, 0, true))
                .isEqualTo(Verdict.ADMIT);
        assertThat(decide(BOTTLENECK, OptionalLong.of(30_000_000), 50_000_000, 0, 0, true))
                .isEqualTo(Verdict.NETWORK_BUSY);
    }

    @Test
    void theDefaultMinimumCountsAsSmall() {
        assertThat(decide(BOTTLENECK, OptionalLong.of(100_000), OutgoingRate.DEFAULT_MINIMUM_BANDWIDTH_BPS, 0, 0, true))
                .isEqualTo(Verdict.ADMIT);
        assertThat(decide(BOTTLENECK, OptionalLong.of(10_000), OutgoingRate.DEFAULT_MINIMUM_BANDWIDTH_BPS, 0, 0, true))
                .isEqualTo(Verdict.NETWORK_BUSY);
    }

    /// The SDK sample's path: refused with 54, wait for Available at the wanted rate, then the
    /// same request is admitted.
    @Test
    void reAdmissionAfterAvailableFires() {
        long ms = 1_000_000L;
        long wanted = 30_000_000;
        long current = 3_000_000; // the flow dropped to a tenth
        AvailableWatch watch = new AvailableWatch();
        NotificationRegistry registry = new NotificationRegistry(8);
        long now = 0;
        for (; now < 1_000 * ms; now += 50 * ms) {
            watch.onEstimate(now, 20_000_000, CongestionState.UNCONGESTED);
        }
        assertThat(AdmissionControl.decide(BOTTLENECK, OptionalLong.of(20_000_000), wanted, current, 0, true, P)
                .verdict()).isEqualTo(Verdict.NETWORK_BUSY);
        long t0 = now;
        var reg = registry.notifyAvailable(1, wanted, current, watch.availableFor(wanted, current, now));
        assertThat(reg.immediate()).isFalse();
        long fired = -1;
        for (; now < t0 + 2_000 * ms && fired < 0; now += 50 * ms) {
            long available = now < t0 + 300 * ms ? 20_000_000 : 29_000_000; // cross traffic left
            watch.onEstimate(now, available, CongestionState.UNCONGESTED);
            long at = now;
            var done = registry.onAvailability(1, t -> watch.availableFor(t, current, at));
            if (!done.isEmpty()) {
                Completion.performAll(done);
                fired = now;
            }
        }
        assertThat(fired - (t0 + 300 * ms)).isBetween(500 * ms, 550 * ms);
        long available = reg.future().join();
        assertThat(available).isEqualTo(29_000_000);
        assertThat(AdmissionControl.decide(BOTTLENECK, OptionalLong.of(available), wanted, current, 0, true, P)
                .admitted()).isTrue();
    }
}
