package io.quaver.internal.probe;

import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.SinkStats;
import io.quaver.internal.platform.Platform;
import io.quaver.internal.qlpb.QlpbCodec;
import io.quaver.internal.qlpb.QlpbMessage;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/// A flood from some sources does not starve another, over real kernels: the sink in
/// namespace B; in namespace A three source addresses — 198.18.1.1 floods handshakes (and
/// holds the connections), 198.18.1.12 floods probegap datagrams, and a real [ClientProber]
/// from 198.18.1.11 measures the path meanwhile. The well-behaved source gets its handshakes,
/// its train summaries and its probegap reflections (a fresh estimate with a bottleneck and
/// an RTT); the sink's counters show the flooders limited.
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NetnsFloodTest {
    private static final int PER_SOURCE_SESSIONS = 8;

    @Test
    void aHandshakeAndProbeFloodDoesNotStarveAWellBehavedSource() throws Exception {
        Availability avail = NetnsTestBed.availability();
        Assumptions.assumeTrue(avail.ok(), avail.reason());
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            String dev = bed.interfaceName(Node.A, Node.B);
            bed.exec(Node.A, "ip", "addr", "add", "198.18.1.11/24", "dev", dev).orThrow();
            bed.exec(Node.A, "ip", "addr", "add", "198.18.1.12/24", "dev", dev).orThrow();
            InetAddress handshakeFlooder = bed.ipv4(Node.A);
            InetAddress good = InetAddress.getByName("198.18.1.11");
            InetAddress datagramFlooder = InetAddress.getByName("198.18.1.12");
            QosSink sink = bed.inNamespace(Node.B, () -> QosSink.start(SinkOptions.defaults()
                    .withBindAddress(bed.ipv4(Node.B)).withPort(0).withMaxSessions(32)
                    .withMaxSessionsPerSource(PER_SOURCE_SESSIONS).withSourceHandshakesPerSecond(20)
                    .withSourceRate(20_000_000L, 2L << 20)));
            InetSocketAddress target = new InetSocketAddress(bed.ipv4(Node.B), sink.port());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong floodHandshakes = new AtomicLong();
            AtomicLong floodDatagrams = new AtomicLong();
            List<Socket> held = new ArrayList<>();
            Thread tcpFlood = Thread.ofPlatform().name("test-flood-tcp").start(() -> {
                while (!stop.get() && held.size() < 400) {
                    try {
                        Socket s = bed.inNamespace(Node.A, () -> {
                            Socket c = new Socket();
                            c.bind(new InetSocketAddress(handshakeFlooder, 0));
                            return c;
                        });
                        held.add(s);
                        s.connect(target, 1_000);
                        OutputStream out = s.getOutputStream();
                        out.write(QlpbCodec.encode(new QlpbMessage.PacketPairHandshake()).array());
                        floodHandshakes.incrementAndGet();
                    } catch (Exception e) {
                        // refused or reset by the sink: keep flooding
                    }
                }
            });
            DatagramChannel udpFlood = bed.inNamespace(Node.A, () -> DatagramChannel.open()
                    .bind(new InetSocketAddress(datagramFlooder, 0)));
            Thread datagramFlood = Thread.ofPlatform().name("test-flood-udp").start(() -> {
                ByteBuffer probe = QlpbCodec.encode(new QlpbMessage.ProbegapProbe(1, 1, 0, 0, new byte[1_200]));
                while (!stop.get()) {
                    try {
                        udpFlood.send(probe.rewind(), target);
                        floodDatagrams.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            try (sink; udpFlood) {
                Thread.sleep(500); // the floods are under way
                ProberConfig config = ProberConfig.of(target, true, Platform.current())
                        .withSockets(NetnsProbeSockets.boundTo(bed, Node.A, good));
                try (ClientProber prober = EmulatedPathTest.startWithEstimators(config, "flood")) {
                    assertThat(prober.awaitFirstHandshake(Duration.ofSeconds(5)))
                            .isEqualTo(ClientProber.Status.REACHABLE);
                    PathEstimates e = prober.fresh(Duration.ofSeconds(10));
                    for (int i = 0; i < 5 && (e == null || e.bottleneckBps().isEmpty() || e.rttUs().isEmpty()); i++) {
                        e = prober.fresh(Duration.ofSeconds(5));
                    }
                    System.out.println("under flood: " + e + "; " + sink.stats() + "; flood handshakes "
                            + floodHandshakes + ", flood datagrams " + floodDatagrams);
                    assertThat(e).isNotNull();
                    assertThat(e.bottleneckBps()).as("train summaries reached the good source").isPresent();
                    assertThat(e.rttUs()).as("probegap reflections reached the good source").isPresent();
                    assertThat(prober.probeBytesReceived()).isPositive();
                }
                SinkStats stats = sink.stats();
                assertThat(stats.rateLimitedConnections()).as("handshake flood limited").isPositive();
                assertThat(stats.rateLimitedDatagrams()).as("datagram flood limited").isPositive();
                assertThat(floodHandshakes.get()).isGreaterThan(PER_SOURCE_SESSIONS);
            } finally {
                stop.set(true);
                tcpFlood.join(10_000);
                datagramFlood.join(10_000);
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }
}
