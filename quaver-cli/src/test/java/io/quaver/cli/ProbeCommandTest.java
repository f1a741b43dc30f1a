package io.quaver.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.quaver.QosSink;
import io.quaver.SharedSecret;
import io.quaver.SinkOptions;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/// `quaver probe` against an in-process sink.
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ProbeCommandTest {

    @Test
    void jsonModePrintsExactlyOneObjectWithTheRequiredFields() throws Exception {
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(InetAddress.getLoopbackAddress())
                .withPort(0))) {
            PrintStream original = System.out;
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            int rc;
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try {
                rc = Main.run("probe", "127.0.0.1:" + sink.port(), "--duration", "800ms", "--json");
            } finally {
                System.setOut(original);
            }
            String out = captured.toString(StandardCharsets.UTF_8).trim();
            assertThat(rc).isZero();
            assertThat(out.lines().count()).isEqualTo(1);
            assertThat(out).startsWith("{").endsWith("}");
            for (String field : new String[] {"bottleneckBps", "availableBps", "rttUs", "firstEstimateMs", "probeBytes"}) {
                assertThat(out).contains("\"" + field + "\":");
            }
            assertThat(out).doesNotContain("\"bottleneckBps\":null");
        }
    }

    @Test
    void noSinkFailsWithTheWin32Reason() {
        int rc = Main.run("probe", "127.0.0.1:1", "--duration", "200ms");
        assertThat(rc).isEqualTo(Main.EXIT_FAILED);
    }

    @Test
    void secretFilesAuthenticateTheProbeAndAWrongOneFails(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "0123456789abcdef0123456789abcdef\n");
        Path wrong = Files.writeString(dir.resolve("wrong"), "fedcba9876543210fedcba9876543210\n");
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(InetAddress.getLoopbackAddress())
                .withPort(0).withSecret(SharedSecret.fromFile(secret)))) {
            String target = "127.0.0.1:" + sink.port();
            assertThat(Main.run("probe", target, "--duration", "300ms", "--secret-file", secret.toString())).isZero();
            assertThat(Main.run("probe", target, "--duration", "300ms", "--secret-file", wrong.toString()))
                    .isEqualTo(Main.EXIT_FAILED);
            assertThat(Main.run("probe", target, "--duration", "300ms")).isEqualTo(Main.EXIT_FAILED);
            assertThat(sink.stats().authFailures()).isGreaterThanOrEqualTo(2);
            assertThat(Main.run("probe", target, "--secret-file", dir.resolve("missing").toString()))
                    .isEqualTo(Main.EXIT_FAILED);
        }
    }

    @Test
    void parsesHostsAndPorts() throws Exception {
        assertThat(ProbeCommand.parse("127.0.0.1")).isEqualTo(new InetSocketAddress("127.0.0.1", 2177));
        assertThat(ProbeCommand.parse("127.0.0.1:40177")).isEqualTo(new InetSocketAddress("127.0.0.1", 40177));
        assertThat(ProbeCommand.parse("[::1]:9")).isEqualTo(new InetSocketAddress("::1", 9));
        assertThat(ProbeCommand.parse("::1")).isEqualTo(new InetSocketAddress("::1", 2177));
    }
}
