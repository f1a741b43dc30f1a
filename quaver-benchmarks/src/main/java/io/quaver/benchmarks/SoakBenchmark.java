package io.quaver.benchmarks;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosException;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSink;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.SinkOptions;
import io.quaver.SinkStats;
import io.quaver.TrafficType;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/// The soak program (issue 7; not run in CI): 1,000 flows and 100 tracked clients on
/// loopback for a long time, with churn, sampling memory, CPU, threads and descriptors, and
/// asserting at the end that nothing grew without bound.
///
/// Set-up: 100 [QosSink]s on 127.0.0.11 … 127.0.0.110 (one port for all), two handles
/// (`A` long-lived, `B` closed and re-opened every `--handle-churn-s`), 100 tracked clients
/// (50 per handle), 1,000 flows (5 % adaptive, 20 % with a shaped outgoing rate) whose
/// destinations are the clients (a drain socket absorbs their traffic).
///
/// Every second: 2 % of the flows are closed and re-created, 2 clients stopped and tracked
/// again, 100 datagrams sent through random flows, fundamentals queried on adaptive flows.
///
/// Every `--sample-s` seconds (default 30): heap used after a full GC, RSS, process CPU (%
/// of one core since the last sample), live platform threads, open descriptors, flows and
/// tracked clients. At the end the second quarter of the run (after warm-up) is compared
/// with the last quarter; growth beyond the tolerances fails the program (exit 1).
///
/// Usage: `SoakBenchmark [--duration 1h|30m|600s] [--sample-s N] [--flows N] [--clients N]
/// [--json FILE]` (default 1 h, JSON to `target/soak-benchmark.json`).
public final class SoakBenchmark {
    private static final int FIRST_HOST = 11;

    private SoakBenchmark() {
    }

    record Sample(double tS, double heapAfterGcMb, double rssMb, double cpuPct, int threads, int fds, int flows,
                  int tracked, long churnOps, long errors) {
    }

    public static void main(String[] args) throws Exception {
        Duration duration = Duration.ofHours(1);
        int sampleS = 30;
        int flowCount = 1_000;
        int clientCount = 100;
        int handleChurnS = 120;
        Path json = Path.of("target", "soak-benchmark.json");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--duration" -> duration = parseDuration(args[++i]);
                case "--sample-s" -> sampleS = Integer.parseInt(args[++i]);
                case "--flows" -> flowCount = Integer.parseInt(args[++i]);
                case "--clients" -> clientCount = Integer.parseInt(args[++i]);
                case "--handle-churn-s" -> handleChurnS = Integer.parseInt(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: SoakBenchmark [--duration 1h|30m|600s] [--sample-s N] [--flows N]"
                            + " [--clients N] [--handle-churn-s N] [--json FILE]");
                    System.exit(2);
                }
            }
        }
        if (clientCount < 2 || clientCount > 200 || flowCount < 1 || sampleS < 1) {
            System.err.println("need 2..200 clients, >= 1 flow, a sample period >= 1 s");
            System.exit(2);
        }
        Soak soak = new Soak(flowCount, clientCount);
        List<Sample> samples;
        try {
            soak.setUp();
            samples = soak.run(duration, sampleS, handleChurnS);
        } finally {
            soak.tearDown();
        }
        boolean ok = report(samples, soak, duration, json);
        System.exit(ok ? 0 : 1);
    }

    static Duration parseDuration(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.startsWith("p")) {
            return Duration.parse(v.toUpperCase(Locale.ROOT));
        }
        long n = Long.parseLong(v.replaceAll("[a-z]+$", ""));
        return switch (v.replaceAll("^[0-9]+", "")) {
            case "h" -> Duration.ofHours(n);
            case "m", "min" -> Duration.ofMinutes(n);
            case "s", "" -> Duration.ofSeconds(n);
            default -> throw new IllegalArgumentException("duration like 1h, 30m or 600s: " + s);
        };
    }

    /// The system under soak and its churn.
    static final class Soak {
        final int flowCount;
        final int clientCount;
        final List<QosSink> sinks = new ArrayList<>();
        final SplittableRandom random = new SplittableRandom(20261124L);
        final QosFlow[] flows;
        final DatagramChannel[] channels;
        QosSubsystem a;
        QosSubsystem b;
        QosOptions options;
        DatagramChannel drain;
        Thread drainThread;
        int drainPort;
        int sinkPort;
        long churnOps;
        long errors;
        /// Failed calls by operation and error ("track: HOST_UNREACHABLE (1232)").
        final java.util.TreeMap<String, Long> errorKinds = new java.util.TreeMap<>();

        void failed(String operation, Exception e) {
            errors++;
            String kind = e instanceof QosException q ? q.error() + " (" + q.error().code() + ")"
                    : e.getClass().getSimpleName();
            errorKinds.merge(operation + ": " + kind, 1L, Long::sum);
        }

        Soak(int flowCount, int clientCount) {
            this.flowCount = flowCount;
            this.clientCount = clientCount;
            this.flows = new QosFlow[flowCount];
            this.channels = new DatagramChannel[flowCount];
        }

        InetAddress client(int i) throws IOException {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (FIRST_HOST + i)});
        }

        void setUp() throws Exception {
            for (int attempt = 0; sinks.size() < clientCount; attempt++) {
                closeSinks();
                QosSink first = QosSink.start(SinkOptions.defaults().withBindAddress(client(0)).withPort(0));
                sinks.add(first);
                sinkPort = first.port();
                try {
                    for (int i = 1; i < clientCount; i++) {
                        sinks.add(QosSink.start(SinkOptions.defaults().withBindAddress(client(i)).withPort(sinkPort)));
                    }
                } catch (QosException e) {
                    if (attempt > 5) {
                        throw e;
                    }
                }
            }
            drain = DatagramChannel.open().bind(new InetSocketAddress(0));
            drainPort = ((InetSocketAddress) drain.getLocalAddress()).getPort();
            drainThread = Thread.ofPlatform().name("soak-drain").daemon(true).start(() -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
                while (drain.isOpen()) {
                    try {
                        buf.clear();
                        drain.receive(buf);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            options = QosOptions.defaults().withPrivileged(false).withSinkPort(sinkPort)
                    .withTrackingGracePeriod(Duration.ZERO);
            a = QosSubsystem.open(options);
            b = QosSubsystem.open(options);
            for (int i = 0; i < clientCount; i++) {
                track(i);
            }
            for (int i = 0; i < flowCount; i++) {
                addFlow(i);
            }
        }

        QosSubsystem handleOf(int client) {
            return client % 2 == 0 ? a : b;
        }

        void track(int client) {
            try {
                handleOf(client).startTrackingClient(new InetSocketAddress(client(client), sinkPort));
            } catch (QosException | IOException e) {
                failed("track", e);
            }
        }

        void untrack(int client) {
            try {
                handleOf(client).stopTrackingClient(new InetSocketAddress(client(client), sinkPort));
            } catch (QosException | IOException e) {
                failed("untrack", e);
            }
        }

        void addFlow(int i) throws IOException {
            DatagramChannel ch = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            InetSocketAddress dst = new InetSocketAddress(client(i % clientCount), drainPort);
            boolean adaptive = i % 20 == 0;
            try {
                QosFlow f = a.addFlow(ch, dst, i % 3 == 0 ? TrafficType.AUDIO_VIDEO : TrafficType.BEST_EFFORT,
                        adaptive ? FlowMode.ADAPTIVE : FlowMode.NON_ADAPTIVE);
                if (!adaptive && i % 5 == 1) {
                    f.setOutgoingRate(OutgoingRate.of(20_000_000L + 10_000L * i, Shaping.SHAPE_ONLY));
                }
                flows[i] = f;
                channels[i] = ch;
            } catch (QosException e) {
                failed("addFlow", e);
                ch.close();
            }
        }

        void removeFlow(int i) throws IOException {
            if (flows[i] != null) {
                flows[i].close();
                flows[i] = null;
            }
            if (channels[i] != null) {
                channels[i].close();
                channels[i] = null;
            }
        }

        void churnSecond() throws IOException {
            for (int k = 0; k < Math.max(1, flowCount / 50); k++) {
                int i = random.nextInt(flowCount);
                removeFlow(i);
                addFlow(i);
                churnOps += 2;
            }
            for (int k = 0; k < 2; k++) {
                int c = random.nextInt(clientCount);
                untrack(c);
                track(c);
                churnOps += 2;
            }
            ByteBuffer payload = ByteBuffer.allocate(200);
            for (int k = 0; k < 100; k++) {
                int i = random.nextInt(flowCount);
                if (flows[i] != null) {
                    try {
                        flows[i].send(channels[i], payload.clear(), null);
                    } catch (QosException e) {
                        failed("send", e);
                    }
                }
            }
            for (int i = 0; i < flowCount; i += 20) {
                if (flows[i] != null) {
                    try {
                        flows[i].fundamentals(false);
                    } catch (QosException e) {
                        // 232 before the first sample is expected
                    }
                }
            }
        }

        void churnHandle() {
            b.close();
            b = QosSubsystem.open(options);
            for (int c = 1; c < clientCount; c += 2) {
                track(c);
            }
            churnOps++;
        }

        List<Sample> run(Duration duration, int sampleS, int handleChurnS) throws Exception {
            List<Sample> samples = new ArrayList<>();
            long t0 = System.nanoTime();
            long end = t0 + duration.toNanos();
            long nextSample = t0;
            long nextHandleChurn = t0 + handleChurnS * 1_000_000_000L;
            long lastCpu = cpuNs();
            long lastWall = t0;
            printHeader();
            while (true) {
                long now = System.nanoTime();
                if (now - nextSample >= 0) {
                    long cpu = cpuNs();
                    double cpuPct = now == lastWall ? 0 : 100.0 * (cpu - lastCpu) / (now - lastWall);
                    lastCpu = cpu;
                    lastWall = now;
                    Sample s = sample((now - t0) / 1e9, cpuPct);
                    samples.add(s);
                    printRow(s);
                    nextSample += sampleS * 1_000_000_000L;
                }
                if (now - end >= 0) {
                    break;
                }
                if (now - nextHandleChurn >= 0) {
                    churnHandle();
                    nextHandleChurn += handleChurnS * 1_000_000_000L;
                }
                long tick = System.nanoTime();
                churnSecond();
                long left = 1_000_000_000L - (System.nanoTime() - tick);
                if (left > 0) {
                    Thread.sleep(Duration.ofNanos(Math.min(left, Math.max(1, end - System.nanoTime()))));
                }
            }
            return samples;
        }

        Sample sample(double tS, double cpuPct) {
            MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
            System.gc();
            double heapMb = mem.getHeapMemoryUsage().getUsed() / 1048576.0;
            int live = 0;
            for (QosFlow f : flows) {
                if (f != null && f.isLive()) {
                    live++;
                }
            }
            return new Sample(tS, heapMb, rssMb(), cpuPct, ManagementFactory.getThreadMXBean().getThreadCount(),
                    fdCount(), live, trackedCount(), churnOps, errors);
        }

        /// Control connections open on all sinks now.
        int trackedCount() {
            int n = 0;
            for (QosSink s : sinks) {
                n += s.stats().sessionsActive();
            }
            return n;
        }

        void closeSinks() {
            for (QosSink s : sinks) {
                s.close();
            }
            sinks.clear();
        }

        void tearDown() throws IOException {
            for (int i = 0; i < flowCount; i++) {
                removeFlow(i);
            }
            if (a != null) {
                a.close();
            }
            if (b != null) {
                b.close();
            }
            if (drain != null) {
                drain.close();
            }
            closeSinks();
        }
    }

    static long cpuNs() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : 0;
    }

    static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    static int fdCount() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            return -1;
        }
    }

    static void printHeader() {
        System.out.printf(Locale.ROOT, "%8s %12s %9s %7s %8s %6s %6s %8s %9s %7s%n", "t s", "heap/GC MB", "RSS MB",
                "CPU %", "threads", "fds", "flows", "sessions", "churn", "errors");
    }

    static void printRow(Sample s) {
        System.out.printf(Locale.ROOT, "%8.0f %12.1f %9.1f %7.1f %8d %6d %6d %8d %9d %7d%n", s.tS(), s.heapAfterGcMb(),
                s.rssMb(), s.cpuPct(), s.threads(), s.fds(), s.flows(), s.tracked(), s.churnOps(), s.errors());
    }

    /// Growth verdicts: means of the second quarter against the last quarter.
    record Verdict(String metric, double early, double late, double allowed, boolean ok) {
    }

    static List<Verdict> verdicts(List<Sample> samples) {
        int n = samples.size();
        List<Sample> early = samples.subList(n / 4, Math.max(n / 4 + 1, n / 2));
        List<Sample> late = samples.subList(Math.min(n - 1, 3 * n / 4), n);
        List<Verdict> out = new ArrayList<>();
        out.add(verdict("heap after GC MB", early, late, Sample::heapAfterGcMb, 0.25, 16));
        out.add(verdict("RSS MB", early, late, Sample::rssMb, 0.25, 64));
        out.add(verdict("platform threads", early, late, s -> s.threads(), 0.10, 8));
        out.add(verdict("open fds", early, late, s -> s.fds(), 0.05, 16));
        return out;
    }

    private static Verdict verdict(String name, List<Sample> early, List<Sample> late,
                                   java.util.function.ToDoubleFunction<Sample> f, double relative, double absolute) {
        double e = early.stream().mapToDouble(f).average().orElse(0);
        double l = late.stream().mapToDouble(f).average().orElse(0);
        double allowed = e + Math.max(e * relative, absolute);
        return new Verdict(name, e, l, allowed, l <= allowed);
    }

    static boolean report(List<Sample> samples, Soak soak, Duration duration, Path json) throws IOException {
        if (samples.size() < 4) {
            System.out.println("too few samples for a verdict (run longer or sample more often)");
            return false;
        }
        List<Verdict> verdicts = verdicts(samples);
        System.out.printf(Locale.ROOT, "%nGrowth (mean of the 2nd quarter vs the last quarter)%n%-18s %10s %10s %10s %s%n",
                "metric", "early", "late", "allowed", "verdict");
        boolean ok = true;
        for (Verdict v : verdicts) {
            System.out.printf(Locale.ROOT, "%-18s %10.1f %10.1f %10.1f %s%n", v.metric(), v.early(), v.late(),
                    v.allowed(), v.ok() ? "ok" : "GREW");
            ok &= v.ok();
        }
        long sinkSessions = 0;
        long sinkDrops = 0;
        for (QosSink s : soak.sinks) {
            SinkStats st = s.stats();
            sinkSessions += st.sessionsAccepted();
            sinkDrops += st.droppedMessages();
        }
        double cpuMean = samples.stream().skip(1).mapToDouble(Sample::cpuPct).average().orElse(0);
        System.out.printf(Locale.ROOT, "mean CPU %.1f %% of one core; %d churn operations, %d errors; %s%n", cpuMean,
                soak.churnOps, soak.errors, ok ? "PASS: nothing grew without bound" : "FAIL: growth");
        soak.errorKinds.forEach((kind, n) -> System.out.printf(Locale.ROOT, "  %d × %s%n", n, kind));
        StringBuilder js = new StringBuilder();
        js.append(String.format(Locale.ROOT, "{\n  \"benchmark\": \"soak\",\n  \"durationS\": %d,\n  \"flows\": %d,"
                        + "\n  \"trackedClients\": %d,\n  \"churnOps\": %d,\n  \"errors\": %d,\n  \"meanCpuPct\": %.2f,"
                        + "\n  \"errorKinds\": {%s},\n  \"sinkSessions\": %d,\n  \"sinkDroppedMessages\": %d,\n  \"pass\": %b,\n  \"samples\": [\n",
                duration.toSeconds(), soak.flowCount, soak.clientCount, soak.churnOps, soak.errors, cpuMean,
                soak.errorKinds.entrySet().stream().map(e -> "\"" + e.getKey() + "\": " + e.getValue())
                        .collect(java.util.stream.Collectors.joining(", ")),
                sinkSessions, sinkDrops, ok));
        for (int i = 0; i < samples.size(); i++) {
            Sample s = samples.get(i);
            js.append(String.format(Locale.ROOT, "    {\"tS\": %.1f, \"heapAfterGcMb\": %.2f, \"rssMb\": %.1f,"
                            + " \"cpuPct\": %.2f, \"threads\": %d, \"fds\": %d, \"flows\": %d}%s%n", s.tS(),
                    s.heapAfterGcMb(), s.rssMb(), s.cpuPct(), s.threads(), s.fds(), s.flows(),
                    i + 1 < samples.size() ? "," : ""));
        }
        js.append("  ],\n  \"verdicts\": [\n");
        for (int i = 0; i < verdicts.size(); i++) {
            Verdict v = verdicts.get(i);
            js.append(String.format(Locale.ROOT, "    {\"metric\": \"%s\", \"early\": %.2f, \"late\": %.2f,"
                    + " \"allowed\": %.2f, \"ok\": %b}%s%n", v.metric(), v.early(), v.late(), v.allowed(), v.ok(),
                    i + 1 < verdicts.size() ? "," : ""));
        }
        js.append("  ]\n}\n");
        if (json.getParent() != null) {
            Files.createDirectories(json.getParent());
        }
        Files.writeString(json, js);
        System.out.println("JSON written to " + json.toAbsolutePath());
        return ok;
    }
}
