package io.quaver.qos2;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// `QOSSetFlow`: buffer decoding and validation (decisions.md items 8, 9, 10, 18).
class SetFlowTest extends Qos2TestBase {

    private static ByteBuffer rate(long bandwidth, int shaping, int reason) {
        ByteBuffer b = buffer(QOS_FLOWRATE_OUTGOING.SIZE);
        new QOS_FLOWRATE_OUTGOING(bandwidth, shaping, reason).write(b);
        return b;
    }

    @Test
    void setTrafficTypeRemarksTheSockets() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(QOSSetFlow(h, id, QOSSetTrafficType, 4, dword(QOSTrafficTypeVoice), 0, null)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(0x38);
        assertThat(QOSSetFlow(h, id, QOSSetTrafficType, 4, dword(QOSTrafficTypeBestEffort), 0, null)).isTrue();
        assertThat(dscpOf(socket)).isZero();
        assertThat(priority(h, id).ConformantDSCPValue()).isZero();
    }

    @Test
    void theBufferIsReadLittleEndianFromIndexZero() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeBestEffort, QOS_NON_ADAPTIVE_FLOW);
        // a big-endian buffer whose position and limit are past the value
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN);
        b.put(0, (byte) QOSTrafficTypeBackground).position(6).limit(7);
        assertThat(QOSSetFlow(h, id, QOSSetTrafficType, 4, b, 0, null)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(0x08);
        assertThat(b.position()).isEqualTo(6);
        assertThat(b.limit()).isEqualTo(7);
    }

    @Test
    void item8_reservedFlagsUnknownOperationsAndWrongSizesAreInvalid() throws IOException {
        QosHandle h = handle(true);
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);

        for (int flags : new int[] {1, 2, 0x8000_0000}) {
            assertThat(errorOf(QOSSetFlow(h, id, QOSSetTrafficType, 4, dword(QOSTrafficTypeVoice), flags, null)))
                    .as("flags %#x", flags).isEqualTo(ERROR_INVALID_PARAMETER);
        }
        for (int op : new int[] {-1, 3, 100}) {
            assertThat(errorOf(QOSSetFlow(h, id, op, 4, dword(0), 0, null))).as("operation %d", op)
                    .isEqualTo(ERROR_INVALID_PARAMETER);
        }
        for (int size : new int[] {0, 3, 5, 8, 16}) {
            assertThat(errorOf(QOSSetFlow(h, id, QOSSetTrafficType, size, buffer(16), 0, null)))
                    .as("QOSSetTrafficType size %d", size).isEqualTo(ERROR_INVALID_PARAMETER);
            assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingDSCPValue, size, buffer(16), 0, null)))
                    .as("QOSSetOutgoingDSCPValue size %d", size).isEqualTo(ERROR_INVALID_PARAMETER);
        }
        for (int size : new int[] {0, 4, 8, 15, 17, 24}) {
            assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, size, buffer(24), 0, null)))
                    .as("QOSSetOutgoingRate size %d", size).isEqualTo(ERROR_INVALID_PARAMETER);
        }
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetTrafficType, 4, null, 0, null))).as("NULL Buffer")
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, buffer(8), 0, null))).as("Size > capacity")
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(dscpOf(socket)).as("nothing changed").isEqualTo(40);
    }

    @Test
    void item8_unknownValuesInTheBufferAreInvalid() throws IOException {
        QosHandle h = handle(true);
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);

        for (int type : new int[] {-1, 6, 1000}) {
            assertThat(errorOf(QOSSetFlow(h, id, QOSSetTrafficType, 4, dword(type), 0, null))).as("type %d", type)
                    .isEqualTo(ERROR_INVALID_PARAMETER);
        }
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, 3, 0), 0, null)))
                .as("unknown shaping").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, QOSShapeAndMark, 5), 0, null)))
                .as("unknown reason").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(-1L, QOSShapeAndMark, 0), 0, null)))
                .as("bandwidth beyond 2^63").isEqualTo(ERROR_INVALID_PARAMETER);
        // DSCP is a DWORD 0..63: 64 and 0xFFFFFFFF (not -1) are out of range
        for (int dscp : new int[] {64, 255, 0xFFFF_FFFF, 0x8000_0000}) {
            assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingDSCPValue, 4, dword(dscp), 0, null)))
                    .as("DSCP %s", Integer.toUnsignedString(dscp)).isEqualTo(ERROR_INVALID_PARAMETER);
        }
        assertThat(dscpOf(socket)).isEqualTo(40);
    }

    @Test
    void item9_unknownFlowIdsAreNotFoundAfterTheArgumentsAreChecked() throws IOException {
        QosHandle h = handle(true);
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        for (int bad : new int[] {0, id + 1, -1}) {
            assertThat(errorOf(QOSSetFlow(h, bad, QOSSetTrafficType, 4, dword(QOSTrafficTypeVoice), 0, null)))
                    .isEqualTo(ERROR_NOT_FOUND);
            assertThat(errorOf(QOSSetFlow(h, bad, QOSSetOutgoingDSCPValue, 4, dword(46), 0, null)))
                    .isEqualTo(ERROR_NOT_FOUND);
            assertThat(errorOf(QOSSetFlow(h, bad, QOSSetOutgoingRate, 16, rate(1_000_000, QOSShapeAndMark, 0), 0,
                    null))).isEqualTo(ERROR_NOT_FOUND);
        }
        // validation order: a bad value is reported before the unknown flow
        assertThat(errorOf(QOSSetFlow(h, 0, QOSSetOutgoingDSCPValue, 4, dword(64), 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
    }

    @Test
    void item18_explicitDscpNeedsPrivilege() throws IOException {
        QosHandle user = handle(false);
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(user, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(errorOf(QOSSetFlow(user, id, QOSSetOutgoingDSCPValue, 4, dword(46), 0, null)))
                .isEqualTo(ERROR_ACCESS_DENIED);
        assertThat(dscpOf(socket)).isEqualTo(40);
    }

    @Test
    void item18_aPrivilegedHandleSetsAnyDscpAndTheTrafficTypeUndoesIt() throws IOException {
        QosHandle admin = handle(true);
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(admin, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(QOSSetFlow(admin, id, QOSSetOutgoingDSCPValue, 4, dword(46), 0, null)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(46);
        assertThat(priority(admin, id).ConformantDSCPValue()).isEqualTo(46);
        assertThat(QOSSetFlow(admin, id, QOSSetOutgoingDSCPValue, 4, dword(63), 0, null)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(63);
        assertThat(QOSSetFlow(admin, id, QOSSetOutgoingDSCPValue, 4, dword(0), 0, null)).isTrue();
        assertThat(dscpOf(socket)).isZero();
        assertThat(QOSSetFlow(admin, id, QOSSetTrafficType, 4, dword(QOSTrafficTypeAudioVideo), 0, null)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(40);
    }

    @Test
    void item10_explicitDscpOnAnAdaptiveFlowIsNotSupported() throws IOException {
        QosHandle admin = handle(true);
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(admin, socket, null, QOSTrafficTypeAudioVideo, 0);
        assertThat(errorOf(QOSSetFlow(admin, id, QOSSetOutgoingDSCPValue, 4, dword(46), 0, null)))
                .isEqualTo(ERROR_NOT_SUPPORTED);
        assertThat(dscpOf(socket)).isZero();
    }

    @Test
    void aWellFormedRateReachesTheEngine() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        for (long bandwidth : new long[] {QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 1400, 10_000_000L),
                QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH, 0}) {
            for (int shaping = QOSShapeOnly; shaping <= QOSUseNonConformantMarkings; shaping++) {
                SetLastError(ERROR_SUCCESS);
                boolean ok = QOSSetFlow(h, id, QOSSetOutgoingRate, 16,
                        rate(bandwidth, shaping, QOSFlowRateUserCaused), 0, null);
                assertThat(ok).as("bandwidth %d shaping %d: error %d", bandwidth, shaping, GetLastError()).isTrue();
            }
        }
    }
}
