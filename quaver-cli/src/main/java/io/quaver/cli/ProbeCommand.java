package io.quaver.cli;

import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.SharedSecret;
import io.quaver.internal.Engine;
import io.quaver.internal.probe.ClientProber;
import io.quaver.internal.probe.PathEstimates;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/// `./quaver probe HOST[:PORT]`: tracks a client running a sink and reports its path.
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Track HOST (which runs `quaver sink`), show the estimates while measuring, and print the"
                + " bottleneck bandwidth, available bandwidth and RTT. PORT is the sink's port (default 2177).")
final class ProbeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "HOST[:PORT]", description = "The client: a name, an IPv4 address, or"
            + " [IPv6]:port.")
    String target;

    @Option(names = "--duration", description = "How long to measure (default: ${DEFAULT-VALUE}).",
            defaultValue = "3s", converter = DurationConverter.class)
    Duration duration;

    @Option(names = "--json", description = "Print exactly one JSON object on stdout at the end (progress goes to"
            + " stderr).")
    boolean json;

    @Option(names = "--off-link", description = "Allow experiments towards an off-link host (beyond qWAVE; probes"
            + " then use a normal TTL).")
    boolean offLink;

    @Option(names = "--secret-file", paramLabel = "F", description = "Authenticate the handshakes with the shared"
            + " secret in file F (for a sink started with the same --secret-file).")
    Path secretFile;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress sink = parse(target);
        PrintStream progress = json ? System.err : System.out;
        QosOptions options = QosOptions.defaults().withSinkPort(sink.getPort()).withTrackingGracePeriod(Duration.ZERO)
                .withOffLinkExperiments(offLink)
                .withProbeSecret(secretFile == null ? null : SharedSecret.fromFile(secretFile));
        long t0 = System.nanoTime();
        try (QosSubsystem qos = QosSubsystem.open(options)) {
            progress.println("probing " + sink.getAddress().getHostAddress() + " (sink port " + sink.getPort()
                    + ") for " + duration.toMillis() + " ms ...");
            qos.startTrackingClient(sink);
            ClientProber prober = Engine.embedded().tracking().prober(sink.getAddress(), sink.getPort())
                    .orElseThrow(() -> new IllegalStateException("no prober after tracking started"));
            prober.setActive(true); // continuous sampling for the measurement
            long end = t0 + duration.toNanos();
            long nextReport = System.nanoTime() + 250_000_000L;
            while (System.nanoTime() < end) {
                Thread.sleep(Math.max(1, Math.min(50, (end - System.nanoTime()) / 1_000_000)));
                if (System.nanoTime() >= nextReport) {
                    nextReport += 250_000_000L;
                    progress.printf(Locale.ROOT, "  %5.2f s  %s%n", (System.nanoTime() - t0) / 1e9,
                            line(prober.estimates()));
                }
            }
            PathEstimates e = prober.estimates();
            long firstMs = prober.firstEstimateAfterNs() < 0 ? -1 : prober.firstEstimateAfterNs() / 1_000_000;
            long probeBytes = prober.probeBytesSent();
            Boolean priority = prober.prioritySupported();
            prober.setActive(false);
            if (json) {
                System.out.println("{\"host\":\"" + sink.getAddress().getHostAddress() + "\",\"sinkPort\":"
                        + sink.getPort() + ",\"bottleneckBps\":" + num(e.bottleneckBps()) + ",\"availableBps\":"
                        + num(e.availableBps()) + ",\"rttUs\":" + num(e.rttUs()) + ",\"minRttUs\":" + num(e.minRttUs())
                        + ",\"burstAllowanceBytes\":" + num(e.burstAllowanceBytes()) + ",\"burstAtLeastBytes\":"
                        + num(e.burstAtLeastBytes())
                        + ",\"firstEstimateMs\":" + (firstMs < 0 ? "null" : firstMs) + ",\"probeBytes\":" + probeBytes
                        + ",\"durationMs\":" + duration.toMillis() + ",\"prioritySupported\":" + priority + "}");
            } else {
                System.out.println("bottleneck bandwidth: " + mbps(e.bottleneckBps())
                        + (e.sustainedRateUnknown() ? " or more (no train was slowed: sustained rate unknown)" : ""));
                if (e.burstAllowanceBytes().isPresent()) {
                    System.out.println("burst allowance:      " + e.burstAllowanceBytes().getAsLong() + " bytes (token bucket)");
                } else if (e.burstAtLeastBytes().isPresent()) {
                    System.out.println("burst allowance:      unknown; a token bucket of "
                            + e.burstAtLeastBytes().getAsLong() + " bytes or more is possible");
                }
                System.out.println("available bandwidth:  " + mbps(e.availableBps()));
                System.out.println("RTT:                  " + us(e.rttUs()) + " (min " + us(e.minRttUs()) + ")");
                System.out.println("first estimate after: " + (firstMs < 0 ? "-" : firstMs + " ms"));
                System.out.println("probe bytes sent:     " + probeBytes);
                System.out.println("802.1p on the path:   " + (priority == null ? "unknown"
                        : priority ? "supported" : "not supported"));
            }
            return e.bottleneckBps().isPresent() ? 0 : Main.EXIT_FAILED;
        }
    }

    private static String line(PathEstimates e) {
        return "bottleneck " + mbps(e.bottleneckBps()) + "  available " + mbps(e.availableBps()) + "  RTT "
                + us(e.rttUs());
    }

    private static String num(OptionalLong v) {
        return v.isPresent() ? Long.toString(v.getAsLong()) : "null";
    }

    private static String mbps(OptionalLong bps) {
        return bps.isPresent() ? String.format(Locale.ROOT, "%.2f Mbit/s", bps.getAsLong() / 1e6) : "-";
    }

    private static String us(OptionalLong v) {
        return v.isPresent() ? v.getAsLong() + " us" : "-";
    }

    /// `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 literal.
    static InetSocketAddress parse(String s) throws Exception {
        String host = s;
        int port = QosOptions.DEFAULT_SINK_PORT;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            host = s.substring(1, close);
            if (close + 1 < s.length() && s.charAt(close + 1) == ':') {
                port = Integer.parseInt(s.substring(close + 2));
            }
        } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
            host = s.substring(0, s.indexOf(':'));
            port = Integer.parseInt(s.substring(s.indexOf(':') + 1));
        }
        return new InetSocketAddress(InetAddress.getByName(host), port);
    }
}
