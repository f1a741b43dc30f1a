package io.quaver.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/// The live dashboard: a [Recorder] sampling a [DashboardSource] on a timer, served by the
/// JDK's HTTP server.
///
/// - `GET /` — one self-contained HTML page (inline script and styles, charts drawn on
///   canvases; it loads nothing from anywhere else) that polls the API every second;
/// - `GET /api/state` — the recorder's state as JSON (see [Recorder#toJson()]).
///
/// Threads: one sampler (`quaver-dashboard-sampler`) and two HTTP workers
/// (`quaver-dashboard-http-N`), plus the JDK server's dispatcher; [#close()] stops them all and
/// closes the listening socket.
public final class Dashboard implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Dashboard.class.getName());
    /// Default sampling interval.
    public static final Duration DEFAULT_SAMPLE_INTERVAL = Duration.ofMillis(500);
    /// Default points kept per flow: 10 minutes at the default interval.
    public static final int DEFAULT_CAPACITY = 1200;

    private static final AtomicInteger IDS = new AtomicInteger();

    private final Recorder recorder;
    private final HttpServer server;
    private final ExecutorService http;
    private final ScheduledExecutorService sampler;
    private final URI url;
    private final byte[] page;
    private volatile boolean closed;

    private Dashboard(DashboardSource source, InetSocketAddress bind, Duration sampleInterval, int capacity)
            throws IOException {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(bind, "bind");
        if (sampleInterval.toMillis() < 10) {
            throw new IllegalArgumentException("sampleInterval must be at least 10 ms, was " + sampleInterval);
        }
        this.page = loadPage();
        long originNs = System.nanoTime();
        this.recorder = new Recorder(source, capacity, originNs);
        int id = IDS.incrementAndGet();
        AtomicInteger workers = new AtomicInteger();
        this.http = Executors.newFixedThreadPool(2, r -> Thread.ofPlatform().daemon(true)
                .name("quaver-dashboard-http-" + id + "-" + workers.incrementAndGet()).unstarted(r));
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true)
                .name("quaver-dashboard-sampler-" + id).unstarted(r));
        HttpServer s;
        try {
            s = HttpServer.create(bind, 16);
        } catch (IOException | RuntimeException e) {
            http.shutdownNow();
            sampler.shutdownNow();
            throw e;
        }
        this.server = s;
        server.setExecutor(http);
        server.createContext("/", this::handle);
        InetSocketAddress bound = server.getAddress();
        InetAddress a = bound.getAddress();
        String host = a.isAnyLocalAddress() ? "127.0.0.1" : a.getHostAddress();
        this.url = URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort() + "/");
        recorder.sample(System.nanoTime());
        sampler.scheduleAtFixedRate(this::sampleOnce, sampleInterval.toMillis(), sampleInterval.toMillis(),
                TimeUnit.MILLISECONDS);
        server.start();
    }

    /// Starts a dashboard on `bind` (port 0: any free port), sampling every
    /// [#DEFAULT_SAMPLE_INTERVAL].
    public static Dashboard start(DashboardSource source, InetSocketAddress bind) throws IOException {
        return start(source, bind, DEFAULT_SAMPLE_INTERVAL, DEFAULT_CAPACITY);
    }

    /// Starts a dashboard on `bind` (port 0: any free port) sampling `source` every
    /// `sampleInterval` and keeping `capacity` points per flow.
    public static Dashboard start(DashboardSource source, InetSocketAddress bind, Duration sampleInterval,
                                  int capacity) throws IOException {
        return new Dashboard(source, bind, sampleInterval, capacity);
    }

    private static byte[] loadPage() {
        try (InputStream in = Dashboard.class.getResourceAsStream("dashboard.html")) {
            if (in == null) {
                throw new IllegalStateException("dashboard.html missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void sampleOnce() {
        try {
            recorder.sample(System.nanoTime());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "dashboard source failed; sample skipped", e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                reply(ex, 405, "text/plain; charset=utf-8", "method not allowed\n".getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/") || path.equals("/index.html")) {
                reply(ex, 200, "text/html; charset=utf-8", page);
            } else if (path.equals("/api/state")) {
                reply(ex, 200, "application/json", recorder.toJson().getBytes(StandardCharsets.UTF_8));
            } else {
                reply(ex, 404, "text/plain; charset=utf-8", "not found\n".getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static void reply(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /// The page's address, e.g. `http://127.0.0.1:40123/`.
    public URI url() {
        return url;
    }

    /// The recorder behind the page.
    public Recorder recorder() {
        return recorder;
    }

    /// Stops sampling and serving, and waits for the threads to end; idempotent.
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        sampler.shutdownNow();
        server.stop(0);
        http.shutdownNow();
        try {
            sampler.awaitTermination(5, TimeUnit.SECONDS);
            http.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "Dashboard[" + url + "]";
    }
}
