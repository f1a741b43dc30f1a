package io.quaver;

import io.quaver.internal.platform.Platform;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/// TCP flows: the kernel paces the application's own `SocketChannel` through
/// `SO_MAX_PACING_RATE` (no `fq` needed since Linux 4.13), measured at the receiver.
class TcpPacingTest {

    @Test
    void kernelPacingHoldsATcpFlowToItsRateAndIsRestoredAfterwards() throws Exception {
        assumeTrue(Platform.current().name().equals("linux-ffm"), "kernel pacing needs the Linux platform");
        long rateBps = 20_000_000; // 2.5 MB/s
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             SocketChannel client = SocketChannel.open(server.getLocalAddress());
             SocketChannel accepted = server.accept();
             QosSubsystem qos = QosSubsystem.open()) {
            long before = Platform.current().maxPacingRate(client).orElseThrow();
            QosFlow flow = qos.addFlow(client, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
            flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
            assertThat(flow.enforcement()).isEqualTo(Enforcement.KERNEL_PACING);
            assertThat(Platform.current().maxPacingRate(client).orElseThrow()).isEqualTo(rateBps / 8);

            // the receiver drains and timestamps; the application writes straight to its socket
            long total = 3_000_000; // ~1.2 s at the rate
            CompletableFuture<long[]> rx = CompletableFuture.supplyAsync(() -> {
                ByteBuffer b = ByteBuffer.allocateDirect(1 << 16);
                long got = 0;
                long first = 0;
                long firstBytes = 0;
                try {
                    while (got < total) {
                        b.clear();
                        int n = accepted.read(b);
                        if (n < 0) {
                            break;
                        }
                        got += n;
                        if (first == 0 && got >= total / 4) { // steady state: skip the start-up burst
                            first = System.nanoTime();
                            firstBytes = got;
                        }
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
                return new long[] {first, System.nanoTime(), got, firstBytes};
            });
            ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
            long sent = 0;
            while (sent < total) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), total - sent));
                sent += flow.send(chunk);
            }
            long[] r = rx.get(10, TimeUnit.SECONDS);
            double payloadBps = (r[2] - r[3]) * 8e9 / (r[1] - r[0]);
            System.out.printf("TCP kernel pacing: %.3f Mbit/s measured for %.3f Mbit/s%n", payloadBps / 1e6, rateBps / 1e6);
            // the kernel counts segments with their headers; on loopback (64 KiB segments) the
            // overhead is negligible
            assertThat(payloadBps).as("receiver-measured rate").isCloseTo(rateBps, within(rateBps * 0.10));

            flow.setOutgoingRate(OutgoingRate.of(0, Shaping.SHAPE_AND_MARK));
            assertThat(flow.enforcement()).isEqualTo(Enforcement.NONE);
            assertThat(Platform.current().maxPacingRate(client).orElseThrow()).isEqualTo(before);
            flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_ONLY));
            flow.close();
            assertThat(Platform.current().maxPacingRate(client).orElseThrow()).as("restored on removal")
                    .isEqualTo(before);
        }
    }
}
