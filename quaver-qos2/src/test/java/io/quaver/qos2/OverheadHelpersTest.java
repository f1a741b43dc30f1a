package io.quaver.qos2;

import org.junit.jupiter.api.Test;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// `QOS_HEADER_OVERHEAD`, `QOS_ADD_OVERHEAD`, `QOS_SUBTRACT_OVERHEAD` (qwave.md §3.4) against
/// worked examples, including the `UINT32` wrap of `targetDataPacketSize * 8` and `UINT64`
/// values beyond `Long.MAX_VALUE`.
class OverheadHelpersTest {

    @Test
    void headerOverhead() {
        assertThat(QOS_HEADER_OVERHEAD(AF_INET, IPPROTO_UDP)).isEqualTo(28);
        assertThat(QOS_HEADER_OVERHEAD(AF_INET, IPPROTO_TCP)).isEqualTo(40);
        assertThat(QOS_HEADER_OVERHEAD(AF_INET6, IPPROTO_UDP)).isEqualTo(48);
        assertThat(QOS_HEADER_OVERHEAD(AF_INET6, IPPROTO_TCP)).isEqualTo(60);
        // any other family counts as IPv6, any other protocol as UDP
        assertThat(QOS_HEADER_OVERHEAD(0, 0)).isEqualTo(48);
        assertThat(QOS_HEADER_OVERHEAD(10, IPPROTO_TCP)).isEqualTo(60);
    }

    @Test
    void qwaveWorkedExampleIpv4Udp() {
        // 1400-byte payloads carry 28 header bytes each: 10 Mbit/s * (1 + 28/1400) = 10.2 Mbit/s
        assertThat(QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 1400, 10_000_000L)).isEqualTo(10_200_000L);
        assertThat(QOS_SUBTRACT_OVERHEAD(AF_INET, IPPROTO_UDP, 1400, 10_200_000L)).isEqualTo(10_000_000L);
    }

    @Test
    void tcpOverIpv4BulkSegments() {
        // 320 / 11680 * 1,000,000 = 27,397.26… → truncated to 27,397
        assertThat(QOS_ADD_OVERHEAD(AF_INET, IPPROTO_TCP, 1460, 1_000_000L)).isEqualTo(1_027_397L);
        // 320 / 12000 * 1,027,397 = 27,397.25… → 1,027,397 − 27,397
        assertThat(QOS_SUBTRACT_OVERHEAD(AF_INET, IPPROTO_TCP, 1460, 1_027_397L)).isEqualTo(1_000_000L);
    }

    @Test
    void udpOverIpv6() {
        // 384 / 9856 * 1,000,000 = 38,961.03… → 38,961
        assertThat(QOS_ADD_OVERHEAD(AF_INET6, IPPROTO_UDP, 1232, 1_000_000L)).isEqualTo(1_038_961L);
        // 384 / 10240 * 1,038,961 = 38,961.03… → 1,000,000
        assertThat(QOS_SUBTRACT_OVERHEAD(AF_INET6, IPPROTO_UDP, 1232, 1_038_961L)).isEqualTo(1_000_000L);
    }

    @Test
    void packetSizeTimesEightWrapsModulo2To32() {
        // 0x20000001 * 8 = 0x1_0000_0008 → 8 as UINT32: the ratio is 224 / 8 = 28
        assertThat(QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 0x2000_0001, 1000L)).isEqualTo(29_000L);
        // a size of 2^31 or more is a negative int: 0x80000001 * 8 wraps to 8 as well
        assertThat(QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 0x8000_0001, 1000L)).isEqualTo(29_000L);
        // subtract: 224 / (8 + 224) * 1000 = 965.5… → 1000 − 965
        assertThat(QOS_SUBTRACT_OVERHEAD(AF_INET, IPPROTO_UDP, 0x2000_0001, 1000L)).isEqualTo(35L);
        // no wrap just below: 0x1FFFFFFF * 8 = 0xFFFFFFF8
        assertThat(QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 0x1FFF_FFFF, 10_000_000L)).isEqualTo(10_000_000L);
    }

    @Test
    void aPacketSizeWhoseBitsAreZeroDividesByZero() {
        assertThatThrownBy(() -> QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 0, 1000L))
                .isInstanceOf(ArithmeticException.class);
        // 2^29 * 8 = 2^32 → 0 as UINT32
        assertThatThrownBy(() -> QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 0x2000_0000, 1000L))
                .isInstanceOf(ArithmeticException.class);
        // subtract never divides by zero: ov / (0 + ov) = 1, so everything is overhead
        assertThat(QOS_SUBTRACT_OVERHEAD(AF_INET, IPPROTO_UDP, 0, 1000L)).isZero();
    }

    @Test
    void ratesAreUnsigned64Bit() {
        // IPv4/UDP with 112-byte payloads: 224 / 896 = 0.25 exactly
        long twoPow63 = 0x8000_0000_0000_0000L;
        long sum = QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 112, twoPow63);
        assertThat(Long.toUnsignedString(sum)).isEqualTo("11529215046068469760"); // 2^63 + 2^61
        assertThat(sum).isEqualTo(0xA000_0000_0000_0000L);
        // 84-byte payloads: 224 / (672 + 224) = 0.25 exactly; 0xC000… − 0x3000… = 0x9000…
        assertThat(QOS_SUBTRACT_OVERHEAD(AF_INET, IPPROTO_UDP, 84, 0xC000_0000_0000_0000L))
                .isEqualTo(0x9000_0000_0000_0000L);
        // 28-byte payloads: ratio 1, so d = 0xC000… (≥ 2^63) and the UINT64 sum wraps
        assertThat(QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 28, 0xC000_0000_0000_0000L))
                .isEqualTo(0x8000_0000_0000_0000L);
        // the default-minimum value is an ordinary rate for the helpers
        assertThat(QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 112, QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH))
                .isEqualTo(0xFFFF_FFFFL + 0x3FFF_FFFFL);
    }

    @Test
    void anOverheadBeyondUint64SaturatesBeforeTheAddition() {
        // IPv6/TCP with 1-byte payloads: ratio 480 / 8 = 60; 60 * 2^62 ≥ 2^64 (undefined in C)
        assertThat(QOS_ADD_OVERHEAD(AF_INET6, IPPROTO_TCP, 1, 1L << 62)).isEqualTo((1L << 62) - 1);
    }
}
