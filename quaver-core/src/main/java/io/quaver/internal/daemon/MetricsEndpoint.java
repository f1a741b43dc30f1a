package io.quaver.internal.daemon;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quaver.QosMetrics;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/// The daemon's Prometheus endpoint: `GET /metrics` on 127.0.0.1 answers with
/// [QosMetrics#meters()] in the Prometheus text exposition format (version 0.0.4). Counters
/// are named `quaver_<name>_<unit>_total`, gauges `quaver_<name>_<unit>`; tags become labels.
final class MetricsEndpoint implements AutoCloseable {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsEndpoint(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static MetricsEndpoint start(int port, Supplier<QosMetrics> metrics) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        ExecutorService executor = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("quaver-metrics-http").factory());
        server.setExecutor(executor);
        server.createContext("/metrics", exchange -> serve(exchange, metrics));
        server.start();
        return new MetricsEndpoint(server, executor);
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void serve(HttpExchange exchange, Supplier<QosMetrics> metrics) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = exposition(metrics.get()).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(200, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    /// The Prometheus name of a meter: dots to underscores, the unit appended unless the name
    /// ends with it, `_total` for counters.
    static String prometheusName(QosMetrics.Meter m) {
        String base = m.name().replace('.', '_');
        String unit = m.baseUnit().toLowerCase(Locale.ROOT);
        if (!base.endsWith("_" + unit)) {
            base = base + "_" + unit;
        }
        return m.counter() ? base + "_total" : base;
    }

    /// The text exposition of a snapshot: `# HELP` and `# TYPE` once per family, then one
    /// sample per value.
    static String exposition(QosMetrics snapshot) {
        StringBuilder out = new StringBuilder(4096);
        Set<String> described = new LinkedHashSet<>();
        for (QosMetrics.Meter m : QosMetrics.meters()) {
            String name = prometheusName(m);
            if (described.add(name)) {
                out.append("# HELP ").append(name).append(' ').append(m.description()).append('\n');
                out.append("# TYPE ").append(name).append(' ').append(m.counter() ? "counter" : "gauge").append('\n');
            }
            out.append(name);
            if (!m.tags().isEmpty()) {
                out.append('{');
                for (int i = 0; i < m.tags().size(); i++) {
                    String tag = m.tags().get(i);
                    int eq = tag.indexOf('=');
                    out.append(i == 0 ? "" : ",").append(tag, 0, eq).append("=\"").append(tag.substring(eq + 1))
                            .append('"');
                }
                out.append('}');
            }
            out.append(' ').append(m.value().applyAsLong(snapshot)).append('\n');
        }
        return out.toString();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.close();
    }
}
