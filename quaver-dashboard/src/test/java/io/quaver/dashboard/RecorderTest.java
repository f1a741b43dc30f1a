package io.quaver.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quaver.TrafficType;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

/// The recorder in virtual time: series, ring buffer, episodes, JSON.
class RecorderTest {
    private static final long MS = 1_000_000L;
    private static final long ORIGIN_NS = 5_000 * MS;

    private static FlowSample flow(long id, long actualBps, CongestionState state) {
        return new FlowSample(id, "to 127.0.0.1", TrafficType.AUDIO_VIDEO, 40, 5, 4_000_000, actualBps, 20_000_000,
                15_000_000, 20_500, state);
    }

    /// A source whose next reading the test sets.
    private static final class Scripted implements DashboardSource {
        List<FlowSample> flows = new ArrayList<>();

        @Override
        public DashboardSnapshot snapshot() {
            return new DashboardSnapshot("test", "scripted", flows);
        }
    }

    @Test
    void samplesAreKeptPerFlowWithTimesRelativeToTheOrigin() {
        Scripted src = new Scripted();
        Recorder r = new Recorder(src, 10, ORIGIN_NS);
        src.flows = List.of(flow(1, 3_000_000, CongestionState.UNCONGESTED), flow(2, 100, CongestionState.UNKNOWN));
        r.sample(ORIGIN_NS);
        src.flows = List.of(flow(1, 3_900_000, CongestionState.UNCONGESTED));
        r.sample(ORIGIN_NS + 500 * MS);

        assertThat(r.samples()).isEqualTo(2);
        assertThat(r.series(1, "tMs")).containsExactly(0, 500);
        assertThat(r.series(1, "actualBps")).containsExactly(3_000_000, 3_900_000);
        assertThat(r.series(1, "rttUs")).containsExactly(20_500, 20_500);
        assertThat(r.points(2)).isEqualTo(1);
        assertThat(r.points(3)).isZero();
        assertThatThrownBy(() -> r.series(1, "nope")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRingBufferKeepsTheNewestPoints() {
        Scripted src = new Scripted();
        Recorder r = new Recorder(src, 4, ORIGIN_NS);
        for (int i = 0; i < 10; i++) {
            src.flows = List.of(flow(7, i * 1000L, CongestionState.UNCONGESTED));
            r.sample(ORIGIN_NS + i * 100 * MS);
        }
        assertThat(r.points(7)).isEqualTo(4);
        assertThat(r.series(7, "tMs")).containsExactly(600, 700, 800, 900);
        assertThat(r.series(7, "actualBps")).containsExactly(6000, 7000, 8000, 9000);
    }

    @Test
    void congestionEpisodesStartAndEndWithTheState() {
        Scripted src = new Scripted();
        Recorder r = new Recorder(src, 100, ORIGIN_NS);
        CongestionState[] states = {CongestionState.UNKNOWN, CongestionState.UNCONGESTED, CongestionState.CONGESTED,
                CongestionState.CONGESTED, CongestionState.UNCONGESTED, CongestionState.UNCONGESTED,
                CongestionState.CONGESTED};
        for (int i = 0; i < states.length; i++) {
            src.flows = List.of(flow(1, 1, states[i]));
            r.sample(ORIGIN_NS + i * 1000 * MS);
        }
        assertThat(r.episodes(1)).containsExactly(
                new Recorder.Episode(2000, OptionalLong.of(4000)),
                new Recorder.Episode(6000, OptionalLong.empty()));
        // the flow leaves the source: its open episode ends
        src.flows = List.of();
        r.sample(ORIGIN_NS + 7500 * MS);
        assertThat(r.episodes(1)).last().isEqualTo(new Recorder.Episode(6000, OptionalLong.of(7500)));
    }

    @Test
    void episodesAreBounded() {
        Scripted src = new Scripted();
        Recorder r = new Recorder(src, 10, ORIGIN_NS);
        for (int i = 0; i < 2 * Recorder.MAX_EPISODES + 2; i++) {
            src.flows = List.of(flow(1, 1, i % 2 == 0 ? CongestionState.CONGESTED : CongestionState.UNCONGESTED));
            r.sample(ORIGIN_NS + i * MS);
        }
        assertThat(r.episodes(1)).hasSize(Recorder.MAX_EPISODES);
        assertThat(r.episodes(1).getFirst().startMs()).as("the first of 65 episodes is forgotten").isEqualTo(2);
    }

    @Test
    void flowsAreBoundedForgettingDepartedFlowsFirst() {
        Scripted src = new Scripted();
        Recorder r = new Recorder(src, 10, ORIGIN_NS);
        src.flows = List.of(flow(1000, 1, CongestionState.UNKNOWN), flow(2000, 1, CongestionState.UNKNOWN));
        r.sample(ORIGIN_NS);
        List<FlowSample> live = new ArrayList<>(List.of(flow(2000, 1, CongestionState.UNKNOWN)));
        for (int id = 1; id < Recorder.MAX_FLOWS; id++) {
            live.add(flow(id, 1, CongestionState.UNKNOWN));
        }
        src.flows = live; // 1000 departs; 2000 stays; 63 new flows: one flow too many
        r.sample(ORIGIN_NS + MS);
        assertThat(r.points(1000)).as("the departed flow is forgotten").isZero();
        assertThat(r.points(2000)).as("live flows are kept").isEqualTo(2);
        assertThat(r.points(1)).isEqualTo(1);
        assertThat(r.points(Recorder.MAX_FLOWS - 1)).isEqualTo(1);
    }

    @Test
    void timeNeverGoesBackwards() {
        Scripted src = new Scripted();
        Recorder r = new Recorder(src, 10, ORIGIN_NS);
        src.flows = List.of(flow(1, 1, CongestionState.UNKNOWN));
        r.sample(ORIGIN_NS + 900 * MS);
        r.sample(ORIGIN_NS + 800 * MS);
        assertThat(r.series(1, "tMs")).containsExactly(900, 900);
    }

    @Test
    void jsonCarriesTheLatestValuesSeriesAndEpisodesWithUnknownsAsNull() throws Exception {
        Scripted src = new Scripted();
        Recorder r = new Recorder(src, 10, ORIGIN_NS);
        src.flows = List.of(new FlowSample(3, "a \"quoted\" </script> label", TrafficType.VOICE, 56, 0, -1, -1, -1,
                -1, -1, CongestionState.UNKNOWN));
        r.sample(ORIGIN_NS);
        src.flows = List.of(flow(3, 2_000_000, CongestionState.CONGESTED));
        r.sample(ORIGIN_NS + 1000 * MS);

        String json = r.toJson();
        assertThat(json).doesNotContain("</script>");
        JsonNode root = new ObjectMapper().readTree(json);
        assertThat(root.get("title").asText()).isEqualTo("test");
        assertThat(root.get("nowMs").asLong()).isEqualTo(1000);
        JsonNode f = root.get("flows").get(0);
        assertThat(f.get("flowId").asLong()).isEqualTo(3);
        assertThat(f.get("trafficType").asText()).isEqualTo("AUDIO_VIDEO");
        assertThat(f.get("dscp").asInt()).isEqualTo(40);
        assertThat(f.get("ieee8021p").asInt()).isEqualTo(5);
        assertThat(f.get("congestion").asText()).isEqualTo("CONGESTED");
        assertThat(f.get("actualBps").asLong()).isEqualTo(2_000_000);
        assertThat(f.get("series").get("admittedBps").get(0).isNull()).isTrue();
        assertThat(f.get("series").get("admittedBps").get(1).asLong()).isEqualTo(4_000_000);
        assertThat(f.get("series").get("tMs")).hasSize(2);
        assertThat(f.get("episodes").get(0).get("startMs").asLong()).isEqualTo(1000);
        assertThat(f.get("episodes").get(0).get("endMs").isNull()).isTrue();
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new Recorder(() -> null, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FlowSample(1, "", TrafficType.VOICE, 64, 0, 0, 0, 0, 0, 0,
                CongestionState.UNKNOWN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FlowSample(1, "", TrafficType.VOICE, 0, 8, 0, 0, 0, 0, 0,
                CongestionState.UNKNOWN)).isInstanceOf(IllegalArgumentException.class);
    }
}
