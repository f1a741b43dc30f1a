package io.quaver.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quaver.PacketPriority;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// `quaver demo`: options, exit codes, and a short scripted run.
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DemoCommandTest {

    @Test
    void helpListsTheOptions() {
        CliRun run = CliRun.of("demo", "--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("--duration", "--no-dashboard", "--json", "--port", "adaptive");
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertThat(CliRun.of("demo", "--duration", "soon").exitCode()).isEqualTo(Main.EXIT_USAGE);
        CliRun tooShort = CliRun.of("demo", "--duration", "500ms");
        assertThat(tooShort.exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(tooShort.err()).contains("--duration must be between 2s and 24h");
        assertThat(CliRun.of("demo", "--port", "70000").exitCode()).isEqualTo(Main.EXIT_USAGE);
        assertThat(CliRun.of("demo", "--frobnicate").exitCode()).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void aDemoWithoutEstimatesFailsWithExitOneAndSaysWhy() throws Exception {
        AdaptiveDemo.Result failed = new AdaptiveDemo.Result(false, "no path estimates within 15 s", 15_000, null, 7,
                new PacketPriority(0, 0, 0, 0), -1, -1, OptionalLong.empty(), OptionalLong.empty(),
                OptionalLong.empty(), List.of(), 0, 0, 0, 0, 0, 0, 0, 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int rc = DemoCommand.report(failed, true, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(OutputStream.nullOutputStream()), new PrintWriter(err));
        assertThat(rc).isEqualTo(Main.EXIT_FAILED);
        assertThat(err.toString()).isEqualTo("quaver demo: no path estimates within 15 s" + System.lineSeparator());
        JsonNode r = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertThat(r.get("ok").asBoolean()).isFalse();
        assertThat(r.get("failure").asText()).isEqualTo("no path estimates within 15 s");
        assertThat(r.get("admitted").asBoolean()).isFalse();
        assertThat(r.get("estimates").get("bottleneckBps").isNull()).isTrue();
        assertThat(r.get("firstEstimateMs").isNull()).isTrue();

        ByteArrayOutputStream summary = new ByteArrayOutputStream();
        rc = DemoCommand.report(failed, false, new PrintStream(OutputStream.nullOutputStream()),
                new PrintStream(summary, true, StandardCharsets.UTF_8), new PrintWriter(new StringWriter()));
        assertThat(rc).isEqualTo(Main.EXIT_FAILED);
        assertThat(summary.toString(StandardCharsets.UTF_8)).contains("admitted after - (never)",
                "congestion episodes induced: 0");
    }

    /// The whole loop in 24 s: estimates, admission, one induced episode (it starts 4 s after the
    /// admission, which can take several seconds on a loaded host), Congested and Available seen,
    /// the rate restored; exactly one JSON object on stdout.
    @Test
    void jsonRunSeesEstimatesAdmissionCongestedAndAvailable() throws Exception {
        CliRun run = CliRun.of("demo", "--duration", "24s", "--no-dashboard", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out().strip().lines().count()).as(run.out()).isEqualTo(1);
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertThat(r.get("ok").asBoolean()).isTrue();
        assertThat(r.get("dashboardUrl").isNull()).isTrue();
        assertThat(r.get("flow").get("trafficType").asText()).isEqualTo("AUDIO_VIDEO");
        assertThat(r.get("flow").get("dscp").asInt()).isEqualTo(40);
        assertThat(r.get("firstEstimateMs").asLong()).isPositive();
        // estimates present; their accuracy is PathBenchmark's business (on a heavily loaded host a
        // packet pair can be compressed into a bottleneck estimate far above the emulated 20 Mbit/s)
        JsonNode est = r.get("estimates");
        assertThat(est.get("bottleneckBps").asLong()).isPositive();
        assertThat(est.get("availableBps").isNull()).isFalse();
        assertThat(est.get("rttUs").asLong()).as("at least the 2 x 10 ms of emulated delay").isGreaterThan(15_000L);
        assertThat(r.get("admitted").asBoolean()).isTrue();
        assertThat(r.get("episodesInduced").asInt()).isEqualTo(1);
        assertThat(r.get("congestedSeen").asInt()).isPositive();
        assertThat(r.get("availableSeen").asInt()).isPositive();
        assertThat(r.get("restored").asInt()).isPositive();
        JsonNode episode = r.get("episodes").get(0);
        assertThat(episode.get("offMs").asLong()).isGreaterThan(episode.get("onsetMs").asLong());
        // a Congested is the episode's only while its cross traffic is on or just went off (the loop
        // may still be waiting for Available after a Congested raised by a loaded host's delays)
        assertThat(episode.get("congestedAfterMs").isNull() || episode.get("congestedAfterMs").asLong() <= 7_000)
                .as(episode.toString()).isTrue();
        assertThat(r.get("bytesSent").asLong()).isPositive();
        assertThat(r.get("bytesReceived").asLong()).isPositive();
        assertThat(r.get("averageRateBps").asLong()).isBetween(100_000L, 3_300_000L);
        assertThat(run.err()).contains("Congested", "Available");
    }
}
