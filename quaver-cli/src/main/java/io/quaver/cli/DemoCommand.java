package io.quaver.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/// `./quaver demo`: the QoS2 SDK sample's adaptive loop over an emulated bottleneck on
/// loopback, with congestion induced and cleared, live in the terminal and on the dashboard.
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Show an adaptive flow at work on loopback, with no set-up: congestion induced, seen and"
                + " cleared.",
                "An embedded sink behind an emulated 20 Mbit/s bottleneck (10 ms each way), a synthetic 3 Mbit/s"
                        + " audio/video stream through an adaptive AUDIO_VIDEO flow that follows the QoS2 SDK"
                        + " sample (wait for estimates, set the rate with shape-and-mark, Congested -> a tenth,"
                        + " Available -> restore), and cross traffic switched on for 6 s every 15 s.",
                "Prints the estimates, the admitted and actual rates, the marks and the notifications live,"
                        + " serves a dashboard on 127.0.0.1, and ends after --duration with a summary."})
final class DemoCommand implements Callable<Integer> {
    static final Duration MIN_DURATION = Duration.ofSeconds(2);
    static final Duration MAX_DURATION = Duration.ofHours(24);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Duration duration = Duration.ofSeconds(60);
    int port;

    @Option(names = "--duration", paramLabel = "TIME", description = "How long the demo runs (default: 60s; e.g."
            + " 30s, 2m; at least 2s).", converter = DurationConverter.class)
    void setDuration(Duration d) {
        if (d.compareTo(MIN_DURATION) < 0 || d.compareTo(MAX_DURATION) > 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--duration must be between 2s and 24h, was " + d.toMillis() + " ms");
        }
        duration = d;
    }

    @Option(names = "--port", paramLabel = "P", description = "The dashboard's TCP port on 127.0.0.1 (default: 0,"
            + " any free port; the URL is printed at the start).")
    void setPort(int p) {
        if (p < 0 || p > 65_535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--port must be 0-65535, was " + p);
        }
        port = p;
    }

    @Option(names = "--no-dashboard", description = "Do not serve the dashboard.")
    boolean noDashboard;

    @Option(names = "--json", description = "Print exactly one JSON object on stdout at the end (the live lines go"
            + " to stderr).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintStream live = json ? System.err : System.out;
        AdaptiveDemo demo = new AdaptiveDemo(new AdaptiveDemo.Settings(duration, !noDashboard, port, live));
        CountDownLatch reported = new CountDownLatch(1);
        // Ctrl-C: stop the demo and let it close everything and print its summary before the JVM ends
        Thread hook = Thread.ofPlatform().name("quaver-demo-shutdown").unstarted(() -> {
            demo.stop();
            try {
                reported.await(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return report(demo.run(), json, System.out, live, spec.commandLine().getErr());
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down (Ctrl-C): the hook is running and has been released
            }
        }
    }

    /// Prints the outcome (one JSON object on `stdout`, or the summary on `live`), a one-line
    /// reason on `err` when the job failed, and returns the exit code.
    static int report(AdaptiveDemo.Result r, boolean json, PrintStream stdout, PrintStream live, PrintWriter err) {
        if (json) {
            stdout.println(toJson(r));
        } else {
            summary(r, live);
        }
        if (!r.ok()) {
            err.println("quaver demo: " + (r.failure() == null ? "stopped before a rate was admitted" : r.failure()));
            err.flush();
        }
        return r.ok() ? 0 : Main.EXIT_FAILED;
    }

    private static void summary(AdaptiveDemo.Result r, PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "Summary after %.1f s: flow %s, AUDIO_VIDEO, marks DSCP %d, 802.1p %d%n",
                r.durationMs() / 1000.0, Integer.toUnsignedString(r.flowId()), r.marks().conformantDscp(),
                r.marks().conformantL2());
        out.printf(Locale.ROOT, "  first estimates after %s; last: bottleneck %s, available %s, RTT %s%n",
                r.firstEstimateMs() < 0 ? "-" : r.firstEstimateMs() + " ms", AdaptiveDemo.mbps(r.bottleneckBps()),
                AdaptiveDemo.mbps(r.availableBps()), AdaptiveDemo.rtt(r.rttUs()));
        out.printf(Locale.ROOT, "  rate %s admitted after %s%n", AdaptiveDemo.mbps(AdaptiveDemo.STREAM_BPS),
                r.admittedMs() < 0 ? "- (never)" : r.admittedMs() + " ms");
        out.printf(Locale.ROOT, "  congestion episodes induced: %d; Congested seen %d (after %s ms), Uncongested %d"
                        + " (after %s ms), Available %d (after %s ms), rate restored %d%n", r.episodes().size(),
                r.congestedSeen(), times(r, AdaptiveDemo.Episode::congestedAfterMs), r.uncongestedSeen(),
                times(r, AdaptiveDemo.Episode::uncongestedAfterMs), r.availableSeen(),
                times(r, AdaptiveDemo.Episode::availableAfterMs), r.restored());
        out.printf(Locale.ROOT, "  sent %d datagrams, %.2f MB; average %s while streaming%n", r.packetsSent(),
                r.bytesSent() / 1e6, AdaptiveDemo.mbps(r.averageRateBps()));
    }

    private static String times(AdaptiveDemo.Result r, java.util.function.ToLongFunction<AdaptiveDemo.Episode> f) {
        String s = r.episodes().stream().mapToLong(f).mapToObj(v -> v < 0 ? "-" : Long.toString(v))
                .collect(Collectors.joining("/"));
        return s.isEmpty() ? "-" : s;
    }

    static String toJson(AdaptiveDemo.Result r) {
        StringBuilder b = new StringBuilder("{");
        b.append("\"ok\":").append(r.ok());
        b.append(",\"failure\":").append(r.failure() == null ? "null" : quote(r.failure()));
        b.append(",\"durationMs\":").append(r.durationMs());
        b.append(",\"dashboardUrl\":").append(r.dashboardUrl() == null ? "null" : quote(r.dashboardUrl()));
        b.append(",\"link\":{\"bottleneckBps\":").append(AdaptiveDemo.LINK_BPS).append(",\"oneWayDelayMs\":")
                .append(AdaptiveDemo.ONE_WAY_DELAY_NS / 1_000_000).append(",\"crossTrafficBps\":")
                .append(AdaptiveDemo.CROSS_TRAFFIC_BPS).append('}');
        b.append(",\"flow\":{\"flowId\":").append(Integer.toUnsignedLong(r.flowId()))
                .append(",\"trafficType\":\"AUDIO_VIDEO\",\"dscp\":").append(r.marks().conformantDscp())
                .append(",\"ieee8021p\":").append(r.marks().conformantL2()).append('}');
        b.append(",\"firstEstimateMs\":").append(nullable(r.firstEstimateMs()));
        b.append(",\"estimates\":{\"bottleneckBps\":").append(nullable(r.bottleneckBps().orElse(-1)))
                .append(",\"availableBps\":").append(nullable(r.availableBps().orElse(-1)))
                .append(",\"rttUs\":").append(nullable(r.rttUs().orElse(-1))).append('}');
        b.append(",\"streamRateBps\":").append(AdaptiveDemo.STREAM_BPS);
        b.append(",\"admitted\":").append(r.admittedMs() >= 0);
        b.append(",\"admittedMs\":").append(nullable(r.admittedMs()));
        b.append(",\"episodesInduced\":").append(r.episodes().size());
        b.append(",\"congestedSeen\":").append(r.congestedSeen());
        b.append(",\"uncongestedSeen\":").append(r.uncongestedSeen());
        b.append(",\"availableSeen\":").append(r.availableSeen());
        b.append(",\"restored\":").append(r.restored());
        b.append(",\"episodes\":[");
        for (int i = 0; i < r.episodes().size(); i++) {
            AdaptiveDemo.Episode e = r.episodes().get(i);
            b.append(i == 0 ? "" : ",").append("{\"number\":").append(e.number())
                    .append(",\"onsetMs\":").append(e.onsetMs())
                    .append(",\"offMs\":").append(nullable(e.offMs()))
                    .append(",\"congestedAfterMs\":").append(nullable(e.congestedAfterMs()))
                    .append(",\"uncongestedAfterMs\":").append(nullable(e.uncongestedAfterMs()))
                    .append(",\"availableAfterMs\":").append(nullable(e.availableAfterMs()))
                    .append(",\"availableBps\":").append(nullable(e.availableBps()))
                    .append(",\"restoredMs\":").append(nullable(e.restoredMs())).append('}');
        }
        b.append(']');
        b.append(",\"packetsSent\":").append(r.packetsSent());
        b.append(",\"bytesSent\":").append(r.bytesSent());
        b.append(",\"bytesReceived\":").append(r.bytesReceived());
        b.append(",\"averageRateBps\":").append(r.averageRateBps());
        return b.append('}').toString();
    }

    private static String nullable(long v) {
        return v < 0 ? "null" : Long.toString(v);
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
