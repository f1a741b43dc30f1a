package io.quaver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quaver.FlowMode;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.SharedSecret;
import io.quaver.TrafficType;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// `quaver daemon` as a process of its own: the fault "daemon killed and restarted"
/// (docs/errors.md), SIGKILL while a client holds flows and a pending notification; and its
/// `--secret-file`.
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DaemonProcessTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /// The socket's own TOS before any flow (so that "its own marks back" is visible).
    private static final int OWN_TOS = 0x20;
    @TempDir
    Path dir;

    private static void assertError(ThrowingCallable call, QosError error) {
        assertThatThrownBy(call).isInstanceOfSatisfying(QosException.class,
                e -> assertThat(e.error()).as(e.getMessage()).isEqualTo(error));
    }

    private static int tos(DatagramChannel ch) throws Exception {
        return ch.getOption(StandardSocketOptions.IP_TOS);
    }

    @Test
    void aKilledDaemonGives1164AndARestartedOneOnTheSamePathServesANewHandle() throws Exception {
        Path socket = dir.resolve("quaver.sock");
        try (DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress(LOOPBACK, 0));
             DatagramChannel ch = DatagramChannel.open().connect(rx.getLocalAddress());
             DatagramChannel ch2 = DatagramChannel.open().connect(rx.getLocalAddress())) {
            ch.setOption(StandardSocketOptions.IP_TOS, OWN_TOS);
            ch2.setOption(StandardSocketOptions.IP_TOS, OWN_TOS);
            QosSubsystem qos;
            QosFlow voice;
            CompletableFuture<Void> congested;
            try (DaemonProcess first = DaemonProcess.start(socket, "--dashboard-port", "0")) {
                qos = QosSubsystem.open(QosOptions.defaults().withDaemon(socket));
                voice = qos.addFlow(ch, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
                assertThat(tos(ch)).isEqualTo(56 << 2); // the daemon's marks, on this process's socket
                QosFlow video = qos.addFlow(ch2, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
                congested = video.notifyCongested();
                assertThat(congested).isNotDone();

                // the daemon's dashboard (a real process, --dashboard-port 0) shows both flows
                URI url = first.dashboard();
                assertThat(url).as(first.output()).isNotNull();
                assertThat(url.getHost()).isEqualTo("127.0.0.1");
                try (DashboardApi api = new DashboardApi(url)) {
                    JsonNode s = api.await(st -> DashboardApi.flow(st, voice.id()) != null
                            && DashboardApi.flow(st, video.id()) != null, "the daemon's dashboard shows both flows");
                    assertThat(DashboardApi.flow(s, voice.id()).get("dscp").asInt()).isEqualTo(56);
                }

                assertThat(first.kill()).as("SIGKILL").isEqualTo(137);
            }

            // the pending operation completes, with 1164, and nothing hangs
            assertThatThrownBy(() -> congested.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(QosException.class,
                            e -> assertThat(e.error()).isEqualTo(QosError.DEVICE_REINITIALIZATION_NEEDED));
            assertThat(tos(ch)).as("the socket's own marks are back").isEqualTo(OWN_TOS);
            assertThat(tos(ch2)).isEqualTo(OWN_TOS);
            assertError(() -> voice.setTrafficType(TrafficType.CONTROL), QosError.DEVICE_REINITIALIZATION_NEEDED);
            assertError(() -> voice.send(ByteBuffer.allocate(10)), QosError.DEVICE_REINITIALIZATION_NEEDED);
            assertError(voice::notifyCongested, QosError.DEVICE_REINITIALIZATION_NEEDED);
            assertError(() -> qos.addFlow(ch, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE),
                    QosError.DEVICE_REINITIALIZATION_NEEDED);
            assertError(qos::enumerateFlows, QosError.DEVICE_REINITIALIZATION_NEEDED);
            // the killed daemon could not remove its socket file; nobody answers on it
            assertThat(socket).exists();
            assertError(() -> QosSubsystem.open(QosOptions.defaults().withDaemon(socket)),
                    QosError.CONNECTION_REFUSED);

            // a new daemon on the same path replaces the stale socket file and serves a new handle
            try (DaemonProcess second = DaemonProcess.start(socket)) {
                assertThat(second.dashboard()).isNull(); // off unless asked for
                try (QosSubsystem again = QosSubsystem.open(QosOptions.defaults().withDaemon(socket))) {
                    QosFlow flow = again.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
                    assertThat(tos(ch)).isEqualTo(40 << 2);
                    assertThat(flow.send(ByteBuffer.allocate(10))).isEqualTo(10);
                    assertError(() -> voice.setTrafficType(TrafficType.CONTROL),
                            QosError.DEVICE_REINITIALIZATION_NEEDED); // the old handle stays lost

                    // stopped cleanly (SIGTERM): its clients get 1164, the socket file goes
                    assertThat(second.terminate()).as(second.output()).isEqualTo(143);
                    assertThat(socket).doesNotExist();
                    assertError(() -> flow.setTrafficType(TrafficType.VOICE), QosError.DEVICE_REINITIALIZATION_NEEDED);
                    assertThat(tos(ch)).isEqualTo(OWN_TOS);
                }
            }
            assertThat(qos.closeOnce()).isTrue();
        }
    }

    @Test
    void withASecretFileTheDaemonsProberAuthenticatesAndItsSinkServesOnlyAuthenticatedHandshakes() throws Exception {
        Path socket = dir.resolve("quaver.sock");
        Path secretFile = dir.resolve("secret");
        Files.writeString(secretFile, "a-secret-of-the-daemon-test\n");
        SharedSecret secret = SharedSecret.fromFile(secretFile);
        InetSocketAddress self = new InetSocketAddress(LOOPBACK, 0);
        try (DaemonProcess daemon = DaemonProcess.start(socket, "--secret-file", secretFile.toString())) {
            assertThat(daemon.banner()).contains("authenticated handshakes only");
            int sinkPort = daemon.sinkPort();
            // the daemon's prober reaches its own sink, which answers only authenticated handshakes
            try (QosSubsystem viaDaemon = QosSubsystem.open(QosOptions.defaults().withDaemon(socket))) {
                viaDaemon.startTrackingClient(self);
                viaDaemon.stopTrackingClient(self);
            }
            // an initiator without the secret gets no answer from that sink; one with it does
            QosOptions embedded = QosOptions.defaults().withPrivileged(false).withSinkPort(sinkPort)
                    .withTrackingGracePeriod(Duration.ZERO);
            try (QosSubsystem plain = QosSubsystem.open(embedded)) {
                assertError(() -> plain.startTrackingClient(self), QosError.HOST_UNREACHABLE);
            }
            try (QosSubsystem signed = QosSubsystem.open(embedded.withProbeSecret(secret))) {
                signed.startTrackingClient(self);
                signed.stopTrackingClient(self);
            }
            assertThat(daemon.terminate()).isEqualTo(143);
        }
    }
}
