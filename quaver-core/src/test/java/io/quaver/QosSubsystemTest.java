package io.quaver;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QosSubsystemTest {

    @Test
    void opensOnlyVersionOneZero() {
        try (QosSubsystem qos = QosSubsystem.open(QosVersion.V1_0, QosOptions.defaults())) {
            assertThat(qos.isClosed()).isFalse();
        }
        for (QosVersion bad : new QosVersion[] {new QosVersion(0, 0), new QosVersion(1, 5), new QosVersion(2, 0)}) {
            assertThatThrownBy(() -> QosSubsystem.open(bad, QosOptions.defaults()))
                    .isInstanceOfSatisfying(QosException.class, e -> {
                        assertThat(e.error()).isEqualTo(QosError.INVALID_PARAMETER);
                        assertThat(e.code()).isEqualTo(87);
                        assertThat(e.getMessage()).contains("only 1.0");
                    });
        }
        assertThatThrownBy(() -> QosSubsystem.open(null, QosOptions.defaults()))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(87));
        assertThatThrownBy(() -> QosSubsystem.open(QosVersion.V1_0, null))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(87));
    }

    @Test
    void closeIsIdempotentAndEveryLaterCallFailsWithInvalidHandle() throws Exception {
        QosSubsystem qos = QosSubsystem.open();
        try (DatagramChannel socket = DatagramChannel.open()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9));
            QosFlow flow = qos.addFlow(socket, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            assertThat(qos.closeOnce()).isTrue();
            assertThat(qos.closeOnce()).isFalse();
            qos.close(); // idempotent
            assertThat(qos.isClosed()).isTrue();
            assertThat(flow.isLive()).isFalse();
            assertInvalidHandle(() -> qos.addFlow(socket, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE));
            assertInvalidHandle(() -> qos.flow(flow.id()));
            assertInvalidHandle(qos::enumerateFlows);
            assertInvalidHandle(() -> qos.startTrackingClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
            assertInvalidHandle(() -> qos.stopTrackingClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
            assertInvalidHandle(flow::packetPriority);
            assertInvalidHandle(() -> flow.setTrafficType(TrafficType.BACKGROUND));
            assertInvalidHandle(() -> flow.setOutgoingDscp(10));
            assertInvalidHandle(() -> flow.setOutgoingRate(OutgoingRate.of(1_000_000, Shaping.SHAPE_ONLY)));
            assertInvalidHandle(flow::outgoingRate);
            assertInvalidHandle(() -> flow.fundamentals(false));
            assertInvalidHandle(flow::notifyCongested);
            assertInvalidHandle(flow::info);
            flow.close(); // idempotent, no exception
        }
    }

    @Test
    void privilegeComesFromOptionsThenSystemPropertyThenPlatform() {
        try (QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(true))) {
            assertThat(qos.isPrivileged()).isTrue();
        }
        try (QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false))) {
            assertThat(qos.isPrivileged()).isFalse();
            assertThatThrownBy(qos::enumerateFlows)
                    .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.error()).isEqualTo(QosError.ACCESS_DENIED));
        }
        String old = System.getProperty("quaver.privileged");
        try {
            System.setProperty("quaver.privileged", "true");
            try (QosSubsystem qos = QosSubsystem.open()) {
                assertThat(qos.isPrivileged()).isTrue();
            }
            System.setProperty("quaver.privileged", "false");
            try (QosSubsystem qos = QosSubsystem.open()) {
                assertThat(qos.isPrivileged()).isFalse();
            }
            System.setProperty("quaver.privileged", "maybe");
            assertThatThrownBy(QosSubsystem::open)
                    .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(87));
        } finally {
            if (old == null) {
                System.clearProperty("quaver.privileged");
            } else {
                System.setProperty("quaver.privileged", old);
            }
        }
    }

    @Test
    void sinkPortComesFromOptionsThenSystemPropertyThenDefault() {
        try (QosSubsystem qos = QosSubsystem.open()) {
            assertThat(qos.options().sinkPort()).isEqualTo(2177);
        }
        try (QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withSinkPort(40177))) {
            assertThat(qos.options().sinkPort()).isEqualTo(40177);
        }
        System.setProperty("quaver.sinkPort", "41177");
        try (QosSubsystem qos = QosSubsystem.open()) {
            assertThat(qos.options().sinkPort()).isEqualTo(41177);
        } finally {
            System.clearProperty("quaver.sinkPort");
        }
    }

    @Test
    void errorsCarryTheirWin32Numbers() {
        assertThat(QosError.INVALID_HANDLE.code()).isEqualTo(6);
        assertThat(QosError.NETWORK_BUSY.code()).isEqualTo(54);
        assertThat(QosError.OPERATION_ABORTED.code()).isEqualTo(995);
        assertThat(QosError.NOT_FOUND.code()).isEqualTo(1168);
        assertThat(QosError.HOST_UNREACHABLE.code()).isEqualTo(1232);
        assertThat(QosError.ACCESS_DISABLED_BY_POLICY.code()).isEqualTo(1260);
        assertThat(QosError.RESOURCE_DISABLED.code()).isEqualTo(4309);
        for (QosError e : QosError.values()) {
            assertThat(QosError.fromCode(e.code())).isSameAs(e);
        }
        assertThat(QosError.fromCode(12345)).isNull();
        assertThat(QosError.NOT_FOUND.win32Name()).isEqualTo("ERROR_NOT_FOUND");
    }

    static void assertInvalidHandle(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(QosException.class,
                e -> assertThat(e.error()).isEqualTo(QosError.INVALID_HANDLE));
    }
}
