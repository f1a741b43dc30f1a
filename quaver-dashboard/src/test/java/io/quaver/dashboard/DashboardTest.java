package io.quaver.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quaver.TrafficType;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// The dashboard's HTTP surface against a fake source.
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DashboardTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /// A source whose actual rate grows with every reading.
    private static final class Growing implements DashboardSource {
        final AtomicLong readings = new AtomicLong();

        @Override
        public DashboardSnapshot snapshot() {
            long n = readings.incrementAndGet();
            return new DashboardSnapshot("fake", "reading " + n, List.of(new FlowSample(9, "fake flow",
                    TrafficType.AUDIO_VIDEO, 40, 0, 1_000_000, n * 1000, 20_000_000, 18_000_000, 20_000,
                    n % 4 < 2 ? CongestionState.UNCONGESTED : CongestionState.CONGESTED)));
        }
    }

    private static HttpResponse<String> get(HttpClient client, URI uri, String method) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void apiStateServesTheRecordedSeriesAndTheyGrow() throws Exception {
        Growing source = new Growing();
        try (Dashboard d = Dashboard.start(source, LOOPBACK, Duration.ofMillis(50), 100);
             HttpClient client = HttpClient.newHttpClient()) {
            assertThat(d.url().toString()).startsWith("http://127.0.0.1:").endsWith("/");
            ObjectMapper json = new ObjectMapper();
            HttpResponse<String> first = get(client, d.url().resolve("/api/state"), "GET");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.headers().firstValue("Content-Type")).hasValue("application/json");
            JsonNode a = json.readTree(first.body());
            assertThat(a.get("title").asText()).isEqualTo("fake");
            JsonNode flowA = a.get("flows").get(0);
            assertThat(flowA.get("trafficType").asText()).isEqualTo("AUDIO_VIDEO");
            assertThat(flowA.get("dscp").asInt()).isEqualTo(40);
            assertThat(flowA.get("bottleneckBps").asLong()).isEqualTo(20_000_000);
            int pointsA = flowA.get("series").get("tMs").size();

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            JsonNode flowB;
            do {
                Thread.sleep(100);
                flowB = json.readTree(get(client, d.url().resolve("/api/state"), "GET").body()).get("flows").get(0);
            } while (flowB.get("series").get("tMs").size() < pointsA + 3 && System.nanoTime() < deadline);
            assertThat(flowB.get("series").get("tMs").size()).isGreaterThanOrEqualTo(pointsA + 3);
            assertThat(flowB.get("actualBps").asLong()).isGreaterThan(flowA.get("actualBps").asLong());
            assertThat(flowB.get("episodes").size()).isPositive();
            assertThat(d.recorder().samples()).isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void thePageIsSelfContainedAndOtherPathsAndMethodsAreRefused() throws Exception {
        try (Dashboard d = Dashboard.start(new Growing(), LOOPBACK);
             HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> page = get(client, d.url(), "GET");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
            assertThat(page.body()).contains("createElement(tag)", "\"canvas\"", "api/state", "quaverDashboard");
            // offline machines: nothing may be loaded from elsewhere
            assertThat(page.body()).doesNotContain("http://", "https://", "src=\"//", "href=\"//");
            assertThat(get(client, d.url().resolve("/nope"), "GET").statusCode()).isEqualTo(404);
            HttpResponse<String> post = get(client, d.url().resolve("/api/state"), "POST");
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
        }
    }

    @Test
    void aFailingSourceDoesNotStopTheSampler() throws Exception {
        AtomicLong calls = new AtomicLong();
        DashboardSource flaky = () -> {
            if (calls.incrementAndGet() % 2 == 0) {
                throw new IllegalStateException("flaky source (expected in this test)");
            }
            return new DashboardSnapshot("flaky", "", List.of());
        };
        try (Dashboard d = Dashboard.start(flaky, LOOPBACK, Duration.ofMillis(20), 10)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (calls.get() < 6 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(calls.get()).isGreaterThanOrEqualTo(6);
            assertThat(d.recorder().samples()).isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void closeReleasesThePortAndIsIdempotent() throws Exception {
        Dashboard d = Dashboard.start(new Growing(), LOOPBACK);
        int port = d.url().getPort();
        d.close();
        d.close();
        boolean refused = false;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            assertThat(s.isConnected()).as("nothing listens on the closed dashboard's port").isFalse();
        } catch (ConnectException e) {
            refused = true;
        }
        assertThat(refused).isTrue();
    }
}
