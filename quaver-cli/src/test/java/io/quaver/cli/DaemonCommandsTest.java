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

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/// `quaver flows` against an in-process daemon, and the daemon commands' errors and help.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DaemonCommandsTest {
    @TempDir
    Path dir;

    /// Runs the CLI; returns {exit code, stdout, stderr}.
    private static String[] run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int rc;
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            rc = Main.run(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new String[] {Integer.toString(rc), o.toString(StandardCharsets.UTF_8),
                e.toString(StandardCharsets.UTF_8)};
    }

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

            String[] table = run("flows", "--socket", socket.toString());
            assertThat(table[0]).isEqualTo("0");
            assertThat(table[1].lines()).hasSize(3);
            assertThat(table[1].lines().findFirst().orElseThrow()).startsWith("FLOW").contains("DSCP", "RATE");
            assertThat(table[1]).contains("voice").contains("audio_video").contains("2.5 Mbit/s")
                    .contains("shape_and_mark").contains("udp " + ((InetSocketAddress) rx.getLocalAddress())
                            .getAddress().getHostAddress());

            String[] json = run("flows", "--socket", socket.toString(), "--json");
            assertThat(json[0]).isEqualTo("0");
            String j = json[1].trim();
            assertThat(j).startsWith("[{").endsWith("}]").contains("\"trafficType\":\"VOICE\"")
                    .contains("\"dscp\":56").contains("\"rateBps\":2500000").contains("\"trafficType\":\"AUDIO_VIDEO\"")
                    .contains("\"dscp\":40").contains("\"bottleneckBps\":null");
            assertThat(j.lines()).hasSize(1);
        }
    }

    @Test
    void flowsWithoutADaemonIsOneClearLineAndExit1() {
        String[] r = run("flows", "--socket", dir.resolve("none.sock").toString());
        assertThat(r[0]).isEqualTo("1");
        assertThat(r[1]).isEmpty();
        assertThat(r[2].lines()).singleElement().satisfies(line ->
                assertThat(line).startsWith("quaver flows: ").contains("no Quaver daemon at").contains("none.sock"));
    }

    @Test
    void aBadPolicyFileStopsTheDaemonWithTheFileAndLine() throws Exception {
        Path policy = dir.resolve("policy.conf");
        Files.writeString(policy, "marks.voice = 99\n");
        String[] r = run("daemon", "--socket", dir.resolve("d.sock").toString(), "--policy", policy.toString());
        assertThat(r[0]).isEqualTo("1");
        assertThat(r[2].lines()).singleElement().satisfies(line ->
                assertThat(line).startsWith("quaver daemon: ").contains(policy + ":1:").contains("0..63"));
        assertThat(dir.resolve("d.sock")).doesNotExist();
    }

    @Test
    void helpDescribesTheOptions() {
        String[] daemon = run("daemon", "--help");
        assertThat(daemon[0]).isEqualTo("0");
        assertThat(daemon[1]).contains("--socket", "--policy", "--metrics-port", "--sink-port", "/run/quaver.sock",
                "--dashboard-port", "--secret-file");
        String[] badPort = run("daemon", "--socket", dir.resolve("p.sock").toString(), "--dashboard-port", "70000");
        assertThat(badPort[0]).isEqualTo("2");
        assertThat(badPort[2]).contains("--dashboard-port must be 0-65535, was 70000");
        assertThat(dir.resolve("p.sock")).doesNotExist();
        Path shortSecret = dir.resolve("short");
        try {
            Files.writeString(shortSecret, "too short\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        String[] badSecret = run("daemon", "--socket", dir.resolve("s.sock").toString(), "--secret-file",
                shortSecret.toString());
        assertThat(badSecret[0]).isEqualTo("1");
        assertThat(badSecret[2].lines()).singleElement().satisfies(line ->
                assertThat(line).startsWith("quaver daemon: ").contains("secret"));
        assertThat(dir.resolve("s.sock")).doesNotExist();
        String[] flows = run("flows", "--help");
        assertThat(flows[0]).isEqualTo("0");
        assertThat(flows[1]).contains("--socket", "--json");
        assertThat(run("--help")[1]).contains("daemon", "flows");
        assertThat(run("flows", "--bogus")[0]).isEqualTo("2");
    }
}
