package io.quaver.benchmarks;

import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.internal.estimation.PathEstimator;
import io.quaver.internal.platform.NetNamespace;
import io.quaver.internal.platform.Platform;
import io.quaver.internal.probe.ClientProber;
import io.quaver.internal.probe.EstimatorModel;
import io.quaver.internal.probe.PathEstimates;
import io.quaver.internal.probe.PathStack;
import io.quaver.internal.probe.ProbeSockets;
import io.quaver.internal.probe.ProberConfig;
import io.quaver.internal.qlpb.ProbeView;
import io.quaver.internal.qlpb.QlpbCodec;
import io.quaver.testkit.Availability;
import io.quaver.testkit.CrossTraffic;
import io.quaver.testkit.ExecResult;
import io.quaver.testkit.LinkConfig;
import io.quaver.testkit.LinkEmulator;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import io.quaver.testkit.Shaper;
import io.quaver.testkit.SpawnedProcess;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/// Path-estimation benchmark (issue 3; goals G1–G6, G16 of performance-anchors.md).
///
/// Scenarios:
/// * **netns**: two namespaces over a veth, `tbf` or `htb` on A → B at 2/10/50/200 Mbit/s,
///   small (default: 2 ms at the rate) or large (256 KB) burst, cross traffic 0/30/60 % as
///   UDP CBR or one rate-limited TCP stream (both iperf3, A → B); the sink runs in B, the
///   prober's sockets are in A;
/// * **emu**: the in-process [LinkEmulator] at 20 Mbit/s with one-way delay 1/10/50/100 ms,
///   cross traffic 0/30/65 % CBR (virtual; 65 % is AdaptiveBenchmark's 13 Mbit/s base load).
///
/// For each scenario the prober runs with an adaptive flow's load (probegap every 1 ms) for
/// the measurement time, sampling its estimates every 20 ms: time to the first estimate (all
/// three values), time to converge (bottleneck within ±10 % of the truth from then on), and
/// the median / p95 of |error| over the second half. "burst KB" is the token-bucket burst
/// allowance B̂ the estimate reports, or "≥X" when no train was slowed by the path (the
/// bottleneck is then only a lower bound: goal G3's flag). For the 0 %-cross-traffic scenarios the
/// steady-tracking load is measured over 10 s (probe bytes as a share of the capacity), and
/// iperf3 (TCP) measures the link's throughput for comparison.
///
/// The RTT truth on the emulator is what the relay actually applied ([RelayDelays]): the
/// user-space relay adds its own lateness (tens of µs to ms on a loaded 2-core host) to the
/// configured delay, which the estimator rightly measures; the "relay+" column shows that
/// excess over the configured round trip.
///
/// Truth is at the IP level (decisions.md item 5): the shapers count Ethernet frames, so a
/// 1500-byte probe packet costs 1514 bytes: truth = rate × 1500 / 1514; available = truth ×
/// (1 − cross share). The emulator counts IP bytes (28-byte overhead per datagram).
///
/// Usage: `PathBenchmark [--quick] [--verbose] [--interim] [--methods auto,probegap,spruce] [--only emu|netns]
/// [--rates-mbit 2,200] [--bursts small,large] [--cross 0,30,60] [--json FILE] [--measure-ms N] [--steady-ms N]`
/// (`--interim`: the stand-in model and scheduler instead of the estimation package's;
/// `--methods`: run every scenario once per available-bandwidth method, side by side in the
/// same cross traffic — `probegap` is the stack without paced streams, `auto` the default;
/// `--only emu`: the emulator rows alone, the ones with an RTT truth).
public final class PathBenchmark {
    private static final long MBIT = 1_000_000L;

    record Scenario(String bed, String shaper, long rateBps, String burst, int crossPct, String crossKind,
                    long oneWayDelayMs) {
        String label() {
            return bed.equals("emu")
                    ? String.format(Locale.ROOT, "emu %3d Mbit/s owd %3d ms cross %2d%% %s", rateBps / MBIT,
                    oneWayDelayMs, crossPct, crossKind)
                    : String.format(Locale.ROOT, "%s %3d Mbit/s %-5s burst cross %2d%% %s", shaper, rateBps / MBIT, burst,
                    crossPct, crossKind);
        }
    }

    record Result(Scenario scenario, String method, long truthBottleneckBps, long truthAvailableBps, long bottleneckBps,
                  long availableBps, long rttUs, double bottleneckErrMedian, double bottleneckErrP95,
                  double availableErrMedian, double availableErrP95, long firstEstimateMs, long convergeMs,
                  double steadyProbeShare, long rttConfiguredUs, long rttTruthUs, long rttErrUs, long iperfBps,
                  long probeBytes, long burstBytes, long burstAtLeastBytes) {
    }

    private final boolean quick;
    /// `--verbose`: each kept paced stream's tail reading and Spruce's weight, per scenario.
    private static boolean verbose;
    /// `--rates-mbit`: only these namespace bottlenecks (Mbit/s), or `null` for the matrix's.
    private long[] netnsRatesMbit;
    /// `--bursts`: only these burst kinds, or `null` for the matrix's.
    private String[] burstKinds;
    /// `--cross`: only these cross-traffic shares (%), or `null` for the matrix's.
    private int[] crossPcts;
    private final long measureMs;
    private final long steadyMs;
    private final List<String> methods;
    private final String stackName;

    private PathBenchmark(boolean quick, long measureMs, long steadyMs, boolean interim, List<String> methods) {
        this.quick = quick;
        this.measureMs = measureMs;
        this.steadyMs = steadyMs;
        this.methods = interim ? List.of("interim") : methods;
        this.stackName = interim ? "InterimPathModel+InterimScheduler" : "PathEstimator+ProbePlanner";
    }

    private static Supplier<PathStack> stack(String method) {
        return switch (method) {
            case "interim" -> PathStack::interim;
            case "auto" -> PathStack::estimators;
            case "probegap" -> () -> PathStack.estimators(PathEstimator.AvailableMethod.PROBEGAP);
            case "spruce" -> () -> PathStack.estimators(PathEstimator.AvailableMethod.SPRUCE);
            default -> throw new IllegalArgumentException("unknown method " + method);
        };
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        boolean interim = false;
        Path json = null;
        long measureMs = 3000;
        long steadyMs = 10_000;
        String only = null;
        long[] ratesMbit = null;
        String[] bursts = null;
        int[] cross = null;
        List<String> methods = List.of("auto");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help" -> {
                    System.out.println("PathBenchmark [--quick] [--verbose] [--interim] [--methods auto,probegap,spruce]"
                            + " [--only emu|netns] [--rates-mbit 2,10,50,200] [--bursts small,large] [--cross 0,30,60]"
                            + " [--json FILE] [--measure-ms 3000] [--steady-ms 10000]");
                    return;
                }
                case "--quick" -> quick = true;
                case "--verbose" -> verbose = true;
                case "--methods" -> {
                    methods = List.of(args[++i].split(","));
                    methods.forEach(PathBenchmark::stack);
                }
                case "--bursts" -> bursts = args[++i].split(",");
                case "--cross" -> cross = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--interim" -> interim = true;
                case "--only" -> only = args[++i];
                case "--rates-mbit" -> ratesMbit = java.util.Arrays.stream(args[++i].split(","))
                        .mapToLong(Long::parseLong).toArray();
                case "--json" -> json = Path.of(args[++i]);
                case "--measure-ms" -> measureMs = Long.parseLong(args[++i]);
                case "--steady-ms" -> steadyMs = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        PathBenchmark bench = new PathBenchmark(quick, measureMs, steadyMs, interim, methods);
        bench.netnsRatesMbit = ratesMbit;
        bench.burstKinds = bursts;
        bench.crossPcts = cross;
        System.out.println("stack: " + bench.stackName);
        List<Result> results = new ArrayList<>();
        if (only != null && !only.equals("emu") && !only.equals("netns")) {
            throw new IllegalArgumentException("--only takes emu or netns, not " + only);
        }
        if (only == null || only.equals("emu")) {
            bench.runEmulator(results);
        }
        Availability avail = NetnsTestBed.availability();
        if (only != null && only.equals("emu")) {
            System.out.println("netns scenarios not run (--only emu)");
        } else if (avail.ok()) {
            bench.runNetns(results);
        } else {
            System.out.println("netns scenarios skipped: " + avail.reason());
        }
        printTable(results);
        String out = toJson(results, bench.stackName);
        if (json != null) {
            Files.writeString(json, out);
            System.out.println("JSON written to " + json);
        } else {
            System.out.println(out);
        }
    }

    // ------------------------------------------------------------------ emulator

    private void runEmulator(List<Result> results) throws Exception {
        long rate = 20 * MBIT;
        long[] delays = quick ? new long[] {1, 50} : new long[] {1, 10, 50, 100};
        InetAddress lo = InetAddress.getLoopbackAddress();
        for (long owd : delays) {
            for (int cross : crosses(quick ? new int[] {0} : new int[] {0, 30, 65})) {
                Scenario s = new Scenario("emu", "emu", rate, "-", cross, cross == 0 ? "none" : "cbr", owd);
                try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(lo).withPort(0));
                     LinkEmulator link = LinkEmulator.builder()
                             .target(new InetSocketAddress(lo, sink.port()))
                             .forward(LinkConfig.ofRateBps(rate).withDelayNs(owd * 1_000_000)
                                     .withQueueLimitBytes(Math.max(LinkConfig.DEFAULT_QUEUE_LIMIT_BYTES,
                                             rate / 8 * (owd + 20) / 1000))
                                     .withCrossTraffic(cross == 0 ? CrossTraffic.none()
                                             : CrossTraffic.cbr(rate * cross / 100)))
                             .reverse(LinkConfig.unshaped().withDelayNs(owd * 1_000_000))
                             .build()) {
                    ProberConfig config = ProberConfig.of(new InetSocketAddress(lo, sink.port()), true,
                            Platform.current()).withProbeTarget(link.ingressAddress()).withRouteCheck(false);
                    RelayDelays relay = new RelayDelays();
                    link.forward().setDeliveryListener(relay.forward);
                    link.reverse().setDeliveryListener(relay.reverse);
                    // the TCP control path skips the emulator; its delay does not matter here
                    for (String method : methods) {
                        results.add(measure(s, method, config, rate, rate * (100 - cross) / 100, relay, 2 * owd * 1000,
                                cross == 0 && owd == delays[0], -1));
                    }
                    link.forward().setDeliveryListener(null);
                    link.reverse().setDeliveryListener(null);
                }
            }
        }
    }

    /// The delay the emulator actually applied to each probegap probe and to its reflection
    /// (relay receive → forward, [io.quaver.testkit.EmulatedLink.DeliveryListener]): the
    /// configured one-way delay plus queueing and serialisation at the emulated bottleneck plus
    /// the relay's own lateness. Probe and reflection are paired by their [MS-QLPB] sequence
    /// number; the RTT truth of a scenario is the mean of the pairs' sums over the newest
    /// [#MEAN_SAMPLES] reflections (the RTT estimator's mean covers its newest samples, at most
    /// 128 within 1 s). What remains unmeasured is four loopback hops and the wake-ups of the
    /// relay's receive threads.
    static final class RelayDelays {
        static final int MEAN_SAMPLES = 128;
        private final java.util.Map<Long, Long> forwardNs = new java.util.HashMap<>();
        private final List<long[]> pairs = new ArrayList<>(); // {reflection sent ns, fwd + rev ns}
        // One flyweight per direction: each listener runs on its own link's sender thread, the
        // relay's hot path, so a datagram is only peeked at (no copy, no message record).
        private final ProbeView forwardView = new ProbeView();
        private final ProbeView reverseView = new ProbeView();
        final io.quaver.testkit.EmulatedLink.DeliveryListener forward = (a, t, p) -> {
            long seq = sequence(forwardView, p, QlpbCodec.ID_PROBEGAP);
            if (seq >= 0) {
                synchronized (this) {
                    forwardNs.put(seq, t - a);
                }
            }
        };
        final io.quaver.testkit.EmulatedLink.DeliveryListener reverse = (a, t, p) -> {
            long seq = sequence(reverseView, p, QlpbCodec.ID_PROBEGAP_REFLECTED);
            if (seq >= 0) {
                synchronized (this) {
                    Long f = forwardNs.remove(seq);
                    if (f != null) {
                        pairs.add(new long[] {t, f + (t - a)});
                    }
                }
            }
        };

        /// The probegap sequence number of a datagram of message `id`, or -1.
        private static long sequence(ProbeView view, byte[] payload, int id) {
            return view.decode(java.nio.ByteBuffer.wrap(payload)) && view.messageId() == id ? view.sequence() : -1;
        }

        /// Mean applied round trip of the newest [#MEAN_SAMPLES] pairs sent before `toNs`, µs
        /// (-1 without any).
        synchronized long rttUs(long toNs) {
            double sum = 0;
            int n = 0;
            for (int i = pairs.size() - 1; i >= 0 && n < MEAN_SAMPLES; i--) {
                long[] x = pairs.get(i);
                if (x[0] - toNs <= 0) {
                    sum += x[1];
                    n++;
                }
            }
            return n == 0 ? -1 : Math.round(sum / n / 1000);
        }
    }

    // ------------------------------------------------------------------ netns

    private void runNetns(List<Result> results) throws Exception {
        long[] rates = netnsRatesMbit != null ? java.util.Arrays.stream(netnsRatesMbit).map(r -> r * MBIT).toArray()
                : quick ? new long[] {10 * MBIT, 50 * MBIT} : new long[] {2 * MBIT, 10 * MBIT, 50 * MBIT, 200 * MBIT};
        String[] bursts = burstKinds != null ? burstKinds : quick ? new String[] {"small"} : new String[] {"small", "large"};
        for (String shaperKind : new String[] {"tbf", "htb"}) {
            for (long rate : rates) {
                for (String burst : bursts) {
                    if (shaperKind.equals("htb") && burst.equals("large")) {
                        continue;
                    }
                    Shaper shaper = shaperKind.equals("tbf")
                            ? (burst.equals("small") ? Shaper.tbf(rate) : Shaper.tbf(rate).withBurstBytes(256 * 1024))
                            : Shaper.htb(rate);
                    try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).bottleneck(Node.A, Node.B, shaper)
                            .build()) {
                        runOnBed(results, bed, shaperKind, rate, burst);
                    }
                }
            }
        }
    }

    private void runOnBed(List<Result> results, NetnsTestBed bed, String shaperKind, long rate, String burst)
            throws Exception {
        InetAddress b = bed.ipv4(Node.B);
        long truth = rate * 1500 / 1514;
        long iperf = iperfThroughput(bed, b);
        QosSink sink = bed.inNamespace(Node.B, () -> QosSink.start(SinkOptions.defaults().withBindAddress(b).withPort(0)));
        try (sink; NetNamespace nsA = namespaceOf(bed, Node.A);
             SpawnedProcess server = bed.spawn(Node.B, "iperf3", "-s", "-p", "5202")) {
            server.awaitOutput("listening", Duration.ofSeconds(3));
            int[] crosses = crosses(shaperKind.equals("htb") || quick ? new int[] {0, 30} : new int[] {0, 30, 60});
            for (int cross : crosses) {
                for (String kind : cross == 0 ? new String[] {"none"} : new String[] {"cbr", "tcp"}) {
                    Scenario s = new Scenario("netns", shaperKind, rate, burst, cross, kind, 0);
                    SpawnedProcess client = null;
                    try {
                        if (cross > 0) {
                            client = startCross(bed, b, rate, cross, kind);
                            Thread.sleep(700);
                        }
                        ProberConfig config = ProberConfig.of(new InetSocketAddress(b, sink.port()), true,
                                Platform.current()).withSockets(ProbeSockets.in(nsA)).withRouteCheck(false);
                        for (String method : methods) {
                            results.add(measure(s, method, config, truth, truth * (100 - cross) / 100, null, -1,
                                    cross == 0, cross == 0 ? iperf : -1));
                        }
                    } finally {
                        if (client != null) {
                            client.close();
                            Thread.sleep(300);
                        }
                    }
                }
            }
        }
    }

    /// The matrix's cross-traffic shares, or those of `--cross` among them.
    private int[] crosses(int[] matrix) {
        return crossPcts == null ? matrix
                : Arrays.stream(crossPcts).filter(c -> Arrays.stream(matrix).anyMatch(m -> m == c)).toArray();
    }

    /// Cross traffic A → B at `pct` % of the link, counted in Ethernet bytes.
    private static SpawnedProcess startCross(NetnsTestBed bed, InetAddress b, long rate, int pct, String kind)
            throws IOException {
        long l2 = rate * pct / 100;
        if (kind.equals("cbr")) {
            long payload = l2 * 1200 / 1242;
            return bed.spawn(Node.A, "iperf3", "-c", b.getHostAddress(), "-p", "5202", "-u", "-l", "1200", "-b",
                    Long.toString(payload), "-t", "120");
        }
        long payload = l2 * 1448 / 1514;
        return bed.spawn(Node.A, "iperf3", "-c", b.getHostAddress(), "-p", "5202", "-b", Long.toString(payload),
                "-t", "120");
    }

    private static final Pattern RECEIVED = Pattern.compile(
            "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)");

    /// iperf3's TCP goodput A → B over 2 s (bits/s of payload).
    private static long iperfThroughput(NetnsTestBed bed, InetAddress b) throws Exception {
        try (SpawnedProcess server = bed.spawn(Node.B, "iperf3", "-s", "-1", "-p", "5201")) {
            server.awaitOutput("listening", Duration.ofSeconds(3));
            ExecResult r = bed.exec(Node.A, Duration.ofSeconds(20), "iperf3", "-c", b.getHostAddress(), "-p", "5201",
                    "-t", "2", "-J");
            Matcher m = RECEIVED.matcher(r.stdout());
            return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
        }
    }

    /// The namespace of `node`, for [ProbeSockets#in(NetNamespace)] (close it with the bed).
    static NetNamespace namespaceOf(NetnsTestBed bed, Node node) throws IOException {
        return NetNamespace.open(java.nio.file.Path.of("/run/netns", bed.namespace(node)));
    }

    // ------------------------------------------------------------------ measurement

    /// @param relay               the emulator's applied delays (the RTT truth), or `null`
    /// @param rttConfiguredUs     the configured round trip (emulator), or -1
    private Result measure(Scenario s, String method, ProberConfig config, long truthBn, long truthAv,
                           RelayDelays relay, long rttConfiguredUs, boolean steady, long iperfBps) throws Exception {
        long rttTruthUs = -1;
        List<long[]> samples = new ArrayList<>(); // {tMs, bottleneck, available, rtt}
        long firstMs = -1;
        long t0 = System.nanoTime();
        double steadyShare = Double.NaN;
        PathEstimates last;
        long probeBytes;
        PathStack stack = stack(method).get();
        Trace trace = null;
        if (verbose && stack.model() instanceof EstimatorModel em) {
            trace = new Trace(em, t0);
            stack = new PathStack(trace, stack.scheduler());
        }
        try (ClientProber prober = ClientProber.start(config, stack.model(), stack.scheduler(), "bench")) {
            prober.setActive(true);
            long end = t0 + measureMs * 1_000_000;
            while (System.nanoTime() < end) {
                Thread.sleep(20);
                PathEstimates e = prober.estimates();
                long t = (System.nanoTime() - t0) / 1_000_000;
                samples.add(new long[] {t, e.bottleneckBps().orElse(-1), e.availableBps().orElse(-1),
                        e.rttUs().orElse(-1)});
            }
            firstMs = prober.firstEstimateAfterNs() < 0 ? -1 : prober.firstEstimateAfterNs() / 1_000_000;
            last = prober.estimates();
            if (relay != null) {
                rttTruthUs = relay.rttUs(System.nanoTime());
            }
            probeBytes = prober.probeBytesSent();
            if (steady && steadyMs > 0) {
                prober.setActive(false);
                Thread.sleep(500); // the fast phase after the last train ends
                long before = prober.probeBytesSent();
                long s0 = System.nanoTime();
                Thread.sleep(steadyMs);
                long bits = (prober.probeBytesSent() - before) * 8;
                double seconds = (System.nanoTime() - s0) / 1e9;
                long capacity = prober.estimates().bottleneckBps().orElse(truthBn);
                steadyShare = bits / seconds / capacity;
            }
        }
        long convergeMs = -1;
        for (int i = samples.size() - 1; i >= 0; i--) {
            long bn = samples.get(i)[1];
            if (bn < 0 || Math.abs(bn - truthBn) > truthBn / 10) {
                break;
            }
            convergeMs = samples.get(i)[0];
        }
        List<long[]> tail = samples.subList(samples.size() / 2, samples.size());
        double[] bnErr = tail.stream().filter(x -> x[1] >= 0).mapToDouble(x -> Math.abs(x[1] - truthBn) / (double) truthBn)
                .sorted().toArray();
        double[] avErr = tail.stream().filter(x -> x[2] >= 0)
                .mapToDouble(x -> Math.abs(x[2] - truthAv) / (double) Math.max(1, truthAv)).sorted().toArray();
        long rtt = last.rttUs().orElse(-1);
        Result r = new Result(s, method, truthBn, truthAv, last.bottleneckBps().orElse(-1), last.availableBps().orElse(-1), rtt,
                pct(bnErr, 0.5), pct(bnErr, 0.95), pct(avErr, 0.5), pct(avErr, 0.95), firstMs, convergeMs, steadyShare,
                rttConfiguredUs, rttTruthUs, rttTruthUs > 0 && rtt > 0 ? rtt - rttTruthUs : Long.MIN_VALUE, iperfBps,
                probeBytes, last.burstAllowanceBytes().orElse(-1), last.burstAtLeastBytes().orElse(-1));
        System.out.println(row(r));
        if (trace != null) {
            trace.lines.forEach(System.out::println);
            trace.delays();
        }
        if (last.availableBps().isPresent() && (trace != null ? trace.model : stack.model()) instanceof EstimatorModel em) {
            String by = em.snapshot(System.nanoTime()).available().map(a -> a.method().toString()).orElse("-");
            em.estimator().probegap().ifPresent(a -> System.out.printf(Locale.ROOT,
                    "    reported by %s; probegap %.2f Mbit/s, busy share %.1f%%, busy delay median %d us%n", by,
                    a.availableBps() / 1e6, 100 * a.utilisation(), a.busyDelayNs() / 1000));
            em.estimator().spruce().ifPresent(sp -> System.out.printf(Locale.ROOT,
                    "    spruce %.2f Mbit/s (err %.1f%%), %d streams, %d pairs, spread %.1f%% of C; streams fed %d%n",
                    sp.availableBps() / 1e6, 100.0 * Math.abs(sp.availableBps() - truthAv) / Math.max(1, truthAv),
                    sp.streams(), sp.pairs(), 100 * sp.spreadShare(), em.estimator().streamsSeen()));
            if (verbose) {
                long c = last.bottleneckBps().orElse(truthBn);
                em.estimator().spruce().ifPresent(sp -> System.out.printf(Locale.ROOT,
                        "    spruce error share %.3f%n", sp.errorShare()));
                for (var st : em.estimator().spruceStreams()) {
                    System.out.printf(Locale.ROOT,
                            "    stream knee %d pairs %d input %.2f Mbit/s slope %.4f (se %.4f) -> A %.2f Mbit/s%n",
                            st.kneeIndex(), st.pairs(), st.inputBps() / 1e6, st.slope(), st.slopeError(),
                            st.availableBps(c) / 1e6);
                }
            }
        }
        return r;
    }

    /// `--verbose`: the model with a log of the estimator's state every 100 ms and of each
    /// train and stream (taken under the prober's lock, where the model is called).
    static final class Trace implements io.quaver.internal.probe.PathModel {
        final EstimatorModel model;
        final List<String> lines = new ArrayList<>();
        final List<long[]> raw = new ArrayList<>();
        private final long t0;
        private long nextNs;

        Trace(EstimatorModel model, long t0) {
            this.model = model;
            this.t0 = t0;
        }

        @Override
        public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
            model.onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps);
            log(nowNs, "train " + (deltas100ns.length + 1) + " x " + probeIpBytes + " B");
        }

        @Override
        public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps, long[] sendNs) {
            model.onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps, sendNs);
            log(nowNs, "train " + (deltas100ns.length + 1) + " x " + probeIpBytes + " B");
        }

        @Override
        public void onStream(long nowNs, int probeIpBytes, long[] deltas100ns, long[] sendNs) {
            model.onStream(nowNs, probeIpBytes, deltas100ns, sendNs);
            List<io.quaver.internal.estimation.SpruceEstimator.Stream> st = model.estimator().spruceStreams();
            long c = model.estimator().bottleneck().map(b -> b.rateBps()).orElse(0L);
            String s = st.isEmpty() ? "unusable" : String.format(Locale.ROOT, "knee %d pairs %d R %.2f s %.4f se %.4f A %.2f",
                    st.getLast().kneeIndex(), st.getLast().pairs(), st.getLast().inputBps() / 1e6, st.getLast().slope(),
                    st.getLast().slopeError(), st.getLast().availableBps(c) / 1e6);
            log(nowNs, "stream " + (deltas100ns.length + 1) + " x " + probeIpBytes + " B: " + s);
            StringBuilder owd = new StringBuilder("        owd us (send offset us):");
            long recv = 0;
            for (int i = 0; i < sendNs.length; i++) {
                recv += i == 0 ? 0 : deltas100ns[i - 1] * 100;
                owd.append(String.format(Locale.ROOT, " %d(%d)", (recv - (sendNs[i] - sendNs[0])) / 1000,
                        (sendNs[i] - sendNs[0]) / 1000));
            }
            lines.add(owd.toString());
        }

        @Override
        public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                               int probeIpBytes) {
            model.onProbegap(sequence, sendNs, sinkRecv100ns, sinkSend100ns, recvNs, probeIpBytes);
            raw.add(new long[] {sendNs, sinkRecv100ns * 100 - sendNs, recvNs - sinkSend100ns * 100});
            if (recvNs - nextNs >= 0) {
                nextNs = recvNs + 100_000_000L;
                log(recvNs, "state");
            }
        }

        @Override
        public void onProbegapArrival(long sequence, long recvNs) {
            model.onProbegapArrival(sequence, recvNs);
        }

        @Override
        public PathEstimates estimates(long nowNs) {
            return model.estimates(nowNs);
        }

        /// Forward and reverse one-way delays above their floors over the newest 2 s of probes.
        void delays() {
            List<long[]> w = raw.subList(Math.max(0, raw.size() - 2000), raw.size());
            for (int k = 1; k <= 2; k++) {
                final int kk = k;
                long min = w.stream().mapToLong(x -> x[kk]).min().orElse(0);
                long[] ex = w.stream().mapToLong(x -> x[kk] - min).sorted().toArray();
                if (ex.length == 0) {
                    continue;
                }
                long over = Arrays.stream(ex).filter(x -> x > 150_000).count();
                System.out.printf(Locale.ROOT, "    %s excess us: p10 %d p50 %d p90 %d p99 %d; share > 150 us %.2f (n %d)%n",
                        k == 1 ? "forward" : "reverse", ex[ex.length / 10] / 1000, ex[ex.length / 2] / 1000,
                        ex[ex.length * 9 / 10] / 1000, ex[ex.length * 99 / 100] / 1000, over / (double) ex.length, ex.length);
            }
        }

        private void log(long nowNs, String what) {
            var e = model.estimator();
            var snap = e.snapshot(nowNs);
            String av = snap.available().map(a -> String.format(Locale.ROOT, "%.2f %s", a.availableBps() / 1e6,
                    a.method())).orElse("-");
            String pg = e.probegap().map(a -> String.format(Locale.ROOT, "%.2f busy %.1f%% delay %d us n %d",
                    a.availableBps() / 1e6, 100 * a.utilisation(), a.busyDelayNs() / 1000, a.samples())).orElse("-");
            String sp = e.spruce().map(a -> String.format(Locale.ROOT, "%.2f err %.3f n %d", a.availableBps() / 1e6,
                    a.errorShare(), a.streams())).orElse("-");
            String bn = e.bottleneck().map(b -> String.format(Locale.ROOT, "%.2f", b.rateBps() / 1e6)).orElse("-");
            lines.add(String.format(Locale.ROOT, "      %5d ms %-40s bn %s av %s | pg %s | spruce %s",
                    (nowNs - t0) / 1_000_000, what, bn, av, pg, sp));
        }
    }

    private static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    // ------------------------------------------------------------------ output

    private static final String HEADER = String.format(Locale.ROOT,
            "%-44s %-8s %9s %9s %9s %13s %13s %7s %8s %7s %8s %8s %8s %9s %8s",
            "scenario", "method", "bn Mb/s", "av Mb/s", "rtt us", "bn err med/95", "av err med/95", "1st ms", "conv ms",
            "steady", "rtt err", "relay+", "iperf", "truth bn", "burst KB");

    private static String row(Result r) {
        return String.format(Locale.ROOT, "%-44s %-8s %9.2f %9.2f %9d %6.1f/%5.1f%% %6.1f/%5.1f%% %7d %8d %7s %8s %8s %8s %9.2f %8s",
                r.scenario().label(), r.method(), r.bottleneckBps() / 1e6, r.availableBps() / 1e6, r.rttUs(),
                100 * r.bottleneckErrMedian(), 100 * r.bottleneckErrP95(), 100 * r.availableErrMedian(),
                100 * r.availableErrP95(), r.firstEstimateMs(), r.convergeMs(),
                Double.isNaN(r.steadyProbeShare()) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * r.steadyProbeShare()),
                r.rttErrUs() == Long.MIN_VALUE ? "-" : r.rttErrUs() + "us",
                r.rttTruthUs() > 0 && r.rttConfiguredUs() > 0 ? (r.rttTruthUs() - r.rttConfiguredUs()) + "us" : "-",
                r.iperfBps() < 0 ? "-" : String.format(Locale.ROOT, "%.2f", r.iperfBps() / 1e6),
                r.truthBottleneckBps() / 1e6,
                r.burstBytes() >= 0 ? Long.toString(r.burstBytes() / 1000)
                        : r.burstAtLeastBytes() >= 0 ? ">=" + r.burstAtLeastBytes() / 1000 : "-");
    }

    private static void printTable(List<Result> results) {
        System.out.println();
        System.out.println(HEADER);
        for (Result r : results) {
            System.out.println(row(r));
        }
        double[] bn = results.stream().mapToDouble(Result::bottleneckErrMedian).filter(d -> !Double.isNaN(d)).sorted()
                .toArray();
        double[] av = results.stream().mapToDouble(Result::availableErrMedian).filter(d -> !Double.isNaN(d)).sorted()
                .toArray();
        double[] first = results.stream().mapToDouble(Result::firstEstimateMs).filter(d -> d >= 0).sorted().toArray();
        System.out.printf(Locale.ROOT, "%nover all scenarios: bottleneck |err| median %.1f%% p95 %.1f%%; available |err|"
                        + " median %.1f%% p95 %.1f%%; first estimate median %.0f ms p95 %.0f ms%n",
                100 * pct(bn, 0.5), 100 * pct(bn, 0.95), 100 * pct(av, 0.5), 100 * pct(av, 0.95), pct(first, 0.5),
                pct(first, 0.95));
    }

    private static String toJson(List<Result> results, String stack) {
        StringBuilder sb = new StringBuilder("{\"stack\":\"" + stack + "\",\"scenarios\":[");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            Scenario s = r.scenario();
            if (i > 0) {
                sb.append(',');
            }
            sb.append(String.format(Locale.ROOT, "{\"method\":\"%s\",\"bed\":\"%s\",\"shaper\":\"%s\",\"rateBps\":%d,\"burst\":\"%s\","
                            + "\"crossPct\":%d,\"crossKind\":\"%s\",\"oneWayDelayMs\":%d,\"truthBottleneckBps\":%d,"
                            + "\"truthAvailableBps\":%d,\"bottleneckBps\":%d,\"availableBps\":%d,\"rttUs\":%d,"
                            + "\"bottleneckErrMedian\":%s,\"bottleneckErrP95\":%s,\"availableErrMedian\":%s,"
                            + "\"availableErrP95\":%s,\"firstEstimateMs\":%d,\"convergeMs\":%d,\"steadyProbeShare\":%s,"
                            + "\"rttConfiguredUs\":%d,\"rttTruthUs\":%d,\"rttErrUs\":%s,\"iperfBps\":%d,\"probeBytes\":%d,"
                            + "\"burstBytes\":%d,\"burstAtLeastBytes\":%d}",
                    r.method(), s.bed(), s.shaper(), s.rateBps(), s.burst(), s.crossPct(), s.crossKind(), s.oneWayDelayMs(),
                    r.truthBottleneckBps(), r.truthAvailableBps(), r.bottleneckBps(), r.availableBps(), r.rttUs(),
                    num(r.bottleneckErrMedian()), num(r.bottleneckErrP95()), num(r.availableErrMedian()),
                    num(r.availableErrP95()), r.firstEstimateMs(), r.convergeMs(), num(r.steadyProbeShare()),
                    r.rttConfiguredUs(), r.rttTruthUs(), r.rttErrUs() == Long.MIN_VALUE ? "null" : Long.toString(r.rttErrUs()), r.iperfBps(),
                    r.probeBytes(), r.burstBytes(), r.burstAtLeastBytes()));
        }
        return sb.append("]}").toString();
    }

    private static String num(double d) {
        return Double.isNaN(d) ? "null" : String.format(Locale.ROOT, "%.4f", d);
    }

    static String joined(long[] values) {
        return Arrays.toString(values);
    }
}
