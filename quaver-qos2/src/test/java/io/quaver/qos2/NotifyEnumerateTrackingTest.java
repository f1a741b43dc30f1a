package io.quaver.qos2;

import io.quaver.QosError;
import io.quaver.QosException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// `QOSNotifyFlow` validation, `QOSEnumerateFlows` and client tracking (decisions.md items
/// 7, 8, 9, 10, 18, 19).
class NotifyEnumerateTrackingTest extends Qos2TestBase {

    // ------------------------------------------------------------------ QOSNotifyFlow

    @Test
    void item8_congestionNotificationsTakeNeitherSizeNorBuffer() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        for (int op : new int[] {QOSNotifyCongested, QOSNotifyUncongested}) {
            assertThat(errorOf(QOSNotifyFlow(h, id, op, new int[] {8}, null, 0, null))).as("op %d with Size", op)
                    .isEqualTo(ERROR_INVALID_PARAMETER);
            assertThat(errorOf(QOSNotifyFlow(h, id, op, null, buffer(8), 0, null))).as("op %d with Buffer", op)
                    .isEqualTo(ERROR_INVALID_PARAMETER);
            assertThat(errorOf(QOSNotifyFlow(h, id, op, new int[] {0}, buffer(0), 0, new Overlapped())))
                    .as("op %d with both", op).isEqualTo(ERROR_INVALID_PARAMETER);
        }
    }

    @Test
    void item8_reservedFlagsAndUnknownOperationsAreInvalid() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        for (int flags : new int[] {1, 2, 0x8000_0000}) {
            assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, flags, null)))
                    .as("flags %#x", flags).isEqualTo(ERROR_INVALID_PARAMETER);
        }
        for (int op : new int[] {-1, 3}) {
            assertThat(errorOf(QOSNotifyFlow(h, id, op, null, null, 0, null))).as("op %d", op)
                    .isEqualTo(ERROR_INVALID_PARAMETER);
        }
    }

    @Test
    void item7_availableNeedsAnEightByteTarget() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, null, uint64(1_000_000), 0, null)))
                .as("NULL Size").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, new int[] {8}, null, 0, null)))
                .as("NULL Buffer").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, new int[] {16}, uint64(1_000_000), 0, null)))
                .as("Size beyond the buffer").isEqualTo(ERROR_INVALID_PARAMETER);
        int[] size = {4};
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, size, uint64(1_000_000), 0, null)))
                .isEqualTo(ERROR_INSUFFICIENT_BUFFER);
        assertThat(size[0]).isEqualTo(8);
    }

    @Test
    void item8_aTargetAtOrBelowTheAdmittedRateIsInvalid() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        // no rate admitted yet: 0 is at the admitted rate
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, new int[] {8}, uint64(0), 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
    }

    @Test
    void item9_unknownFlowIdsAreNotFound() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        for (int bad : new int[] {0, id + 1}) {
            assertThat(errorOf(QOSNotifyFlow(h, bad, QOSNotifyCongested, null, null, 0, null)))
                    .isEqualTo(ERROR_NOT_FOUND);
            assertThat(errorOf(QOSNotifyFlow(h, bad, QOSNotifyAvailable, new int[] {8}, uint64(1), 0,
                    new Overlapped()))).isEqualTo(ERROR_NOT_FOUND);
        }
    }

    @Test
    void item10_notificationsOnANonAdaptiveFlowAreNotSupported() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        Overlapped ov = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, null))).isEqualTo(ERROR_NOT_SUPPORTED);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyUncongested, null, null, 0, ov))).isEqualTo(ERROR_NOT_SUPPORTED);
        int[] size = {8};
        ByteBuffer target = uint64(5_000_000);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, size, target, 0, ov)))
                .isEqualTo(ERROR_NOT_SUPPORTED);
        assertThat(ov.isCompleted() || ov.isPending()).as("a synchronous failure leaves the overlapped alone").isFalse();
        assertThat(size[0]).isEqualTo(8);
        assertThat(readUint64(target)).isEqualTo(5_000_000);
    }

    @Test
    void engineErrorsArePropagated() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        h.notifier = (flow, op, target) -> {
            throw new QosException(QosError.ALREADY_EXISTS, "a notification of this type is pending");
        };
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, null)))
                .isEqualTo(ERROR_ALREADY_EXISTS);
        h.notifier = (flow, op, target) -> {
            throw new QosException(QosError.ACCESS_DISABLED_BY_POLICY, "off-link");
        };
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyUncongested, null, null, 0, new Overlapped())))
                .isEqualTo(ERROR_ACCESS_DISABLED_BY_POLICY);
    }

    // ------------------------------------------------------------------ QOSEnumerateFlows

    @Test
    void item18_enumeratingNeedsPrivilege() throws IOException {
        QosHandle user = handle(false);
        addFlow(user, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        int[] size = {64};
        assertThat(errorOf(QOSEnumerateFlows(user, size, buffer(64)))).isEqualTo(ERROR_ACCESS_DENIED);
        assertThat(size[0]).isEqualTo(64);
    }

    @Test
    void item19_zeroFlowsIsSuccessWithSizeZero() {
        assertThat(io.quaver.internal.Engine.embedded().liveFlowCount()).as("precondition: no flows").isZero();
        QosHandle admin = handle(true);
        int[] size = {0};
        assertThat(QOSEnumerateFlows(admin, size, buffer(0))).isTrue();
        assertThat(size[0]).isZero();
        size[0] = 32;
        assertThat(QOSEnumerateFlows(admin, size, buffer(32))).isTrue();
        assertThat(size[0]).isZero();
    }

    @Test
    void item19_everyLiveFlowOfTheSubsystemIsListed() throws IOException {
        QosHandle admin = handle(true);
        QosHandle other = handle(false);
        Set<Integer> expected = new HashSet<>();
        expected.add(addFlow(admin, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW));
        expected.add(addFlow(other, connectedUdp(V6_PEER), null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW));
        expected.add(addFlow(other, tcp("127.0.0.1"), null, QOSTrafficTypeBackground, 0));

        // item 7: the size-only call, then the real one
        int[] size = {0};
        assertThat(errorOf(QOSEnumerateFlows(admin, size, buffer(0)))).isEqualTo(ERROR_INSUFFICIENT_BUFFER);
        assertThat(size[0]).isEqualTo(12);
        size[0] = 11;
        assertThat(errorOf(QOSEnumerateFlows(admin, size, buffer(64)))).isEqualTo(ERROR_INSUFFICIENT_BUFFER);
        assertThat(size[0]).isEqualTo(12);

        ByteBuffer b = buffer(12);
        assertThat(QOSEnumerateFlows(admin, size, b)).isTrue();
        assertThat(size[0]).isEqualTo(12);
        Set<Integer> listed = new HashSet<>();
        ByteBuffer le = b.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 3; i++) {
            listed.add(le.getInt(4 * i));
        }
        assertThat(listed).isEqualTo(expected);

        // a removed flow is no longer listed
        int gone = expected.iterator().next();
        QosHandle owner = exists(admin, gone) ? admin : other;
        assertThat(QOSRemoveSocketFromFlow(owner, null, gone, 0)).isTrue();
        size[0] = 64;
        assertThat(QOSEnumerateFlows(admin, size, buffer(64))).isTrue();
        assertThat(size[0]).isEqualTo(8);
    }

    @Test
    void item7_enumerateArgumentErrors() {
        QosHandle admin = handle(true);
        QosHandle user = handle(false);
        assertThat(errorOf(QOSEnumerateFlows(admin, null, buffer(8)))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSEnumerateFlows(admin, new int[0], buffer(8)))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSEnumerateFlows(admin, new int[] {8}, null))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSEnumerateFlows(admin, new int[] {9}, buffer(8)))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSEnumerateFlows(admin, new int[] {8}, buffer(8).asReadOnlyBuffer())))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        // argument errors come before the privilege check
        assertThat(errorOf(QOSEnumerateFlows(user, null, buffer(8)))).isEqualTo(ERROR_INVALID_PARAMETER);
    }

    // ------------------------------------------------------------------ tracking

    @Test
    void item8_trackingRejectsReservedFlagsAndNullAddresses() {
        QosHandle h = handle();
        assertThat(errorOf(QOSStartTrackingClient(h, V4_PEER, 1))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSStopTrackingClient(h, V4_PEER, 1))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSStartTrackingClient(h, null, 0))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSStopTrackingClient(h, null, 0))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSStartTrackingClient(h, new InetSocketAddress("::", 0), 0)))
                .as("a wildcard is not a client").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSStartTrackingClient(h, InetSocketAddress.createUnresolved("client.invalid", 0), 0)))
                .isEqualTo(ERROR_BAD_NET_NAME);
    }

    @Test
    void item9_stoppingAClientThatIsNotTrackedIsNotFound() {
        QosHandle h = handle();
        assertThat(errorOf(QOSStopTrackingClient(h, V4_PEER, 0))).isEqualTo(ERROR_NOT_FOUND);
        assertThat(errorOf(QOSStopTrackingClient(h, V6_PEER, 0))).isEqualTo(ERROR_NOT_FOUND);
    }
}
