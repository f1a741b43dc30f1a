package io.quaver.qos2;

import io.quaver.Enforcement;
import io.quaver.QosSubsystem;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// `QOSSetFlow(QOSSetOutgoingRate)` and `QOSQueryFlow(QOSQueryOutgoingRate)` end to end through
/// the qos2 layer: accepted contracts, what they do to the marks, and every pinned error code.
class OutgoingRateTest extends Qos2TestBase {

    private static ByteBuffer rate(long bandwidth, int shaping, int reason) {
        ByteBuffer b = buffer(QOS_FLOWRATE_OUTGOING.SIZE);
        new QOS_FLOWRATE_OUTGOING(bandwidth, shaping, reason).write(b);
        return b;
    }

    private static long queryRate(QosHandle h, int id) {
        int[] size = {8};
        ByteBuffer b = buffer(8);
        assertThat(QOSQueryFlow(h, id, QOSQueryOutgoingRate, size, b, 0, null)).as("QOSQueryOutgoingRate").isTrue();
        assertThat(size[0]).isEqualTo(8);
        return readUint64(b);
    }

    private static Enforcement enforcement(QosHandle h, int id) {
        QosSubsystem s = h.subsystem();
        return s.flow(id).enforcement();
    }

    @Test
    void everyBehaviourIsAcceptedOnBothKindsOfFlowAndQueriedBack() throws IOException {
        QosHandle h = handle();
        int nonAdaptive = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        int adaptive = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeAudioVideo, 0);
        io.quaver.internal.Engine.embedded().adaptive().injectEstimates(V4_PEER, Integer.getInteger("quaver.sinkPort", 2177),
                1_000_000_000L, 1_000_000_000L); // admission control needs estimates (no sink here)
        long bw = QOS_ADD_OVERHEAD(AF_INET, IPPROTO_UDP, 1400, 10_000_000L);
        for (int id : new int[] {nonAdaptive, adaptive}) {
            for (int shaping = QOSShapeOnly; shaping <= QOSUseNonConformantMarkings; shaping++) {
                for (int reason = QOSFlowRateNotApplicable; reason <= QOSFlowRateUserCaused; reason++) {
                    assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(bw + shaping, shaping, reason), 0, null))
                            .as("flow %d shaping %d reason %d: error %d", id, shaping, reason, GetLastError()).isTrue();
                    assertThat(queryRate(h, id)).isEqualTo(bw + shaping);
                }
            }
        }
        assertThat(bw).isEqualTo(10_200_000L);
    }

    @Test
    void marksFollowTheShapingBehaviour() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(socket)).isEqualTo(56);

        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, QOSShapeOnly, 0), 0, null)).isTrue();
        assertThat(dscpOf(socket)).as("ShapeOnly: unmarked").isZero();
        assertThat(priority(h, id)).isEqualTo(new QOS_PACKET_PRIORITY(0, 0, 0, 0));

        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, QOSShapeAndMark, 0), 0, null)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(56);

        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, QOSUseNonConformantMarkings, 0), 0,
                null)).isTrue();
        assertThat(priority(h, id)).isEqualTo(new QOS_PACKET_PRIORITY(56, 0, 0, 0));

        // bandwidth 0 removes shaping and marking; the rate reads back as 0
        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(0, QOSShapeAndMark, QOSFlowRateUserCaused), 0,
                null)).isTrue();
        assertThat(dscpOf(socket)).isZero();
        assertThat(queryRate(h, id)).isZero();
        assertThat(enforcement(h, id)).isEqualTo(Enforcement.NONE);
    }

    @Test
    void anAdaptiveFlowMarksOnceItsRateIsAdmitted() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeAudioVideo, 0);
        assertThat(dscpOf(socket)).isZero();
        io.quaver.internal.Engine.embedded().adaptive().injectEstimates(V4_PEER, Integer.getInteger("quaver.sinkPort", 2177),
                1_000_000_000L, 1_000_000_000L); // admission control needs estimates (no sink here)
        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(2_000_000, QOSShapeAndMark, 0), 0, null)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(40);
        assertThat(enforcement(h, id)).isEqualTo(Enforcement.SEND_PATH); // loopback: never a kernel class
    }

    @Test
    void theDefaultMinimumBandwidthReadsBackAsGiven() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16,
                rate(QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH, QOSShapeAndMark, 0), 0, null)).isTrue();
        assertThat(queryRate(h, id)).isEqualTo(0xFFFF_FFFFL);
    }

    @Test
    void pinnedErrorCodes() throws Exception {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        // 232 before any rate (item 12), buffer untouched
        int[] size = {8};
        ByteBuffer out = uint64(0x77L);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryOutgoingRate, size, out, 0, null))).isEqualTo(ERROR_NO_DATA);
        assertThat(readUint64(out)).isEqualTo(0x77L);
        // wrong size → 87 (item 8)
        for (int wrong : new int[] {0, 8, 15, 17, 32}) {
            assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, wrong, buffer(32), 0, null))).isEqualTo(
                    ERROR_INVALID_PARAMETER);
        }
        // unknown behaviour or reason → 87, and nothing was recorded
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, 3, 0), 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, -1, 0), 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, QOSShapeOnly, 5), 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, QOSShapeOnly, 1), 1, null)))
                .as("reserved flags").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryOutgoingRate, size, out, 0, null))).isEqualTo(ERROR_NO_DATA);
        // unknown flow → 1168
        assertThat(errorOf(QOSSetFlow(h, id + 1000, QOSSetOutgoingRate, 16, rate(1_000_000, QOSShapeOnly, 0), 0,
                null))).isEqualTo(ERROR_NOT_FOUND);
        // 122 with the required size for a small query buffer
        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(3_000_000, QOSShapeOnly, 0), 0, null)).isTrue();
        for (int small : new int[] {0, 4, 7}) {
            size[0] = small;
            assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryOutgoingRate, size, buffer(16), 0, null)))
                    .isEqualTo(ERROR_INSUFFICIENT_BUFFER);
            assertThat(size[0]).isEqualTo(8);
        }
        assertThat(queryRate(h, id)).isEqualTo(3_000_000);
        // an overlapped rate change completes at once
        Overlapped ov = new Overlapped();
        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(4_000_000, QOSShapeAndMark, 2), 0, ov)).isTrue();
        assertThat(ov.await(Duration.ofSeconds(1))).isTrue();
        assertThat(ov.status()).isZero();
        assertThat(queryRate(h, id)).isEqualTo(4_000_000);
        // closed handle → 6
        QOSCloseHandle(h);
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(1_000_000, QOSShapeOnly, 0), 0, null)))
                .isEqualTo(ERROR_INVALID_HANDLE);
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryOutgoingRate, new int[] {8}, buffer(8), 0, null)))
                .isEqualTo(ERROR_INVALID_HANDLE);
    }

    @Test
    void aRateOnATcpFlowIsPacedByTheKernelWherePossible() throws IOException {
        QosHandle h = handle();
        var tcp = tcp("127.0.0.1");
        int id = addFlow(h, tcp, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, 16, rate(8_000_000, QOSShapeAndMark, 0), 0, null)).isTrue();
        assertThat(enforcement(h, id)).isIn(Enforcement.KERNEL_PACING, Enforcement.SEND_PATH);
        assertThat(queryRate(h, id)).isEqualTo(8_000_000);
    }
}
