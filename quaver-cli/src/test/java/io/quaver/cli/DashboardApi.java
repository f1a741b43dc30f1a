package io.quaver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/// Reads a dashboard's `/api/state` with the JDK's HTTP client.
final class DashboardApi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI state;

    DashboardApi(URI dashboard) {
        this.state = dashboard.resolve("/api/state");
    }

    JsonNode state() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(state).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + state + " answered " + r.statusCode());
        }
        return JSON.readTree(r.body());
    }

    /// Polls the state until `condition` holds (at most 20 s) and returns that state.
    JsonNode await(Predicate<JsonNode> condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        JsonNode s = state();
        while (!condition.test(s)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what + "; last state: " + s);
            }
            Thread.sleep(50);
            s = state();
        }
        return s;
    }

    /// The flow `flowId` in a state, or `null`.
    static JsonNode flow(JsonNode state, int flowId) {
        for (JsonNode f : state.get("flows")) {
            if (f.get("flowId").asLong() == Integer.toUnsignedLong(flowId)) {
                return f;
            }
        }
        return null;
    }

    @Override
    public void close() {
        http.close();
    }
}
