package io.quaver.cli;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.internal.daemon.Daemon;
import io.quaver.internal.daemon.DaemonPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/// `quaver flows` against an in-process daemon, and the daemon commands' errors and help.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DaemonCommandsTest {
    @TempDir
    Path dir;

    @Test
    void flowsListsTheFlowsOfEveryHandleAsATableOrJson() throws Exception {
        Path socket = dir.resolve("q.sock");
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (Daemon daemon = Daemon.start(new Daemon.Config(socket, DaemonPolicy.defaults(), 0, -1));
             DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress(lo, 0));
             DatagramChannel a = DatagramChannel.open().connect(rx.getLocalAddress());
             DatagramChannel b = DatagramChannel.open().connect(rx.getLocalAddress());
             QosSubsystem one = QosSubsystem.open(QosOptions.defaults().withDaemon(socket));
             QosSubsystem two = QosSubsystem.open(QosOptions.defaults().withDaemon(socket))) {
            QosFlow voice = one.addFlow(a, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            voice.setOutgoingRate(OutgoingRate.of(2_500_000, Shaping.SHAPE_AND_MARK));
            two.addFlow(b, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);

            CliRun table = CliRun.of("flows", "--socket", socket.toString());
            assertThat(table.exitCode()).isEqualTo(0);
            assertThat(table.out().lines()).hasSize(3);
            assertThat(table.out().lines().findFirst().orElseThrow()).startsWith("FLOW").contains("DSCP", "RATE");
            assertThat(table.out()).contains("voice").contains("audio_video").contains("2.5 Mbit/s")
                    .contains("shape_and_mark").contains("udp " + ((InetSocketAddress) rx.getLocalAddress())
                            .getAddress().getHostAddress());

            CliRun json = CliRun.of("flows", "--socket", socket.toString(), "--json");
            assertThat(json.exitCode()).isEqualTo(0);
            String j = json.out().trim();
            assertThat(j).startsWith("[{").endsWith("}]").contains("\"trafficType\":\"VOICE\"")
                    .contains("\"dscp\":56").contains("\"rateBps\":2500000").contains("\"trafficType\":\"AUDIO_VIDEO\"")
                    .contains("\"dscp\":40").contains("\"bottleneckBps\":null");
            assertThat(j.lines()).hasSize(1);
        }
    }

    @Test
    void flowsWithoutADaemonIsOneClearLineAndExit1() {
        CliRun r = CliRun.of("flows", "--socket", dir.resolve("none.sock").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).singleElement().satisfies(line ->
                assertThat(line).startsWith("quaver flows: ").contains("no Quaver daemon at").contains("none.sock"));
    }

    @Test
    void aBadPolicyFileStopsTheDaemonWithTheFileAndLine() throws Exception {
        Path policy = dir.resolve("policy.conf");
        Files.writeString(policy, "marks.voice = 99\n");
        CliRun r = CliRun.of("daemon", "--socket", dir.resolve("d.sock").toString(), "--policy", policy.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().lines()).singleElement().satisfies(line ->
                assertThat(line).startsWith("quaver daemon: ").contains(policy + ":1:").contains("0..63"));
        assertThat(dir.resolve("d.sock")).doesNotExist();
    }

    @Test
    void helpDescribesTheOptions() {
        CliRun daemon = CliRun.of("daemon", "--help");
        assertThat(daemon.exitCode()).isEqualTo(0);
        assertThat(daemon.out()).contains("--socket", "--policy", "--metrics-port", "--sink-port", "/run/quaver.sock",
                "--dashboard-port", "--secret-file");
        CliRun badPort = CliRun.of("daemon", "--socket", dir.resolve("p.sock").toString(), "--dashboard-port", "70000");
        assertThat(badPort.exitCode()).isEqualTo(2);
        assertThat(badPort.err()).contains("--dashboard-port must be 0-65535, was 70000");
        assertThat(dir.resolve("p.sock")).doesNotExist();
        Path shortSecret = dir.resolve("short");
        try {
            Files.writeString(shortSecret, "too short\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        CliRun badSecret = CliRun.of("daemon", "--socket", dir.resolve("s.sock").toString(), "--secret-file",
                shortSecret.toString());
        assertThat(badSecret.exitCode()).isEqualTo(1);
        assertThat(badSecret.err().lines()).singleElement().satisfies(line ->
                assertThat(line).startsWith("quaver daemon: ").contains("secret"));
        assertThat(dir.resolve("s.sock")).doesNotExist();
        CliRun flows = CliRun.of("flows", "--help");
        assertThat(flows.exitCode()).isEqualTo(0);
        assertThat(flows.out()).contains("--socket", "--json");
        assertThat(CliRun.of("--help").out()).contains("daemon", "flows");
        assertThat(CliRun.of("flows", "--bogus").exitCode()).isEqualTo(2);
    }
}
