package io.quaver.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

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

    /// The whole loop in ~22 s: estimates, admission, one induced episode seen as Congested and
    /// cleared with Available, the rate restored; exactly one JSON object on stdout.
    @Test
    void jsonRunSeesEstimatesAdmissionCongestedAndAvailable() throws Exception {
        CliRun run = CliRun.of("demo", "--duration", "22s", "--no-dashboard", "--json");
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
        assertThat(episode.get("congestedAfterMs").asLong()).isBetween(0L, 6_000L);
        assertThat(episode.get("availableAfterMs").isNull()).isFalse();
        assertThat(r.get("bytesSent").asLong()).isPositive();
        assertThat(r.get("bytesReceived").asLong()).isPositive();
        assertThat(r.get("averageRateBps").asLong()).isBetween(100_000L, 3_300_000L);
        assertThat(run.err()).contains("Congested", "Available");
    }
}
