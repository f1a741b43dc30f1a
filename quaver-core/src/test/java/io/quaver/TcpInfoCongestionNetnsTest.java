package io.quaver;

import io.quaver.internal.Engine;
import io.quaver.internal.platform.NetNamespace;
import io.quaver.internal.probe.ProbeSockets;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import io.quaver.testkit.Shaper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/// Congested / Uncongested for a TCP adaptive flow whose peer runs no sink: the engine feeds the
/// flow's `TCP_INFO` (smoothed RTT over min RTT, retransmissions) into a detector of its own.
/// A bulk TCP transfer fills a 10 Mbit/s `tbf` with a 200 ms queue between two namespaces
/// (Congested); the sender then drops to 1 Mbit/s, the queue drains and Uncongested follows.
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TcpInfoCongestionNetnsTest {
    private static final long RATE_BPS = 10_000_000L;

    /// Writes `bytes` (or as much as fits before `deadlineNs`) in 1400-byte chunks, paced at
    /// `rateBps` (0 = as fast as TCP takes it).
    private static void send(SocketChannel tx, long rateBps, long untilNs, CompletableFuture<?> doneWhen)
            throws IOException, InterruptedException {
        ByteBuffer chunk = ByteBuffer.allocate(1400);
        long next = System.nanoTime();
        while (System.nanoTime() - untilNs < 0 && !doneWhen.isDone()) {
            chunk.clear();
            while (chunk.hasRemaining()) {
                tx.write(chunk);
            }
            if (rateBps > 0) {
                next += 1400 * 8 * 1_000_000_000L / rateBps;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        }
    }

    @Test
    void aSinklessTcpFlowIsCongestedOverAFullQueueAndUncongestedOnceItDrains() throws Exception {
        Availability avail = NetnsTestBed.availability();
        assumeTrue(avail.ok(), () -> "namespace test bed not available: " + avail.reason());
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false)
                .bottleneck(Node.A, Node.B, Shaper.tbf(RATE_BPS).withLatencyNs(200_000_000L)).build()) {
            InetSocketAddress server = new InetSocketAddress(bed.ipv4(Node.B), 5001);
            ServerSocketChannel listener = bed.inNamespace(Node.B, () -> ServerSocketChannel.open().bind(server));
            NetNamespace nsA = NetNamespace.open(Path.of("/run/netns", bed.namespace(Node.A)));
            Engine.embedded().tracking().setSocketFactory(ProbeSockets.in(nsA)); // failing sink attempts stay in the bed
            Thread drain = null;
            try (nsA; listener; SocketChannel tx = bed.inNamespace(Node.A, () -> SocketChannel.open(server));
                 SocketChannel rx = listener.accept();
                 QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false))) {
                drain = Thread.ofPlatform().name("tcp-drain").daemon().start(() -> {
                    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
                    try {
                        while (rx.read(b.clear()) >= 0) {
                            // discard
                        }
                    } catch (IOException e) {
                        // closed
                    }
                });
                // added inside A, so that the on-link check sees A's routes
                QosFlow flow = bed.inNamespace(Node.A,
                        () -> qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE));
                // gentle start: the kernel learns the path's minimum RTT on an empty queue
                send(tx, 1_000_000, System.nanoTime() + 1_000_000_000L, new CompletableFuture<>());
                CompletableFuture<Void> congested = flow.notifyCongested();
                assertThat(congested).as("an empty queue is not congestion").isNotDone();
                long onset = System.nanoTime();
                send(tx, 0, onset + 30_000_000_000L, congested);
                assertThat(congested).as("Congested while a bulk transfer fills the queue")
                        .succeedsWithin(1, TimeUnit.SECONDS);
                long detectedMs = (System.nanoTime() - onset) / 1_000_000;
                assertThat(flow.fundamentals(false).source()).isEqualTo(FlowFundamentals.Source.TCP_INFO);
                CompletableFuture<Void> uncongested = flow.notifyUncongested();
                long calm = System.nanoTime();
                send(tx, 1_000_000, calm + 40_000_000_000L, uncongested);
                assertThat(uncongested).as("Uncongested once the queue drained at 1 Mbit/s")
                        .succeedsWithin(1, TimeUnit.SECONDS);
                System.out.printf("TCP_INFO detector: Congested %d ms into the bulk transfer, Uncongested %d ms after"
                        + " dropping to 1 Mbit/s%n", detectedMs, (System.nanoTime() - calm) / 1_000_000);
            } finally {
                Engine.embedded().tracking().setSocketFactory(null);
                if (drain != null) {
                    drain.join(5_000);
                }
            }
        }
    }
}
