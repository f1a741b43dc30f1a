package io.quaver.qos2;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The records against hand-written little-endian byte images of the C structs (qwave.md §3.3).
class StructLayoutTest {

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static byte[] written(int capacity, java.util.function.Consumer<ByteBuffer> write) {
        ByteBuffer b = ByteBuffer.allocate(capacity).order(ByteOrder.BIG_ENDIAN);
        write.accept(b);
        byte[] out = new byte[capacity];
        b.get(0, out);
        return out;
    }

    @Test
    void qosVersion() {
        assertThat(QOS_VERSION.SIZE).isEqualTo(4);
        byte[] image = bytes(0x34, 0x12, 0xCD, 0xAB);
        QOS_VERSION v = new QOS_VERSION(0x1234, 0xABCD);
        assertThat(written(4, v::write)).containsExactly(image);
        assertThat(QOS_VERSION.read(ByteBuffer.wrap(image))).isEqualTo(v);
        assertThat(written(4, new QOS_VERSION(1, 0)::write)).containsExactly(1, 0, 0, 0);
        assertThat(QOS_VERSION.read(ByteBuffer.wrap(bytes(0xFF, 0xFF, 0, 0)))).isEqualTo(new QOS_VERSION(65535, 0));
    }

    @Test
    void qosFlowFundamentalsWithPadding() {
        assertThat(QOS_FLOW_FUNDAMENTALS.SIZE).isEqualTo(40);
        byte[] image = bytes(
                0x01, 0x00, 0x00, 0x00, /* padding */ 0x00, 0x00, 0x00, 0x00,
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                0x00, 0x00, 0x00, 0x00, /* padding */ 0x00, 0x00, 0x00, 0x00,
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                0x01, 0x00, 0x00, 0x00,
                0xEF, 0xBE, 0xAD, 0xDE);
        QOS_FLOW_FUNDAMENTALS f = new QOS_FLOW_FUNDAMENTALS(true, 0x0102030405060708L, false, -1L, true, 0xDEADBEEF);
        assertThat(written(40, f::write)).containsExactly(image);
        assertThat(QOS_FLOW_FUNDAMENTALS.read(ByteBuffer.wrap(image))).isEqualTo(f);
        assertThat(Long.toUnsignedString(f.AvailableBandwidth())).isEqualTo("18446744073709551615");
        assertThat(Integer.toUnsignedLong(f.RTT())).isEqualTo(3_735_928_559L);

        // reading ignores the padding and takes any non-zero BOOL as TRUE
        byte[] noisy = image.clone();
        for (int i : new int[] {4, 5, 6, 7, 20, 21, 22, 23}) {
            noisy[i] = (byte) 0xCC;
        }
        noisy[0] = 2;
        assertThat(QOS_FLOW_FUNDAMENTALS.read(ByteBuffer.wrap(noisy))).isEqualTo(f);
        // writing zeroes the padding
        ByteBuffer dirty = ByteBuffer.wrap(noisy.clone());
        f.write(dirty);
        assertThat(dirty.array()).containsExactly(image);
    }

    @Test
    void qosPacketPriority() {
        assertThat(QOS_PACKET_PRIORITY.SIZE).isEqualTo(16);
        byte[] image = bytes(
                0x28, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00,
                0x05, 0x00, 0x00, 0x00,
                0x01, 0x00, 0x00, 0x80);
        QOS_PACKET_PRIORITY p = new QOS_PACKET_PRIORITY(40, 0, 5, 0x8000_0001);
        assertThat(written(16, p::write)).containsExactly(image);
        assertThat(QOS_PACKET_PRIORITY.read(ByteBuffer.wrap(image))).isEqualTo(p);
    }

    @Test
    void qosFlowrateOutgoing() {
        assertThat(QOS_FLOWRATE_OUTGOING.SIZE).isEqualTo(16);
        // 10,200,000 = 0x9BA3C0; QOSShapeAndMark = 1; QOSFlowRateCongestion = 2
        byte[] image = bytes(
                0xC0, 0xA3, 0x9B, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x01, 0x00, 0x00, 0x00,
                0x02, 0x00, 0x00, 0x00);
        QOS_FLOWRATE_OUTGOING r = new QOS_FLOWRATE_OUTGOING(10_200_000L, Qos2.QOSShapeAndMark, Qos2.QOSFlowRateCongestion);
        assertThat(written(16, r::write)).containsExactly(image);
        assertThat(QOS_FLOWRATE_OUTGOING.read(ByteBuffer.wrap(image))).isEqualTo(r);

        byte[] defaultMinimum = bytes(0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        assertThat(QOS_FLOWRATE_OUTGOING.read(ByteBuffer.wrap(defaultMinimum)).Bandwidth())
                .isEqualTo(Qos2.QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH);
    }

    @Test
    void readAndWriteUseIndexZeroWhateverPositionLimitAndOrder() {
        ByteBuffer b = ByteBuffer.allocateDirect(24).order(ByteOrder.BIG_ENDIAN);
        b.position(5).limit(6);
        new QOS_PACKET_PRIORITY(1, 2, 3, 4).write(b);
        assertThat(b.position()).isEqualTo(5);
        assertThat(b.limit()).isEqualTo(6);
        assertThat(b.order()).isEqualTo(ByteOrder.BIG_ENDIAN);
        ByteBuffer all = b.duplicate().clear(); // the bytes beyond the limit, for inspection
        assertThat(all.get(0)).isEqualTo((byte) 1);
        assertThat(all.get(4)).isEqualTo((byte) 2);
        assertThat(all.get(8)).isEqualTo((byte) 3);
        assertThat(all.get(12)).isEqualTo((byte) 4);
        assertThat(QOS_PACKET_PRIORITY.read(b)).isEqualTo(new QOS_PACKET_PRIORITY(1, 2, 3, 4));
        assertThat(b.position()).isEqualTo(5);
    }

    @Test
    void tooSmallOrReadOnlyBuffersAreRejected() {
        assertThatThrownBy(() -> QOS_FLOW_FUNDAMENTALS.read(ByteBuffer.allocate(39)))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("40");
        assertThatThrownBy(() -> new QOS_VERSION(1, 0).write(ByteBuffer.allocate(3)))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new QOS_FLOWRATE_OUTGOING(1, 0, 0).write(ByteBuffer.allocate(16).asReadOnlyBuffer()))
                .isInstanceOf(ReadOnlyBufferException.class);
    }
}
