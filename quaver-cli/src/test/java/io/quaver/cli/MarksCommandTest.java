package io.quaver.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// `quaver marks`: the marking showcase (formerly `quaver demo`).
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MarksCommandTest {

    @Test
    void jsonListsEveryTrafficTypeOnEveryStackWithTheExpectedSocketMarks() throws Exception {
        CliRun run = CliRun.of("marks", "--json", "--no-capture");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out().strip().lines().count()).isEqualTo(1);
        JsonNode marks = new ObjectMapper().readTree(run.out()).get("marks");
        assertThat(marks).hasSize(18);
        for (JsonNode row : marks) {
            assertThat(row.get("ok").asBoolean()).as(row.toString()).isTrue();
            assertThat(row.get("socketTos").asInt()).as(row.toString()).isEqualTo(row.get("dscp").asInt() << 2);
        }
    }

    @Test
    void tablesByDefault() {
        CliRun run = CliRun.of("marks", "--no-capture");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("audio_video", "voice", "All marks as expected.");
    }
}
