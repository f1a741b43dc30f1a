package io.quaver.internal.shaping;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

/// The pure numbers of enforcement, exactly.
class PacingPolicyTest {

    @Test
    void headerBytesFollowTheWireFamily() throws Exception {
        assertThat(PacingPolicy.udpHeaderBytes(InetAddress.getByName("198.18.0.1"))).isEqualTo(28);
        assertThat(PacingPolicy.udpHeaderBytes(InetAddress.getByName("::1"))).isEqualTo(48);
        assertThat(PacingPolicy.udpHeaderBytes(InetAddress.getByName("::ffff:198.18.0.1"))).isEqualTo(28);
        assertThat(PacingPolicy.tcpHeaderBytes(InetAddress.getByName("198.18.0.1"))).isEqualTo(40);
        assertThat(PacingPolicy.tcpHeaderBytes(InetAddress.getByName("fd00::1"))).isEqualTo(60);
        assertThat(PacingPolicy.tcpWireBytes(2896, 1448, 40)).isEqualTo(2896 + 80);
        assertThat(PacingPolicy.tcpWireBytes(2897, 1448, 40)).isEqualTo(2897 + 120);
        assertThat(PacingPolicy.tcpWireBytes(0, 1448, 40)).isEqualTo(40);
    }

    @Test
    void bucketIsFiveMillisecondsAtTheRateAndAtLeastThreeThousandBytes() {
        assertThat(PacingPolicy.burstBytes(64_000)).isEqualTo(3_000);
        assertThat(PacingPolicy.burstBytes(4_800_000)).isEqualTo(3_000);
        assertThat(PacingPolicy.burstBytes(10_000_000)).isEqualTo(6_250);
        assertThat(PacingPolicy.burstBytes(1_000_000_000)).isEqualTo(625_000);
        assertThat(PacingPolicy.burstBytes(Long.MAX_VALUE / 2)).isPositive();
    }

    @Test
    void defaultMinimumBandwidthIsOneMegabit() {
        assertThat(PacingPolicy.effectiveRateBps(0xFFFF_FFFFL)).isEqualTo(1_000_000);
        assertThat(PacingPolicy.effectiveRateBps(0xFFFF_FFFEL)).isEqualTo(0xFFFF_FFFEL);
    }

    @Test
    void hybridWaitParksUntilTheSpinWindowAndBatchesFastFlows() {
        assertThat(PacingPolicy.packetTimeNs(8_000_000, 1000)).isEqualTo(1_000_000);
        // 1,000 B at 8 Mbit/s: 1 ms gaps → spin for the last 100 µs
        assertThat(PacingPolicy.spinAllowed(8_000_000, 1000)).isTrue();
        assertThat(PacingPolicy.parkNs(1_000_000, true)).isEqualTo(900_000);
        assertThat(PacingPolicy.parkNs(100_000, true)).isZero();
        assertThat(PacingPolicy.parkNs(60_000, true)).isZero();
        // 1,228 B at 10 Mbit/s: 982 µs gaps → spin; at 100 Mbit/s 98 µs gaps → park only, then batch
        assertThat(PacingPolicy.spinAllowed(10_000_000, 1228)).isTrue();
        assertThat(PacingPolicy.spinAllowed(100_000_000, 1228)).isFalse();
        assertThat(PacingPolicy.spinAllowed(20_000_000, 1250)).isTrue(); // exactly 500 µs
        assertThat(PacingPolicy.spinAllowed(20_000_000, 1249)).isFalse();
        assertThat(PacingPolicy.parkNs(60_000, false)).isEqualTo(60_000);
        assertThat(PacingPolicy.parkNs(0, false)).isZero();
        assertThat(PacingPolicy.parkNs(-5, true)).isZero();
    }

    @Test
    void spinWindowCoversTheWakeUpLatencyWithinATenthOfTheGap() {
        // fast flows do not spin
        assertThat(PacingPolicy.spinWindowNs(100_000, 80_000)).isZero();
        assertThat(PacingPolicy.spinWindowNs(499_999, 80_000)).isZero();
        // 80 µs overshoot: 120 µs window, capped at a tenth of a 1 ms gap
        assertThat(PacingPolicy.spinWindowNs(1_000_000, 80_000)).isEqualTo(100_000);
        assertThat(PacingPolicy.spinWindowNs(2_000_000, 80_000)).isEqualTo(120_000);
        // a quiet host: never below 100 µs
        assertThat(PacingPolicy.spinWindowNs(1_500_000, 10_000)).isEqualTo(100_000);
        // low rates spend the budget of a twentieth of the gap: 10 ms gap (100 packets/s) →
        // 500 µs, 5 % of a core, whatever the tracked overshoot
        assertThat(PacingPolicy.spinWindowNs(10_000_000, 80_000)).isEqualTo(500_000);
        assertThat(PacingPolicy.spinWindowNs(10_000_000, 10_000)).isEqualTo(500_000);
        // a slow-waking host: 300 µs → 395 µs where that is above the budget
        assertThat(PacingPolicy.spinWindowNs(4_000_000, 300_000)).isEqualTo(395_000);
        // capped at 2 ms: for huge overshoots, and for the budget of very slow flows (25 ms
        // gap: 1.25 ms; 100 ms: 2 ms, 2 % of a core)
        assertThat(PacingPolicy.spinWindowNs(25_000_000, 80_000)).isEqualTo(1_250_000);
        assertThat(PacingPolicy.spinWindowNs(100_000_000, 80_000)).isEqualTo(2_000_000);
        assertThat(PacingPolicy.spinWindowNs(100_000_000, 4_000_000)).isEqualTo(2_000_000);
        for (long gapNs = PacingPolicy.MIN_SPIN_GAP_NS; gapNs < 200_000_000; gapNs += 333_333) {
            assertThat(PacingPolicy.spinWindowNs(gapNs, 5_000_000)).as("gap %d ns", gapNs).isLessThanOrEqualTo(gapNs / 10);
        }
        assertThat(PacingPolicy.parkNs(1_000_000, 395_000)).isEqualTo(605_000);
        assertThat(PacingPolicy.parkNs(300_000, 395_000)).isZero();
    }

    @Test
    void overshootTrackerRisesFastAndDecaysSlowly() {
        PacingPolicy.OvershootTracker t = new PacingPolicy.OvershootTracker(80_000);
        t.record(480_000);
        assertThat(t.estimateNs()).isEqualTo(180_000);
        t.record(20_000);
        assertThat(t.estimateNs()).isEqualTo(175_000);
        t.record(-5);
        assertThat(t.estimateNs()).isEqualTo(175_000 - 175_000 / 32);
        t.record(Long.MAX_VALUE); // clamped to 5 ms
        assertThat(t.estimateNs()).isEqualTo(169_532 + (5_000_000 - 169_532) / 4);
    }
}
