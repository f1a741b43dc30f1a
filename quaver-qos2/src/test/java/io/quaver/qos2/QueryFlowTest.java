package io.quaver.qos2;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// `QOSQueryFlow`: size negotiation, flags and results (decisions.md items 7, 8, 9, 10, 12).
class QueryFlowTest extends Qos2TestBase {

    @Test
    void packetPriorityIsWrittenLittleEndianAndSizeReportsTheBytesWritten() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        ByteBuffer b = buffer(64);
        byte[] fill = new byte[64];
        Arrays.fill(fill, (byte) 0xAA);
        b.put(0, fill);
        int[] size = {64};
        assertThat(QOSQueryFlow(h, id, QOSQueryPacketPriority, size, b, 0, null)).isTrue();
        assertThat(size[0]).isEqualTo(16);
        byte[] out = new byte[20];
        b.get(0, out);
        assertThat(out).containsExactly(0x38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                (byte) 0xAA, (byte) 0xAA, (byte) 0xAA, (byte) 0xAA);
        assertThat(QOS_PACKET_PRIORITY.read(b)).isEqualTo(new QOS_PACKET_PRIORITY(0x38, 0, 0, 0));
    }

    @Test
    void item7_aTooSmallBufferReportsTheRequiredSize() throws IOException {
        QosHandle h = handle();
        int nonAdaptive = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        int adaptive = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);

        int[] size = {15};
        assertThat(errorOf(QOSQueryFlow(h, nonAdaptive, QOSQueryPacketPriority, size, buffer(15), 0, null)))
                .isEqualTo(ERROR_INSUFFICIENT_BUFFER);
        assertThat(size[0]).isEqualTo(16);

        size[0] = 0; // the size-only call, with an empty buffer
        assertThat(errorOf(QOSQueryFlow(h, nonAdaptive, QOSQueryOutgoingRate, size, buffer(0), 0, null)))
                .isEqualTo(ERROR_INSUFFICIENT_BUFFER);
        assertThat(size[0]).isEqualTo(8);

        size[0] = 39;
        assertThat(errorOf(QOSQueryFlow(h, adaptive, QOSQueryFlowFundamentals, size, buffer(64), 0, null)))
                .isEqualTo(ERROR_INSUFFICIENT_BUFFER);
        assertThat(size[0]).isEqualTo(40);

        // a Size smaller than the buffer counts, not the buffer's capacity
        size[0] = 4;
        assertThat(errorOf(QOSQueryFlow(h, nonAdaptive, QOSQueryPacketPriority, size, buffer(64), 0, null)))
                .isEqualTo(ERROR_INSUFFICIENT_BUFFER);
        assertThat(size[0]).isEqualTo(16);
        // the second call with the reported size succeeds
        assertThat(QOSQueryFlow(h, nonAdaptive, QOSQueryPacketPriority, size, buffer(size[0]), 0, null)).isTrue();
    }

    @Test
    void item7_nullSizeOrBufferAndSizesBeyondTheBufferAreInvalid() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryPacketPriority, null, buffer(16), 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryPacketPriority, new int[0], buffer(16), 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        int[] size = {16};
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryPacketPriority, size, null, 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryPacketPriority, new int[] {17}, buffer(16), 0, null)))
                .as("Size beyond the capacity").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryPacketPriority, new int[] {-1}, buffer(16), 0, null)))
                .as("Size 0xFFFFFFFF is unsigned, not -1").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryPacketPriority, size, buffer(16).asReadOnlyBuffer(), 0,
                null))).as("read-only buffer").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(size[0]).as("untouched by failures other than 122").isEqualTo(16);
    }

    @Test
    void item8_flagsAndOperations() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        for (int flags : new int[] {2, 4, 0x8000_0000, QOS_QUERYFLOW_FRESH | 2}) {
            assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryFlowFundamentals, new int[] {40}, buffer(40), flags, null)))
                    .as("flags %#x", flags).isEqualTo(ERROR_INVALID_PARAMETER);
        }
        // QOS_QUERYFLOW_FRESH only goes with the fundamentals
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryPacketPriority, new int[] {16}, buffer(16),
                QOS_QUERYFLOW_FRESH, null))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryOutgoingRate, new int[] {8}, buffer(8), QOS_QUERYFLOW_FRESH,
                null))).isEqualTo(ERROR_INVALID_PARAMETER);
        // ... with which it passes validation (and meets item 10 here: the flow is non-adaptive)
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryFlowFundamentals, new int[] {40}, buffer(40),
                QOS_QUERYFLOW_FRESH, null))).isEqualTo(ERROR_NOT_SUPPORTED);
        for (int op : new int[] {-1, 3}) {
            assertThat(errorOf(QOSQueryFlow(h, id, op, new int[] {64}, buffer(64), 0, null))).as("operation %d", op)
                    .isEqualTo(ERROR_INVALID_PARAMETER);
        }
    }

    @Test
    void item9_unknownFlowIdsAreNotFound() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        for (int bad : new int[] {0, id + 1, Integer.MIN_VALUE}) {
            for (int op = QOSQueryFlowFundamentals; op <= QOSQueryOutgoingRate; op++) {
                int[] size = {4}; // too small as well: the unknown flow is reported first
                assertThat(errorOf(QOSQueryFlow(h, bad, op, size, buffer(64), 0, null))).as("id %d op %d", bad, op)
                        .isEqualTo(ERROR_NOT_FOUND);
                assertThat(size[0]).isEqualTo(4);
            }
        }
    }

    @Test
    void item10_fundamentalsOfANonAdaptiveFlowAreNotSupported() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        int[] size = {40};
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryFlowFundamentals, size, buffer(40), 0, null)))
                .isEqualTo(ERROR_NOT_SUPPORTED);
        assertThat(size[0]).isEqualTo(40);
    }

    @Test
    void item12_outgoingRateBeforeAnyRateWasSetIsNoData() throws IOException {
        QosHandle h = handle();
        int nonAdaptive = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        int adaptive = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        for (int id : new int[] {nonAdaptive, adaptive}) {
            int[] size = {8};
            ByteBuffer b = uint64(0x1234L);
            assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryOutgoingRate, size, b, 0, null))).isEqualTo(ERROR_NO_DATA);
            assertThat(readUint64(b)).as("buffer untouched").isEqualTo(0x1234L);
        }
    }
}
