package io.quaver.benchmarks;

import io.quaver.SinkOptions;
import io.quaver.internal.platform.Platform;
import io.quaver.internal.probe.ClientProber;
import io.quaver.internal.probe.PathEstimates;
import io.quaver.internal.probe.PathStack;
import io.quaver.internal.probe.ProbeObserver;
import io.quaver.internal.probe.ProberConfig;
import io.quaver.internal.qlpb.SinkEngine;
import io.quaver.testkit.LinkConfig;
import io.quaver.testkit.LinkEmulator;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;

/// The RTT of individual probegap samples (goal G16), to see what the timestamps alone
/// contribute: the prober runs with an adaptive flow's load (a probegap probe every 1 ms) on a
/// path without a bottleneck, so no sample should queue, and every sample's RTT
/// `(recv − send) − (sinkSend − sinkRecv)` is compared with the truth.
///
/// * **netns**: the sink in namespace B, the prober in A, over the veth without a shaper
///   (truth: the kernel's own round trip, tens of µs; the error is taken against 0);
/// * **emu**: the in-process emulator without a rate limit, one-way delay `--owd-ms` (default
///   10) each way (truth 2 × delay; the emulator's relay thread is one more user-space hop,
///   whose lateness is real delay that the timestamps cannot remove).
///
/// Prints per scenario the samples' RTT error p50 / p95 / p99 / max, the share over
/// 100 µs and 1 ms, the estimator's RTT (mean) and minimum error at the end, whether kernel
/// receive timestamps were in use (prober / sink) and the probegap sends dropped as stalled.
///
/// Usage: `ProbeRttBenchmark [--seconds 30] [--owd-ms 10] [--only emu|netns] [--json FILE]`.
public final class ProbeRttBenchmark {

    record Result(String scenario, long truthUs, int samples, double p50Us, double p95Us, double p99Us, double maxUs,
                  double over100UsShare, double over1MsShare, long estimateRttErrUs, long estimateMinRttErrUs,
                  String kernelStamps, long stalledSends) {
    }

    public static void main(String[] args) throws Exception {
        long seconds = 30;
        long owdMs = 10;
        String only = null;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Long.parseLong(args[++i]);
                case "--owd-ms" -> owdMs = Long.parseLong(args[++i]);
                case "--only" -> only = args[++i];
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("usage: ProbeRttBenchmark [--seconds S] [--owd-ms D]"
                        + " [--only emu|netns] [--json FILE]; unknown argument " + args[i]);
            }
        }
        List<Result> results = new ArrayList<>();
        if (only == null || only.equals("emu")) {
            results.add(emulator(seconds, owdMs));
        }
        if (only == null || only.equals("netns")) {
            if (NetnsTestBed.availability().ok()) {
                results.add(netns(seconds));
            } else {
                System.out.println("netns skipped: " + NetnsTestBed.availability().reason());
            }
        }
        System.out.println();
        System.out.println(header());
        results.forEach(r -> System.out.println(row(r)));
        System.out.println("load average at the end (/proc/loadavg): " + Files.readString(Path.of("/proc/loadavg")).strip());
        String out = toJson(results);
        if (json != null) {
            Files.writeString(json, out);
            System.out.println("JSON written to " + json);
        } else {
            System.out.println(out);
        }
    }

    private static Result emulator(long seconds, long owdMs) throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (SinkEngine sink = SinkEngine.start(SinkOptions.defaults().withBindAddress(lo).withPort(0));
             LinkEmulator link = LinkEmulator.builder()
                     .target(new InetSocketAddress(lo, sink.port()))
                     .forward(LinkConfig.unshaped().withDelayNs(owdMs * 1_000_000))
                     .reverse(LinkConfig.unshaped().withDelayNs(owdMs * 1_000_000))
                     .build()) {
            ProberConfig config = ProberConfig.of(new InetSocketAddress(lo, sink.port()), true, Platform.current())
                    .withProbeTarget(link.ingressAddress()).withRouteCheck(false);
            return measure(String.format(Locale.ROOT, "emu unshaped owd %d ms", owdMs), config, 2 * owdMs * 1000,
                    seconds, sink);
        }
    }

    private static Result netns(long seconds) throws Exception {
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            InetAddress b = bed.ipv4(Node.B);
            SinkEngine sink = bed.inNamespace(Node.B,
                    () -> SinkEngine.start(SinkOptions.defaults().withBindAddress(b).withPort(0)));
            try (sink; var nsA = PathBenchmark.namespaceOf(bed, Node.A)) {
                ProberConfig config = ProberConfig.of(new InetSocketAddress(b, sink.port()), true, Platform.current())
                        .withSockets(io.quaver.internal.probe.ProbeSockets.in(nsA)).withRouteCheck(false);
                return measure("netns veth, no shaper", config, 0, seconds, sink);
            }
        }
    }

    private static Result measure(String scenario, ProberConfig config, long truthUs, long seconds, SinkEngine sink)
            throws Exception {
        ConcurrentLinkedQueue<Long> rttNs = new ConcurrentLinkedQueue<>();
        PathStack stack = PathStack.estimators();
        PathEstimates last;
        String kernel;
        long stalled;
        try (ClientProber prober = ClientProber.start(config, stack.model(), stack.scheduler(), "rtt-bench")) {
            prober.setObserver(new ProbeObserver() {
                @Override
                public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns,
                                       long recvNs) {
                    rttNs.add((recvNs - sendNs) - (sinkSend100ns - sinkRecv100ns) * 100);
                }
            });
            prober.setActive(true);
            Thread.sleep(1000); // the fast first measurement's trains; its samples are kept out
            rttNs.clear();
            Thread.sleep(seconds * 1000);
            last = prober.estimates();
            kernel = flag(prober, "kernelReceiveTimestamps") + " / " + flag(sink, "kernelReceiveTimestamps");
            stalled = counter(prober, "stalledProbegaps");
        }
        double[] errUs = rttNs.stream().mapToDouble(r -> (r - truthUs * 1000) / 1000.0).sorted().toArray();
        double[] abs = Arrays.stream(errUs).map(Math::abs).sorted().toArray();
        long over100 = Arrays.stream(abs).filter(e -> e > 100).count();
        long over1ms = Arrays.stream(abs).filter(e -> e > 1000).count();
        long rtt = last.rttUs().orElse(Long.MIN_VALUE);
        long minRtt = last.minRttUs().orElse(Long.MIN_VALUE);
        Result r = new Result(scenario, truthUs, errUs.length, pct(errUs, 0.5), pct(errUs, 0.95), pct(errUs, 0.99),
                errUs.length == 0 ? Double.NaN : errUs[errUs.length - 1],
                errUs.length == 0 ? Double.NaN : over100 / (double) errUs.length,
                errUs.length == 0 ? Double.NaN : over1ms / (double) errUs.length,
                rtt == Long.MIN_VALUE ? Long.MIN_VALUE : rtt - truthUs,
                minRtt == Long.MIN_VALUE ? Long.MIN_VALUE : minRtt - truthUs, kernel, stalled);
        System.out.println(row(r));
        return r;
    }

    /// A boolean accessor that older builds lack ("n/a" then), so that one program measures
    /// before and after a change.
    private static String flag(Object target, String method) {
        try {
            return String.valueOf(target.getClass().getMethod(method).invoke(target));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "n/a";
        }
    }

    private static long counter(Object target, String method) {
        try {
            return (long) target.getClass().getMethod(method).invoke(target);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    private static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, Math.max(0, (int) Math.ceil(q * sorted.length) - 1))];
    }

    private static String header() {
        return String.format(Locale.ROOT, "%-26s %8s %8s %9s %9s %9s %10s %7s %7s %10s %10s %-14s %8s", "scenario",
                "truth us", "samples", "err p50", "err p95", "err p99", "err max", ">100us", ">1ms", "est rtt",
                "est min", "kernel p/s", "stalled");
    }

    private static String row(Result r) {
        return String.format(Locale.ROOT, "%-26s %8d %8d %9.0f %9.0f %9.0f %10.0f %6.2f%% %6.2f%% %10s %10s %-14s %8d",
                r.scenario(), r.truthUs(), r.samples(), r.p50Us(), r.p95Us(), r.p99Us(), r.maxUs(),
                100 * r.over100UsShare(), 100 * r.over1MsShare(), us(r.estimateRttErrUs()), us(r.estimateMinRttErrUs()),
                r.kernelStamps(), r.stalledSends());
    }

    private static String us(long v) {
        return v == Long.MIN_VALUE ? "-" : v + "us";
    }

    private static String toJson(List<Result> results) {
        StringBuilder sb = new StringBuilder("{\n  \"benchmark\": \"ProbeRttBenchmark\",\n  \"results\": [\n");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            sb.append(String.format(Locale.ROOT, "    {\"scenario\": \"%s\", \"truthUs\": %d, \"samples\": %d, "
                            + "\"errP50Us\": %.1f, \"errP95Us\": %.1f, \"errP99Us\": %.1f, \"errMaxUs\": %.1f, "
                            + "\"over100UsShare\": %.5f, \"over1MsShare\": %.5f, \"estimateRttErrUs\": %s, "
                            + "\"estimateMinRttErrUs\": %s, \"kernelStamps\": \"%s\", \"stalledSends\": %d}%s\n",
                    r.scenario(), r.truthUs(), r.samples(), r.p50Us(), r.p95Us(), r.p99Us(), r.maxUs(),
                    r.over100UsShare(), r.over1MsShare(), jsonLong(r.estimateRttErrUs()),
                    jsonLong(r.estimateMinRttErrUs()), r.kernelStamps(), r.stalledSends(),
                    i + 1 < results.size() ? "," : ""));
        }
        return sb.append("  ]\n}\n").toString();
    }

    private static String jsonLong(long v) {
        return v == Long.MIN_VALUE ? "null" : Long.toString(v);
    }
}
