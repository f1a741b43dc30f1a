package io.quaver.benchmarks;

import com.google.common.util.concurrent.RateLimiter;
import io.github.bucket4j.Bucket;
import io.quaver.Enforcement;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.internal.Engine;
import io.quaver.internal.shaping.PacingPolicy;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import io.quaver.testkit.Shaper;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/// The shaping benchmark (issue 4): Quaver's send-path pacer, Quaver's kernel-class shaping,
/// Guava `RateLimiter` and Bucket4j used as pacers, and a plain `tbf` qdisc, side by side on the
/// same `DatagramChannel` (namespace A) to a receiver that timestamps arrivals (namespace B), at
/// 64 kbit/s, 1, 10, 100 Mbit/s and 1 Gbit/s with 200- and 1200-byte datagrams; then 1,000
/// shaped flows at once (goal G14). Prints a table and writes JSON.
///
/// ```
/// java -cp … io.quaver.benchmarks.ShapingBenchmark [--seconds S] [--out FILE] [--rates 64000,1000000,…]
/// ```
///
/// Needs root (network namespaces, tc); see [NetnsTestBed#availability()].
public final class ShapingBenchmark {
    enum Strategy { QUAVER_SEND_PATH, QUAVER_KERNEL_CLASS, GUAVA, BUCKET4J, TBF }

    record Row(Strategy strategy, long rateBps, int payloadBytes, Metrics.Result m, double lateP50Us, double lateP99Us,
               double cpuPctOfCore, String note) {
    }

    private static final int PORT = 5004;
    private static final int SCALE_PORT = 5005;

    private final NetnsTestBed bed;
    private final DatagramChannel tx;
    private final Arrivals rx;
    private final QosSubsystem sendPathQos;
    private final QosSubsystem kernelQos;
    private final double seconds;
    private int runId;

    private ShapingBenchmark(NetnsTestBed bed, double seconds) throws Exception {
        this.bed = bed;
        this.seconds = seconds;
        InetSocketAddress bAddr = new InetSocketAddress(bed.ipv4(Node.B), PORT);
        DatagramChannel rxCh = bed.inNamespace(Node.B, () -> {
            DatagramChannel ch = DatagramChannel.open();
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 32 << 20);
            return ch.bind(bAddr);
        });
        this.rx = new Arrivals(rxCh, PacingPolicy.UDP_IPV4_HEADER_BYTES);
        this.tx = bed.inNamespace(Node.A, () -> DatagramChannel.open().connect(bAddr));
        this.sendPathQos = QosSubsystem.open(QosOptions.defaults().withKernelShaping(false));
        this.kernelQos = QosSubsystem.open(QosOptions.defaults().withPrivileged(true).withKernelShaping(true));
    }

    public static void main(String[] args) throws Exception {
        double seconds = 2.0;
        Path out = Path.of("target", "shaping-benchmark.json");
        boolean scaleOnly = false;
        long[] rates = {64_000L, 1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--scale-only" -> scaleOnly = true;
                case "--rates" -> rates = java.util.Arrays.stream(args[++i].split(",")).mapToLong(Long::parseLong).toArray();
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Availability a = NetnsTestBed.availability();
        if (!a.ok()) {
            System.err.println("The shaping benchmark needs network namespaces: " + a.reason());
            System.exit(2);
        }
        List<Row> rows = new ArrayList<>();
        String scale;
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            ShapingBenchmark b = new ShapingBenchmark(bed, seconds);
            try {
                for (long rate : scaleOnly ? new long[0] : rates) {
                    for (int payload : new int[] {200, 1200}) {
                        for (Strategy s : Strategy.values()) {
                            Row r = b.run(s, rate, payload);
                            rows.add(r);
                            System.out.println(format(r));
                        }
                    }
                }
                scale = b.scale(1_000, 16_000, 200, 8.0);
            } finally {
                b.close();
            }
        }
        System.out.println();
        System.out.println(table(rows));
        System.out.println(scale);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, json(rows, scale));
        System.out.println("JSON: " + out.toAbsolutePath());
    }

    private void close() throws IOException {
        sendPathQos.close();
        kernelQos.close();
        tx.close();
        rx.close();
    }

    // ---------------------------------------------------------------------------------- one run

    private Row run(Strategy strategy, long rateBps, int payload) throws Exception {
        int wire = payload + PacingPolicy.UDP_IPV4_HEADER_BYTES;
        double runSeconds = rateBps < 1_000_000 ? Math.max(seconds, 6.0) : seconds;
        long burst = PacingPolicy.burstBytes(rateBps);
        ByteBuffer buf = ByteBuffer.allocateDirect(payload);
        int id = ++runId;
        buf.putInt(0, id);
        String note = "";
        QosFlow flow = null;
        RateLimiter guava = null;
        Bucket bucket = null;
        switch (strategy) {
            case QUAVER_SEND_PATH -> {
                flow = sendPathQos.addFlow(tx, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
                flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_ONLY));
                note = flow.enforcement().name();
            }
            case QUAVER_KERNEL_CLASS -> {
                flow = kernelQos.addFlow(tx, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
                flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_ONLY));
                note = flow.enforcement().name();
                if (flow.enforcement() != Enforcement.KERNEL_CLASS) {
                    note += " (kernel class refused)";
                }
            }
            case GUAVA -> guava = RateLimiter.create(rateBps / 8.0);
            case BUCKET4J -> {
                long bytesPerSecond = rateBps / 8;
                bucket = Bucket.builder().addLimit(l -> l.capacity(burst).refillGreedy(bytesPerSecond,
                        Duration.ofSeconds(1))).build();
            }
            case TBF -> {
                // tbf counts link-layer bytes (+14 per frame): scale so that the IP-level rate is the target
                long l2Rate = rateBps * (wire + 14) / wire;
                bed.setShaper(Node.A, Node.B, Shaper.tbf(l2Rate));
                note = "tbf " + l2Rate + " bit/s at L2";
            }
        }
        int capacity = (int) Math.min(4_000_000, rateBps * runSeconds / 8 / wire * 2 + 10_000);
        long[] lateNs = new long[capacity];
        int late = 0;
        rx.start(id);
        long cpu0 = processCpuNs() - rx.cpuNs();
        long t0 = System.nanoTime();
        long end = t0 + (long) (runSeconds * 1e9);
        long sent = 0;
        try {
            while (System.nanoTime() < end) {
                buf.clear();
                long scheduled;
                switch (strategy) {
                    case QUAVER_SEND_PATH -> {
                        // the send path's own schedule: the deadline it waits for (see QosFlow#nextSendTimeNs)
                        scheduled = flow.nextSendTimeNs();
                        flow.send(buf);
                    }
                    case GUAVA -> {
                        long before = System.nanoTime();
                        double slept = guava.acquire(wire); // Guava sleeps this long (its schedule)
                        scheduled = before + (long) (slept * 1e9);
                        tx.write(buf);
                    }
                    case BUCKET4J -> {
                        // Bucket4j's blocking consume is reserve-then-park; done explicitly to know the schedule
                        long before = System.nanoTime();
                        long waitNs = bucket.consumeIgnoringRateLimits(wire);
                        scheduled = before + waitNs;
                        if (waitNs > 0) {
                            java.util.concurrent.locks.LockSupport.parkNanos(waitNs);
                        }
                        tx.write(buf);
                    }
                    default -> {
                        scheduled = -1;
                        tx.write(buf); // the kernel shapes
                    }
                }
                if (scheduled >= 0 && late < capacity) {
                    lateNs[late++] = System.nanoTime() - scheduled;
                }
                sent++;
            }
        } finally {
            long wall = System.nanoTime() - t0;
            long cpu = processCpuNs() - rx.cpuNs() - cpu0;
            Thread.sleep(30); // in-flight datagrams
            Arrivals.Snapshot snap = rx.stop();
            if (flow != null) {
                flow.close();
            }
            if (strategy == Strategy.TBF) {
                bed.clearShaper(Node.A, Node.B);
            }
            Metrics.Result m = Metrics.of(snap.timesNs(), snap.ipBytes(), rateBps, burst, (long) (runSeconds * 1e8));
            double cpuPct = 100.0 * cpu / wall;
            double[] lp = Metrics.percentilesUs(lateNs, late, late / 10);
            if (m.packets() < sent * 0.98 && strategy != Strategy.TBF && strategy != Strategy.QUAVER_KERNEL_CLASS) {
                note = (note.isEmpty() ? "" : note + "; ") + "receiver lost " + (sent - m.packets()) + " of " + sent;
            }
            return new Row(strategy, rateBps, payload, m, lp[0], lp[1], cpuPct, note);
        }
    }

    private static long processCpuNs() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    // ------------------------------------------------------------------------------- G14 scale

    /// `flows` flows of `rateBps` each, on their own sockets, all kept backlogged through the
    /// asynchronous send (the pacer thread times every datagram) for `seconds`.
    private String scale(int flows, long rateBps, int payload, double seconds) throws Exception {
        InetSocketAddress bAddr = new InetSocketAddress(bed.ipv4(Node.B), SCALE_PORT);
        DatagramChannel sink = bed.inNamespace(Node.B, () -> {
            DatagramChannel ch = DatagramChannel.open();
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 32 << 20);
            return ch.bind(bAddr);
        });
        Arrivals arrivals = new Arrivals(sink, PacingPolicy.UDP_IPV4_HEADER_BYTES);
        List<DatagramChannel> sockets = bed.inNamespace(Node.A, () -> {
            List<DatagramChannel> l = new ArrayList<>();
            for (int i = 0; i < flows; i++) {
                l.add(DatagramChannel.open().connect(bAddr));
            }
            return l;
        });
        System.gc();
        long heap0 = usedHeap();
        List<QosFlow> list = new ArrayList<>(flows);
        long[] addNs = new long[flows];
        long tAdd = System.nanoTime();
        for (int i = 0; i < flows; i++) {
            long t = System.nanoTime();
            QosFlow f = sendPathQos.addFlow(sockets.get(i), null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
            f.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
            addNs[i] = System.nanoTime() - t;
            list.add(f);
        }
        long addUs = (System.nanoTime() - tAdd) / 1_000 / flows;
        System.gc();
        long perFlowBytes = Math.max(0, usedHeap() - heap0) / flows;

        int id = 424242;
        arrivals.start(id);
        AtomicInteger[] pending = new AtomicInteger[flows];
        for (int i = 0; i < flows; i++) {
            pending[i] = new AtomicInteger();
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long driverCpu0 = mx.getCurrentThreadCpuTime();
        long pacerCpu0 = -1;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        long submitted = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < flows; i++) {
                if (pending[i].get() < 2) {
                    ByteBuffer b = ByteBuffer.allocate(payload);
                    b.putInt(0, id);
                    AtomicInteger p = pending[i];
                    p.incrementAndGet();
                    CompletableFuture<Integer> f = list.get(i).sendAsync(null, b, null);
                    f.whenComplete((n, e) -> p.decrementAndGet());
                    submitted++;
                }
            }
            if (pacerCpu0 < 0) {
                pacerCpu0 = pacerCpuNs(mx);
            }
            Thread.sleep(10);
        }
        long wall = System.nanoTime() - t0;
        long pacerCpu = pacerCpuNs(mx) - pacerCpu0;
        long driverCpu = mx.getCurrentThreadCpuTime() - driverCpu0;
        Thread.sleep(50);
        Arrivals.Snapshot snap = arrivals.stop();
        // What the pacer's CPU would be without its timers: the same sends, raw, from this thread
        // (sockets round robin, as the pacer sends them), in thread CPU time.
        long rawSends = Math.max(2_000, Math.min(50_000, snap.timesNs().length));
        ByteBuffer raw = ByteBuffer.allocate(payload);
        raw.putInt(0, id + 1); // not counted by the receiver
        long rawCpu0 = mx.getCurrentThreadCpuTime();
        for (long k = 0; k < rawSends; k++) {
            raw.clear();
            sockets.get((int) (k % flows)).write(raw);
        }
        double rawSendNs = (mx.getCurrentThreadCpuTime() - rawCpu0) / (double) rawSends;
        double timerPct = 100.0 * Math.max(0, pacerCpu - snap.timesNs().length * rawSendNs) / wall;
        long[] removeNs = new long[flows];
        long tRemove = System.nanoTime();
        for (int i = 0; i < flows; i++) {
            long t = System.nanoTime();
            list.get(i).close();
            removeNs[i] = System.nanoTime() - t;
        }
        long removeUs = (System.nanoTime() - tRemove) / 1_000 / flows;
        for (DatagramChannel s : sockets) {
            s.close();
        }
        arrivals.close();
        Metrics.Result m = Metrics.of(snap.timesNs(), snap.ipBytes(), rateBps * flows,
                PacingPolicy.burstBytes(rateBps) * flows, (long) (seconds * 1e8));
        // The flows start together, so their datagrams come in waves one packet time apart; the
        // aggregate rate is counted over a whole number of packet times from 1 s on.
        long periodNs = (payload + PacingPolicy.UDP_IPV4_HEADER_BYTES) * 8_000_000_000L / rateBps;
        long from = t0 + 1_000_000_000L;
        long to = from + (long) ((seconds - 1.5) * 1e9) / periodNs * periodNs;
        long bytesInWindow = 0;
        for (int i = 0; i < snap.timesNs().length; i++) {
            if (snap.timesNs()[i] >= from && snap.timesNs()[i] < to) {
                bytesInWindow += snap.ipBytes()[i];
            }
        }
        double aggregateBps = bytesInWindow * 8e9 / (to - from);
        m = new Metrics.Result(m.packets(), aggregateBps, (aggregateBps / (rateBps * flows) - 1) * 100,
                m.windowsWithinPct(), m.jitterP50Us(), m.jitterP99Us());
        double pps = snap.timesNs().length / (wall / 1e9);
        return String.format(Locale.ROOT, "G14 scale: %d flows × %d bit/s (%d-byte datagrams, async sends kept backlogged)"
                        + " for %.1f s: aggregate %.3f Mbit/s at the receiver (target %.3f, error %+.2f %%), %.0f datagrams/s;"
                        + " pacer thread CPU %.2f %% of one core (%.2f µs per datagram, send syscall included), of which"
                        + " timers and queues %.2f %% (the same sends raw cost %.2f µs each); driver thread CPU %.2f %%;"
                        + " add+rate %d µs/flow (median of the first 100 %d µs, of the last 100 %d µs), remove %d µs/flow"
                        + " (first 100 %d µs, last 100 %d µs); ~%d bytes heap per flow (submitted %d)",
                flows, rateBps, payload, seconds, m.achievedBps() / 1e6, rateBps * flows / 1e6, m.rateErrorPct(), pps,
                100.0 * pacerCpu / wall, pacerCpu / 1e3 / Math.max(1, snap.timesNs().length), timerPct, rawSendNs / 1e3,
                100.0 * driverCpu / wall, addUs, medianUs(addNs, 0, 100), medianUs(addNs, flows - 100, flows), removeUs,
                medianUs(removeNs, 0, 100), medianUs(removeNs, flows - 100, flows), perFlowBytes, submitted);
    }

    private static long medianUs(long[] ns, int from, int to) {
        long[] part = java.util.Arrays.copyOfRange(ns, Math.max(0, from), Math.min(ns.length, to));
        java.util.Arrays.sort(part);
        return part.length == 0 ? 0 : part[part.length / 2] / 1_000;
    }

    private static long pacerCpuNs(ThreadMXBean mx) {
        for (ThreadInfo ti : mx.dumpAllThreads(false, false)) {
            if (ti != null && ti.getThreadName().equals("quaver-pacer")) {
                return Math.max(0, mx.getThreadCpuTime(ti.getThreadId()));
            }
        }
        return 0;
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    // ---------------------------------------------------------------------------------- output

    private static String format(Row r) {
        return String.format(Locale.ROOT, "%-20s %10s %5d B  %7d pkts  rate %+8.3f %%  windows %6.2f %%  late p50/p99 %s/%s µs"
                        + "  jitter p50/p99 %.1f/%.1f µs  cpu %6.1f %%  %s",
                r.strategy(), rate(r.rateBps()), r.payloadBytes(), r.m().packets(), r.m().rateErrorPct(),
                r.m().windowsWithinPct(), us(r.lateP50Us()), us(r.lateP99Us()), r.m().jitterP50Us(), r.m().jitterP99Us(),
                r.cpuPctOfCore(), r.note());
    }

    private static String us(double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String rate(long bps) {
        if (bps >= 1_000_000_000 && bps % 1_000_000_000 == 0) {
            return bps / 1_000_000_000 + " Gbit/s";
        }
        if (bps >= 1_000_000 && bps % 1_000_000 == 0) {
            return bps / 1_000_000 + " Mbit/s";
        }
        return bps / 1_000 + " kbit/s";
    }

    private static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| Strategy | Rate | Datagram | Packets | Rate error | 10 ms windows ≤ R·10ms+B+MTU | Departure lateness p50 / p99 (µs) | Arrival jitter p50 / p99 (µs) | CPU (% of a core) | Note |\n");
        sb.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d B | %d | %+.3f %% | %.2f %% | %s / %s | %.1f / %.1f | %.1f | %s |%n",
                    r.strategy(), rate(r.rateBps()), r.payloadBytes(), r.m().packets(), r.m().rateErrorPct(),
                    r.m().windowsWithinPct(), us(r.lateP50Us()), us(r.lateP99Us()), r.m().jitterP50Us(),
                    r.m().jitterP99Us(), r.cpuPctOfCore(), r.note()));
        }
        return sb.toString();
    }

    private static String json(List<Row> rows, String scale) {
        StringBuilder sb = new StringBuilder("{\n  \"benchmark\": \"shaping\",\n  \"time\": \"" + Instant.now() + "\",\n");
        sb.append("  \"java\": \"").append(System.getProperty("java.version")).append("\",\n");
        sb.append("  \"cpus\": ").append(Runtime.getRuntime().availableProcessors()).append(",\n  \"runs\": [\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(String.format(Locale.ROOT, "    {\"strategy\": \"%s\", \"rateBps\": %d, \"payloadBytes\": %d, \"packets\": %d,"
                            + " \"achievedBps\": %.1f, \"rateErrorPct\": %.4f, \"windowsWithinPct\": %.3f,"
                            + " \"departureLatenessP50Us\": %s, \"departureLatenessP99Us\": %s, \"arrivalJitterP50Us\": %.2f,"
                            + " \"arrivalJitterP99Us\": %.2f, \"cpuPctOfCore\": %.2f, \"note\": \"%s\"}%s%n",
                    r.strategy(), r.rateBps(), r.payloadBytes(), r.m().packets(), r.m().achievedBps(), r.m().rateErrorPct(),
                    r.m().windowsWithinPct(), jsonNum(r.lateP50Us()), jsonNum(r.lateP99Us()), r.m().jitterP50Us(),
                    r.m().jitterP99Us(), r.cpuPctOfCore(),
                    r.note().replace("\"", "'"), i + 1 < rows.size() ? "," : ""));
        }
        sb.append("  ],\n  \"scale\": \"").append(scale.replace("\"", "'")).append("\"\n}\n");
        return sb.toString();
    }

    private static String jsonNum(double v) {
        return Double.isNaN(v) ? "null" : String.format(Locale.ROOT, "%.2f", v);
    }

    static {
        // the engine is the JVM-wide embedded one; referenced so the pacer thread name is known
        Engine.embedded();
    }
}
