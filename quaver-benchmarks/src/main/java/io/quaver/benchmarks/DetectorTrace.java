package io.quaver.benchmarks;

import io.quaver.FlowMode;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSink;
import io.quaver.QosSubsystem;
import io.quaver.SinkOptions;
import io.quaver.TrafficType;
import io.quaver.internal.Engine;
import io.quaver.internal.adaptive.CongestionDetector;
import io.quaver.internal.adaptive.DetectorConfig;
import io.quaver.internal.adaptive.Transition;
import io.quaver.internal.adaptive.sim.SyntheticPath;
import io.quaver.internal.probe.PathEstimates;
import io.quaver.internal.probe.PathModel;
import io.quaver.internal.probe.PathStack;
import io.quaver.testkit.LinkConfig;
import io.quaver.testkit.LinkEmulator;

import java.io.BufferedWriter;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/// Records the probegap samples a path's congestion detector sees on the link emulator (the
/// same samples, in the same order: the prober's path model is wrapped through
/// `Tracking.setStackFactory`, and the engine feeds its detector from that model's calls), and
/// replays a recorded trace through a [CongestionDetector] in virtual time, printing its
/// transitions and the delay statistics that matter to it (the spread of one-way delays, the
/// 40 ms floor above the base).
///
/// Usage:
/// - `DetectorTrace record --seconds S --jitter-ms J [--reordering] [--out FILE]`: the emulator
///   as in [AdaptiveBenchmark]'s false-alarm rows (20 Mbit/s, 10 ms each way, 4 Mbit/s of cross
///   traffic), one adaptive flow, S seconds; one line per sample: `P recvNs seq sendNs sinkRecvNs`
///   or `A recvNs seq` (a withdrawn probe that arrived);
/// - `DetectorTrace replay FILE`: the trace through a detector with [DetectorConfig#DEFAULT],
///   ticked every 20 ms as the engine does.
public final class DetectorTrace {
    private static final long MS = 1_000_000L;

    private DetectorTrace() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("replay")) {
            replay(Path.of(args[1]));
            return;
        }
        if (args.length >= 1 && args[0].equals("synth")) {
            synth(args);
            return;
        }
        if (args.length < 1 || !args[0].equals("record")) {
            System.err.println("usage: DetectorTrace record --seconds S --jitter-ms J [--reordering] [--out FILE]"
                    + " | DetectorTrace replay FILE");
            System.exit(2);
        }
        long seconds = 240;
        long jitterMs = 20;
        boolean reordering = false;
        Path out = Path.of("target", "detector-trace.txt");
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Long.parseLong(args[++i]);
                case "--jitter-ms" -> jitterMs = Long.parseLong(args[++i]);
                case "--reordering" -> reordering = true;
                case "--out" -> out = Path.of(args[++i]);
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        record(seconds, jitterMs, reordering, out);
        replay(out);
    }

    private static void record(long seconds, long jitterMs, boolean reordering, Path out) throws Exception {
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (BufferedWriter w = Files.newBufferedWriter(out);
             QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(lo).withPort(0));
             LinkEmulator link = LinkEmulator.builder()
                     .target(new InetSocketAddress(lo, sink.port()))
                     .forward(LinkConfig.ofRateBps(20_000_000L).withDelayNs(10 * MS)
                             .withQueueLimitBytes(125_000))
                     .reverse(LinkConfig.unshaped().withDelayNs(10 * MS))
                     .build()) {
            link.forward().setCrossTrafficBps(4_000_000L);
            link.forward().setReordering(reordering);
            link.forward().setJitterNs(jitterMs * MS);
            Object guard = new Object();
            Engine.embedded().tracking().setProberConfigHook(
                    c -> c.withProbeTarget(link.ingressAddress()).withRouteCheck(false));
            Engine.embedded().tracking().setStackFactory(() -> {
                PathStack s = PathStack.estimators();
                return new PathStack(recording(s.model(), w, guard), s.scheduler());
            });
            try (QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false)
                    .withSinkPort(sink.port()));
                 DatagramChannel socket = DatagramChannel.open()) {
                socket.connect(new InetSocketAddress(lo, 9));
                QosFlow flow = qos.addFlow(socket, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
                long end = System.nanoTime() + seconds * 1_000_000_000L;
                String last = null;
                while (System.nanoTime() - end < 0) {
                    Thread.sleep(500);
                    String t = Engine.embedded().adaptive().lastTransition(flow.id());
                    if (t != null && !t.equals(last)) {
                        System.out.println("live: " + t);
                        last = t;
                    }
                }
            } finally {
                Engine.embedded().tracking().setProberConfigHook(null);
                Engine.embedded().tracking().setStackFactory(null);
            }
            synchronized (guard) {
                w.flush();
            }
        }
        System.out.println("trace written to " + out.toAbsolutePath());
    }

    /// `synth --seconds S --jitter-ms J [--in-order] [--dither D] [--seed N] --out FILE`: the same
    /// trace format from a [SyntheticPath] false-alarm path (flow at 50 %, 10 % cross traffic).
    private static void synth(String[] args) throws IOException {
        long seconds = 240;
        long jitterMs = 20;
        boolean inOrder = false;
        double dither = 0;
        long seed = 1;
        Path out = Path.of("target", "detector-trace-synth.txt");
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Long.parseLong(args[++i]);
                case "--jitter-ms" -> jitterMs = Long.parseLong(args[++i]);
                case "--in-order" -> inOrder = true;
                case "--dither" -> dither = Double.parseDouble(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException(args[i]);
            }
        }
        SyntheticPath.Params p = SyntheticPath.Params.CLEAN.withJitterNs(jitterMs * MS).withProbeDither(dither);
        if (inOrder) {
            p = p.withInOrderDelivery();
        }
        SyntheticPath path = new SyntheticPath(p, 20_000_000L, 2_000_000L, seed);
        path.setMediaBps(10_000_000L);
        path.setCrossBps(2_000_000L);
        try (BufferedWriter w = Files.newBufferedWriter(out)) {
            path.advance(seconds * 1_000 * MS, (now, seq, send, recv) -> {
                try {
                    w.write("P " + now + " " + seq + " " + send + " " + recv);
                    w.newLine();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        replay(out);
    }

    private static PathModel recording(PathModel inner, BufferedWriter w, Object guard) {
        return new PathModel() {
            @Override
            public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
                inner.onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps);
            }

            @Override
            public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps,
                                long[] sendNs) {
                inner.onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps, sendNs);
            }

            @Override
            public void onStream(long nowNs, int probeIpBytes, long[] deltas100ns, long[] sendNs) {
                inner.onStream(nowNs, probeIpBytes, deltas100ns, sendNs);
            }

            @Override
            public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                                   int probeIpBytes) {
                inner.onProbegap(sequence, sendNs, sinkRecv100ns, sinkSend100ns, recvNs, probeIpBytes);
                line("P " + recvNs + " " + sequence + " " + sendNs + " " + sinkRecv100ns * 100);
            }

            @Override
            public void onProbegapArrival(long sequence, long recvNs) {
                inner.onProbegapArrival(sequence, recvNs);
                line("A " + recvNs + " " + sequence);
            }

            @Override
            public PathEstimates estimates(long nowNs) {
                return inner.estimates(nowNs);
            }

            private void line(String s) {
                synchronized (guard) {
                    try {
                        w.write(s);
                        w.newLine();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }
        };
    }

    /// One recorded sample (`sendNs` = Long.MIN_VALUE for an arrival without timing).
    record Sample(long recvNs, long seq, long sendNs, long sinkRecvNs) {
    }

    static List<Sample> read(Path file) throws IOException {
        List<Sample> s = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String[] f = line.split(" ");
            if (f[0].equals("P")) {
                s.add(new Sample(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                        Long.parseLong(f[4])));
            } else if (f[0].equals("A")) {
                s.add(new Sample(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.MIN_VALUE, 0));
            }
        }
        return s;
    }

    private static void replay(Path file) throws IOException {
        List<Sample> samples = read(file);
        if (samples.isEmpty()) {
            System.out.println("empty trace");
            return;
        }
        CongestionDetector d = new CongestionDetector(DetectorConfig.DEFAULT);
        long t0 = samples.getFirst().recvNs();
        long nextTick = t0 + 20 * MS;
        long minOwd = Long.MAX_VALUE;
        long end = samples.getLast().recvNs();
        long[] acc = {-1, 0, 0}; // congested since, congested ns, alarms
        long[] owd = samples.stream().filter(x -> x.sendNs() != Long.MIN_VALUE)
                .mapToLong(x -> x.sinkRecvNs() - x.sendNs()).toArray();
        for (long o : owd) {
            minOwd = Math.min(minOwd, o);
        }
        List<Long> queue = new ArrayList<>();
        for (Sample x : samples) {
            while (nextTick <= x.recvNs()) {
                report(d.onTick(nextTick), d, t0, acc);
                nextTick += 20 * MS;
                queue.add(d.reading(nextTick).queueDelayNs());
            }
            report(x.sendNs() == Long.MIN_VALUE ? d.onArrival(x.recvNs(), x.seq())
                    : d.onProbe(x.recvNs(), x.seq(), x.sendNs(), x.sinkRecvNs()), d, t0, acc);
        }
        if (acc[0] >= 0) {
            acc[1] += end - acc[0];
        }
        long alarms = acc[2];
        long[] qs = queue.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.printf(Locale.ROOT, "detector's queuing delay (every 20 ms), ms: p50 %.1f p99 %.1f p99.9 %.1f max %.1f;"
                        + " at the end %s%n", q(qs, .5), q(qs, .99), q(qs, .999), qs[qs.length - 1] / 1e6,
                d.reading(end));
        long congestedNs = acc[1];
        long min = minOwd;
        long[] above = Arrays.stream(owd).map(o -> o - min).sorted().toArray();
        System.out.printf(Locale.ROOT, "%d samples (%d withdrawn) over %.1f s; %d alarms, congested %.1f s%n",
                samples.size(), samples.size() - owd.length, (end - t0) / 1e9, alarms, congestedNs / 1e9);
        System.out.printf(Locale.ROOT, "one-way delay above the trace's minimum, ms: p1 %.1f p5 %.1f p25 %.1f p50 %.1f"
                        + " p75 %.1f p95 %.1f p99 %.1f max %.1f%n", q(above, .01), q(above, .05), q(above, .25),
                q(above, .5), q(above, .75), q(above, .95), q(above, .99), above[above.length - 1] / 1e6);
        long[] floors = floors(samples, 40 * MS, min);
        System.out.printf(Locale.ROOT, "40 ms floor above the minimum (every 10 ms), ms: p1 %.1f p5 %.1f p25 %.1f"
                        + " p50 %.1f p75 %.1f p95 %.1f p99 %.1f max %.1f%n", q(floors, .01), q(floors, .05),
                q(floors, .25), q(floors, .5), q(floors, .75), q(floors, .95), q(floors, .99),
                floors[floors.length - 1] / 1e6);
    }

    private static long[] floors(List<Sample> samples, long windowNs, long min) {
        List<Long> out = new ArrayList<>();
        java.util.ArrayDeque<long[]> dq = new java.util.ArrayDeque<>();
        long next = Long.MIN_VALUE;
        for (Sample x : samples) {
            if (x.sendNs() == Long.MIN_VALUE) {
                continue;
            }
            long o = x.sinkRecvNs() - x.sendNs();
            while (!dq.isEmpty() && dq.peekLast()[1] >= o) {
                dq.pollLast();
            }
            dq.addLast(new long[] {x.recvNs(), o});
            while (x.recvNs() - dq.peekFirst()[0] > windowNs) {
                dq.pollFirst();
            }
            if (next == Long.MIN_VALUE) {
                next = x.recvNs() + windowNs;
            }
            if (x.recvNs() >= next) {
                out.add(dq.peekFirst()[1] - min);
                next += 10 * MS;
            }
        }
        return out.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    private static double q(long[] sorted, double p) {
        return sorted[Math.clamp((int) Math.ceil(p * sorted.length) - 1, 0, sorted.length - 1)] / 1e6;
    }

    private static void report(Transition t, CongestionDetector d, long t0, long[] acc) {
        if (t == null) {
            return;
        }
        System.out.printf(Locale.ROOT, "  t=%.3f s %s -> %s (%s) %s%n", (t.atNs() - t0) / 1e9, t.from(), t.to(),
                t.cause(), d.reading(t.atNs()));
        if (t.to() == io.quaver.internal.adaptive.CongestionState.CONGESTED) {
            acc[0] = t.atNs();
            acc[2]++;
        } else if (acc[0] >= 0) {
            acc[1] += t.atNs() - acc[0];
            acc[0] = -1;
        }
    }
}
