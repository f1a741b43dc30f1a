package io.quaver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.dashboard.Dashboard;
import io.quaver.internal.daemon.Daemon;
import io.quaver.internal.daemon.DaemonPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/// The daemon's dashboard over HTTP: every flow of every client with its marks, rates, path
/// estimates and congestion episodes.
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DaemonDashboardTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    @TempDir
    Path dir;

    @Test
    void theDashboardShowsTheFlowsOfEveryClientWithRatesEstimatesAndEpisodes() throws Exception {
        Path socket = dir.resolve("q.sock");
        try (Daemon daemon = Daemon.start(new Daemon.Config(socket, DaemonPolicy.defaults(), 0, -1));
             Dashboard dashboard = DaemonDashboard.start(daemon, 0, Duration.ofMillis(100));
             DashboardApi api = new DashboardApi(dashboard.url());
             DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress(LOOPBACK, 0));
             DatagramChannel a = DatagramChannel.open().connect(rx.getLocalAddress());
             DatagramChannel b = DatagramChannel.open().connect(rx.getLocalAddress());
             QosSubsystem one = QosSubsystem.open(QosOptions.defaults().withDaemon(socket));
             QosSubsystem two = QosSubsystem.open(QosOptions.defaults().withDaemon(socket))) {
            assertThat(dashboard.url().getHost()).isEqualTo("127.0.0.1");
            // an adaptive flow: the daemon's prober measures the path to its own sink on loopback
            QosFlow video = one.addFlow(a, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
            QosFlow voice = two.addFlow(b, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            voice.setOutgoingRate(OutgoingRate.of(2_000_000, Shaping.SHAPE_AND_MARK));
            // the congestion state is the test's (a loaded host can delay loopback probes enough
            // for the real detector to see a queue)
            InetSocketAddress dest = (InetSocketAddress) rx.getLocalAddress();
            var adaptive = daemon.hostEngine().adaptive();
            adaptive.forceCongestion(dest, daemon.sinkPort(), false);

            JsonNode s = api.await(st -> {
                JsonNode v = DashboardApi.flow(st, video.id());
                return DashboardApi.flow(st, voice.id()) != null && v != null && !v.get("bottleneckBps").isNull()
                        && !v.get("rttUs").isNull();
            }, "both flows are shown and the adaptive flow's path has estimates");
            assertThat(s.get("title").asText()).contains("quaver daemon").contains(socket.toString());
            assertThat(s.get("status").asText()).contains("2 client connection(s)", "2 flow(s)");
            JsonNode v = DashboardApi.flow(s, video.id());
            JsonNode o = DashboardApi.flow(s, voice.id());
            assertThat(v.get("trafficType").asText()).isEqualTo("AUDIO_VIDEO");
            assertThat(o.get("trafficType").asText()).isEqualTo("VOICE");
            assertThat(o.get("dscp").asInt()).isEqualTo(56); // qWAVE's VOICE mark, by the daemon's policy
            assertThat(o.get("admittedBps").asLong()).isEqualTo(2_000_000);
            assertThat(v.get("admittedBps").isNull()).isTrue();
            assertThat(v.get("label").asText()).startsWith("root#").contains("udp 127.0.0.1:"
                    + ((InetSocketAddress) rx.getLocalAddress()).getPort());
            assertThat(v.get("label").asText()).isNotEqualTo(o.get("label").asText()); // two owners
            assertThat(v.get("bottleneckBps").asLong()).isPositive();
            assertThat(v.get("rttUs").asLong()).isPositive();
            assertThat(v.get("congestion").asText()).isEqualTo("UNCONGESTED");
            assertThat(o.get("congestion").asText()).isEqualTo("UNKNOWN"); // non-adaptive: no monitored path
            assertThat(o.get("actualBps").isNull()).isTrue(); // nothing sent yet

            // the client sends through the send path (paced at 2 Mbit/s): the daemon learns the rate
            ByteBuffer payload = ByteBuffer.allocate(972); // 1000 bytes at the IP level
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            while (System.nanoTime() < until) {
                voice.send(payload.clear());
            }
            JsonNode sent = api.state();
            long actual = DashboardApi.flow(sent, voice.id()).get("actualBps").asLong();
            assertThat(actual).as("actual rate while sending at the 2 Mbit/s contract")
                    .isBetween(600_000L, 3_000_000L);

            // a congestion episode on the adaptive flow's path, begun and cleared
            int episodes = DashboardApi.flow(api.state(), video.id()).get("episodes").size(); // before forcing
            adaptive.forceCongestion(dest, daemon.sinkPort(), true);
            JsonNode during = api.await(st -> DashboardApi.flow(st, video.id()).get("congestion").asText()
                    .equals("CONGESTED"), "the congestion is shown");
            long startedAfterMs = during.get("nowMs").asLong() - 5_000;
            adaptive.forceCongestion(dest, daemon.sinkPort(), false);
            JsonNode after = api.await(st -> {
                JsonNode eps = DashboardApi.flow(st, video.id()).get("episodes");
                return eps.size() == episodes + 1 && !eps.get(episodes).get("endMs").isNull();
            }, "the episode is on the timeline, ended");
            JsonNode ep = DashboardApi.flow(after, video.id()).get("episodes").get(episodes);
            assertThat(ep.get("startMs").asLong()).isGreaterThan(startedAfterMs);
            assertThat(ep.get("endMs").asLong()).isGreaterThanOrEqualTo(ep.get("startMs").asLong());

            // the charts' data grows
            int points = DashboardApi.flow(after, video.id()).get("series").get("tMs").size();
            JsonNode later = api.await(st -> DashboardApi.flow(st, video.id()).get("series").get("tMs").size()
                    > points + 2, "more points are recorded");
            JsonNode series = DashboardApi.flow(later, video.id()).get("series");
            assertThat(series.get("bottleneckBps").size()).isEqualTo(series.get("tMs").size());
            assertThat(later.get("samples").asLong()).isGreaterThan(after.get("samples").asLong());

            // a client that goes away: its flow is no longer live, the other one is
            one.close();
            JsonNode gone = api.await(st -> !DashboardApi.flow(st, video.id()).get("live").asBoolean(),
                    "the closed handle's flow is shown as gone");
            assertThat(DashboardApi.flow(gone, voice.id()).get("live").asBoolean()).isTrue();
        }
    }
}
