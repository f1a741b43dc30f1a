package io.quaver.benchmarks;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.TrafficType;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/// The send path's per-datagram overhead (goal G13: ≤ 5 % on top of a raw 1,200-byte send),
/// measured so that a loaded host does not drown a few percent: batches of raw
/// `DatagramChannel.write`s (on a socket in no flow, and on the no-rate flow's socket: the
/// kernel's share of any difference) and of `QosFlow.send`s (no rate; a never-binding rate with
/// `SHAPE_ONLY`; one with `USE_NON_CONFORMANT_MARKINGS`) alternate on one thread, in a rotating
/// order, each timed in the thread's CPU time and in wall time. Each round gives a ratio per
/// variant against the raw batch of the same round; the table reports the median ratio and
/// its interquartile range over the rounds, and the heap allocated per send (from
/// `ThreadMXBean`'s per-thread allocation counter).
///
/// `java -cp … io.quaver.benchmarks.SendOverheadBenchmark [--rounds 300] [--batch 2000] [--out FILE]`
public final class SendOverheadBenchmark {
    private static final int PAYLOAD_BYTES = 1200;

    private SendOverheadBenchmark() {
    }

    private interface Sender {
        int send(ByteBuffer payload) throws IOException;
    }

    public static void main(String[] args) throws Exception {
        int rounds = 300;
        int batch = 2000;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--help", "-h" -> {
                    System.out.println("SendOverheadBenchmark [--rounds 300] [--batch 2000] [--out FILE.json]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        com.sun.management.ThreadMXBean allocation = (com.sun.management.ThreadMXBean) threads;
        String[] names = {"raw write", "raw write on the socket of a flow (no rate)", "flow.send, no rate", "flow.send, SHAPE_ONLY (never binding)",
                "flow.send, USE_NON_CONFORMANT_MARKINGS (never binding)"};
        try (DatagramChannel sink = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             DatagramChannel raw = DatagramChannel.open().connect(sink.getLocalAddress());
             DatagramChannel tx1 = DatagramChannel.open().connect(sink.getLocalAddress());
             DatagramChannel tx2 = DatagramChannel.open().connect(sink.getLocalAddress());
             DatagramChannel tx3 = DatagramChannel.open().connect(sink.getLocalAddress());
             QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withKernelShaping(false))) {
            QosFlow unshaped = qos.addFlow(tx1, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
            QosFlow paced = qos.addFlow(tx2, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
            paced.setOutgoingRate(OutgoingRate.of(1_000_000_000_000L, Shaping.SHAPE_ONLY));
            QosFlow marked = qos.addFlow(tx3, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
            marked.setOutgoingRate(OutgoingRate.of(1_000_000_000_000L, Shaping.USE_NON_CONFORMANT_MARKINGS));
            Sender[] senders = {raw::write, tx1::write, unshaped::send, paced::send, marked::send};
            ByteBuffer payload = ByteBuffer.allocateDirect(PAYLOAD_BYTES);
            int variants = senders.length;
            double[][] cpuNs = new double[variants][rounds];
            double[][] wallNs = new double[variants][rounds];
            long[] allocatedBytes = new long[variants];
            long[] measuredSends = new long[variants];
            long tid = Thread.currentThread().threadId();
            int warmUpRounds = Math.max(20, rounds / 10);
            for (int round = -warmUpRounds; round < rounds; round++) {
                for (int k = 0; k < variants; k++) {
                    int v = Math.floorMod(k + round, variants); // rotate the order every round
                    long allocBefore = allocation.getThreadAllocatedBytes(tid);
                    long cpuBefore = threads.getCurrentThreadCpuTime();
                    long wallBefore = System.nanoTime();
                    for (int i = 0; i < batch; i++) {
                        payload.clear();
                        senders[v].send(payload);
                    }
                    long wall = System.nanoTime() - wallBefore;
                    long cpu = threads.getCurrentThreadCpuTime() - cpuBefore;
                    long allocated = allocation.getThreadAllocatedBytes(tid) - allocBefore;
                    if (round >= 0) {
                        cpuNs[v][round] = (double) cpu / batch;
                        wallNs[v][round] = (double) wall / batch;
                        allocatedBytes[v] += allocated;
                        measuredSends[v] += batch;
                    }
                }
            }
            StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                    "Send overhead, %d rounds of %d × %d-byte datagrams per variant, interleaved:%n"
                            + "| Variant | CPU ns/send (median) | wall ns/send (median) | CPU ratio to raw: median [IQR] "
                            + "| wall ratio: median [IQR] | bytes allocated/send |%n| --- | --- | --- | --- | --- | --- |%n",
                    rounds, batch, PAYLOAD_BYTES));
            StringBuilder json = new StringBuilder("{\"rounds\":" + rounds + ",\"batch\":" + batch
                    + ",\"payloadBytes\":" + PAYLOAD_BYTES + ",\"variants\":[");
            for (int v = 0; v < variants; v++) {
                double[] cpuRatio = new double[rounds];
                double[] wallRatio = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    cpuRatio[r] = cpuNs[v][r] / cpuNs[0][r];
                    wallRatio[r] = wallNs[v][r] / wallNs[0][r];
                }
                double[] c = quartiles(cpuRatio);
                double[] w = quartiles(wallRatio);
                double cpuMedian = quartiles(cpuNs[v])[1];
                double wallMedian = quartiles(wallNs[v])[1];
                double perSend = (double) allocatedBytes[v] / measuredSends[v];
                table.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.4f [%.4f, %.4f] | %.4f [%.4f, %.4f] | %.3f |%n",
                        names[v], cpuMedian, wallMedian, c[1], c[0], c[2], w[1], w[0], w[2], perSend));
                json.append(v == 0 ? "" : ",").append(String.format(Locale.ROOT,
                        "{\"variant\":\"%s\",\"cpuNsPerSend\":%.1f,\"wallNsPerSend\":%.1f,\"cpuRatio\":[%.4f,%.4f,%.4f],"
                                + "\"wallRatio\":[%.4f,%.4f,%.4f],\"allocatedBytesPerSend\":%.4f}",
                        names[v], cpuMedian, wallMedian, c[0], c[1], c[2], w[0], w[1], w[2], perSend));
            }
            json.append("]}\n");
            System.out.print(table);
            if (out != null) {
                Files.writeString(out, json, StandardCharsets.UTF_8);
            }
        }
    }

    /// The 25th, 50th and 75th percentiles (nearest rank) of `values` (copied).
    private static double[] quartiles(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return new double[] {sorted[n / 4], sorted[n / 2], sorted[(3 * n) / 4]};
    }
}
