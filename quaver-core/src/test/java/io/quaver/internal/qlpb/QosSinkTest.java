package io.quaver.internal.qlpb;

import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.SinkStats;
import io.quaver.internal.qlpb.DecodeResult.Decoded;
import io.quaver.internal.qlpb.QlpbMessage.Discard;
import io.quaver.internal.qlpb.QlpbMessage.HandshakeSuccess;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairHandshake;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairProbe;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairSummary;
import io.quaver.internal.qlpb.QlpbMessage.ProbegapProbe;
import io.quaver.internal.qlpb.QlpbMessage.ProbegapReflected;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckHandshake;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckProbe;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckSummary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static io.quaver.internal.qlpb.TestInitiator.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The sink over loopback: every experiment of [MS-QLPB] against a real [QosSink], on IPv4
/// and IPv6, plus its bounds (session limit, idle timeout, malformed input).
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QosSinkTest {
    static final InetAddress LOOPBACK4 = address("127.0.0.1");
    static final InetAddress LOOPBACK6 = address("::1");
    private static final Duration WAIT = Duration.ofSeconds(5);
    /// Route-check probe 1: a 1500-byte IPv4 datagram (IP 20 + UDP 8 + probe header 12).
    private static final int OVERSIZED_PAYLOAD = 1500 - 20 - 8 - QlpbCodec.PROBE_HEADER_BYTES;
    private static final int BEST_EFFORT_PAYLOAD = 1496 - 20 - 8 - QlpbCodec.PROBE_HEADER_BYTES;

    private final List<AutoCloseable> resources = new ArrayList<>();

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable r : resources.reversed()) {
            r.close();
        }
    }

    private QosSink sink(SinkOptions options) {
        return track(QosSink.start(options));
    }

    private QosSink sink4() {
        return sink(SinkOptions.defaults().withBindAddress(LOOPBACK4).withPort(0));
    }

    private TestInitiator initiator(InetAddress host, QosSink sink) throws IOException {
        return track(new TestInitiator(host, sink.port()));
    }

    private TestInitiator handshake(QosSink sink, InetAddress host, QlpbMessage handshake) throws IOException {
        TestInitiator initiator = initiator(host, sink);
        initiator.send(handshake);
        assertThat(initiator.receive()).isEqualTo(new HandshakeSuccess());
        return initiator;
    }

    private static void sendTrain(TestInitiator initiator, long firstSequence, int trainSize, int payload)
            throws IOException {
        for (int i = 0; i < trainSize; i++) {
            initiator.sendProbe(new PacketPairProbe(initiator.initiatorPort(), trainSize, firstSequence + i, i == 0,
                    payload));
        }
    }

    private static void sendRouteCheckRound(TestInitiator initiator, long base, int... order) throws IOException {
        for (int k : order) {
            int payload = k == 1 ? OVERSIZED_PAYLOAD : k <= 3 ? BEST_EFFORT_PAYLOAD : 0;
            initiator.sendProbe(new RouteCheckProbe(initiator.initiatorPort(), k == 5 ? 5 : 0, base + k, k == 1,
                    payload));
        }
    }

    @Test
    void bothHandshakesSucceed() throws IOException {
        QosSink sink = sink4();
        handshake(sink, LOOPBACK4, new PacketPairHandshake());
        handshake(sink, LOOPBACK4, new RouteCheckHandshake());
        assertThat(eventually(WAIT, () -> sink.stats().bytesOut() == 8)).isTrue();
        SinkStats stats = sink.stats();
        assertThat(stats.sessionsAccepted()).isEqualTo(2);
        assertThat(stats.sessionsActive()).isEqualTo(2);
        assertThat(stats.bytesIn()).isEqualTo(8);
    }

    @Test
    void packetPairTrainOf16GivesASummaryWith15NonNegativeDeltas() throws IOException {
        QosSink sink = sink4();
        TestInitiator initiator = handshake(sink, LOOPBACK4, new PacketPairHandshake());
        sendTrain(initiator, 1, 16, 1200);
        QlpbMessage reply = initiator.receive();
        assertThat(reply).isInstanceOfSatisfying(PacketPairSummary.class, summary -> {
            assertThat(summary.sequence()).isEqualTo(1);
            assertThat(summary.deltaCount()).isEqualTo(15);
            assertThat(LongStream.of(summary.timestampDeltas100ns()).boxed().toList())
                    .allSatisfy(d -> assertThat(d).isNotNegative());
            assertThat(summary.interfaceSpeedBps()).as("loopback speed is unknown").isZero();
        });
        // the session lives on: the initiator's next attempt gets its own summary
        sendTrain(initiator, 17, 16, 1200);
        assertThat(initiator.receive()).isInstanceOfSatisfying(PacketPairSummary.class,
                summary -> assertThat(summary.sequence()).isEqualTo(17));
        SinkStats stats = sink.stats();
        assertThat(stats.packetPairTrains()).isEqualTo(2);
        assertThat(stats.probesReceived()).isEqualTo(32);
        assertThat(stats.droppedMessages()).isZero();
    }

    @Test
    void summaryCarriesTheReceivingInterfaceSpeed() throws IOException {
        List<InetAddress> asked = new CopyOnWriteArrayList<>();
        SinkEngine engine = SinkEngine.start(SinkOptions.defaults().withBindAddress(LOOPBACK4).withPort(0),
                local -> {
                    asked.add(local);
                    return 600_000_000L;
                });
        try (engine; TestInitiator initiator = new TestInitiator(LOOPBACK4, engine.port())) {
            initiator.send(new PacketPairHandshake());
            assertThat(initiator.receive()).isEqualTo(new HandshakeSuccess());
            sendTrain(initiator, 1000, 2, 0);
            assertThat(initiator.receive()).isInstanceOfSatisfying(PacketPairSummary.class, summary -> {
                assertThat(summary.sequence()).isEqualTo(1000);
                assertThat(summary.interfaceSpeedBps()).isEqualTo(600_000_000L);
                assertThat(summary.deltaCount()).isEqualTo(1);
            });
        }
        assertThat(asked).containsExactly(LOOPBACK4);
        assertThat(engine.liveThreadCount()).isZero();
    }

    @Test
    void trainsWithGapsOrForeignProbesAreNotSummarised() throws IOException {
        QosSink sink = sink4();
        TestInitiator initiator = handshake(sink, LOOPBACK4, new PacketPairHandshake());
        int port = initiator.initiatorPort();
        initiator.sendProbe(new PacketPairProbe(port, 4, 1, true, 100));
        initiator.sendProbe(new PacketPairProbe(port, 4, 3, false, 100)); // gap
        initiator.sendProbe(new PacketPairProbe(port, 4, 2, false, 101)); // other size
        initiator.sendProbe(new PacketPairProbe(port, 0, 9, false, 100)); // filler
        initiator.sendProbe(new PacketPairProbe(port + 1, 2, 1, true, 100)); // no such session
        initiator.sendProbe(new RouteCheckProbe(port, 5, 1, false, 0)); // wrong session type
        assertThat(eventually(WAIT, () -> sink.stats().probesReceived() == 6
                && sink.stats().droppedMessages() == 4)).as("%s", sink.stats()).isTrue();
        assertThat(sink.stats().packetPairTrains()).isZero();
        // a clean train afterwards is summarised
        sendTrain(initiator, 50, 3, 100);
        assertThat(initiator.receive()).isInstanceOfSatisfying(PacketPairSummary.class,
                s -> assertThat(s.sequence()).isEqualTo(50));
    }

    @Test
    void probegapIsReflectedToTheSenderWithSinkTimestamps() throws IOException {
        QosSink sink = sink4();
        try (DatagramChannel udp = DatagramChannel.open()) {
            udp.bind(new InetSocketAddress(LOOPBACK4, 0));
            udp.connect(new InetSocketAddress(LOOPBACK4, sink.port())); // replies must come to this port
            byte[] payload = new byte[100];
            new Random(5).nextBytes(payload);
            for (int seq = 1; seq <= 20; seq++) {
                long before100ns = System.nanoTime() / 100;
                udp.write(QlpbCodec.encode(new ProbegapProbe(seq, 4242L * seq, 0, 0, payload)));
                ByteBuffer in = ByteBuffer.allocate(2048);
                udp.read(in);
                long after100ns = System.nanoTime() / 100;
                DecodeResult r = QlpbCodec.decode(in.flip(), Transport.UDP);
                final int s = seq;
                assertThat(r).isInstanceOfSatisfying(Decoded.class, d -> assertThat(d.message())
                        .isInstanceOfSatisfying(ProbegapReflected.class, reply -> {
                            assertThat(reply.sequence()).isEqualTo(s);
                            assertThat(reply.initiatorSendTimestamp100ns()).isEqualTo(4242L * s);
                            assertThat(reply.payload()).isEqualTo(payload);
                            assertThat(reply.sinkSendTimestamp100ns()).isGreaterThanOrEqualTo(
                                    reply.sinkRecvTimestamp100ns());
                            // same JVM, same clock: the sink's timestamps lie within the round trip
                            assertThat(reply.sinkRecvTimestamp100ns()).isBetween(before100ns, after100ns);
                            assertThat(reply.sinkSendTimestamp100ns()).isBetween(before100ns, after100ns);
                        }));
            }
        }
        // counted just after each send: the last reply may arrive first
        assertThat(eventually(WAIT, () -> sink.stats().probegapsReflected() == 20)).isTrue();
        SinkStats stats = sink.stats();
        assertThat(stats.bytesOut()).isEqualTo(20 * (32 + 100));
        assertThat(stats.sessionsAccepted()).as("probegap needs no session").isZero();
    }

    @Test
    void routeCheckInOrderIsNoIssue() throws IOException {
        QosSink sink = sink4();
        TestInitiator initiator = handshake(sink, LOOPBACK4, new RouteCheckHandshake());
        for (int round = 0; round < 5; round++) {
            sendRouteCheckRound(initiator, round * 5L, 1, 2, 3, 4, 5);
            assertThat(initiator.receive()).isEqualTo(new RouteCheckSummary(Observation.NO_ISSUE));
        }
        assertThat(sink.stats().routeCheckSummaries()).isEqualTo(5);
    }

    @Test
    void finalPriorityProbeBeforeABestEffortOneIsInversion() throws IOException {
        QosSink sink = sink4();
        TestInitiator initiator = handshake(sink, LOOPBACK4, new RouteCheckHandshake());
        sendRouteCheckRound(initiator, 0, 1, 2, 3, 5, 4);
        assertThat(initiator.receive()).isEqualTo(new RouteCheckSummary(Observation.INVERSION));
    }

    @Test
    void missingOversizedFirstProbeIsLoss() throws IOException {
        QosSink sink = sink4();
        TestInitiator initiator = handshake(sink, LOOPBACK4, new RouteCheckHandshake());
        sendRouteCheckRound(initiator, 0, 2, 3, 4, 5);
        assertThat(initiator.receive()).isEqualTo(new RouteCheckSummary(Observation.LOSS));
        sendRouteCheckRound(initiator, 5, 1, 2, 3, 4, 5);
        assertThat(initiator.receive()).isEqualTo(new RouteCheckSummary(Observation.NO_ISSUE));
    }

    @Test
    void discardSessionSwallowsAndCountsEverything() throws IOException {
        QosSink sink = sink4();
        TestInitiator initiator = initiator(LOOPBACK4, sink);
        byte[] flood = new byte[300_000];
        new Random(1).nextBytes(flood);
        byte[] first = new byte[4 + 1000];
        System.arraycopy(QlpbCodecTest.bytes(QlpbCodec.encode(new Discard())), 0, first, 0, 4);
        System.arraycopy(flood, 0, first, 4, 1000); // flood bytes in the same segment as the Discard
        initiator.sendRaw(first);
        initiator.sendRaw(flood);
        // even what looks like a handshake is discarded now
        initiator.send(new PacketPairHandshake());
        long expected = 1000 + flood.length + 4;
        assertThat(eventually(WAIT, () -> sink.stats().discardedBytes() == expected))
                .as("discarded %d", sink.stats().discardedBytes()).isTrue();
        assertThat(initiator.closedBySink(Duration.ofMillis(100))).isFalse();
        SinkStats stats = sink.stats();
        assertThat(stats.bytesIn()).isEqualTo(expected + 4);
        assertThat(stats.bytesOut()).isZero();
        assertThat(stats.malformedMessages()).isZero();
    }

    @Test
    void malformedDatagramsAreCountedAndIgnored() throws IOException {
        QosSink sink = sink4();
        TestInitiator initiator = handshake(sink, LOOPBACK4, new PacketPairHandshake());
        List<byte[]> garbage = List.of(
                new byte[0],
                new byte[] {1, 0, 0},
                new byte[] {(byte) 0x96, 0, 0, 3, 0, 0, 0, 0},
                new byte[] {1, (byte) 0x80, 0, 2, 0, 1, 0, 16, 0, 0, 0, 1}, // version 2
                new byte[] {1, (byte) 0x80, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1}, // train size 1
                new byte[] {5, 0, 0, 2, 0, 0, 0, 1}); // truncated probegap
        for (byte[] g : garbage) {
            initiator.sendDatagram(g);
        }
        assertThat(eventually(WAIT, () -> sink.stats().malformedMessages() == garbage.size()))
                .as("malformed %d", sink.stats().malformedMessages()).isTrue();
        // the sink is unharmed
        sendTrain(initiator, 7, 16, 64);
        assertThat(initiator.receive()).isInstanceOf(PacketPairSummary.class);
        assertThat(sink.stats().probesReceived()).isEqualTo(16);
    }

    @Test
    void malformedOrOutOfOrderControlMessagesCloseTheirSessionOnly() throws IOException {
        QosSink sink = sink4();
        TestInitiator good = handshake(sink, LOOPBACK4, new RouteCheckHandshake());

        TestInitiator unknown = initiator(LOOPBACK4, sink);
        unknown.sendRaw(new byte[] {(byte) 0x96, 0, 0, 3}); // qWave-WD, which this sink does not speak
        assertThat(unknown.closedBySink(WAIT)).isTrue();

        TestInitiator twice = handshake(sink, LOOPBACK4, new PacketPairHandshake());
        twice.send(new PacketPairHandshake());
        assertThat(twice.closedBySink(WAIT)).isTrue();

        TestInitiator discardAfterHandshake = handshake(sink, LOOPBACK4, new RouteCheckHandshake());
        discardAfterHandshake.send(new Discard());
        assertThat(discardAfterHandshake.closedBySink(WAIT)).isTrue();

        TestInitiator sinkMessage = initiator(LOOPBACK4, sink);
        sinkMessage.send(new HandshakeSuccess());
        assertThat(sinkMessage.closedBySink(WAIT)).isTrue();

        assertThat(eventually(WAIT, () -> sink.stats().sessionsActive() == 1)).isTrue();
        SinkStats stats = sink.stats();
        assertThat(stats.malformedMessages()).isEqualTo(1);
        assertThat(stats.droppedMessages()).isEqualTo(3);
        sendRouteCheckRound(good, 0, 1, 2, 3, 4, 5);
        assertThat(good.receive()).isEqualTo(new RouteCheckSummary(Observation.NO_ISSUE));
    }

    @Test
    void sessionLimitIsEnforced() throws IOException {
        QosSink sink = sink(SinkOptions.defaults().withBindAddress(LOOPBACK4).withPort(0).withMaxSessions(2));
        TestInitiator first = handshake(sink, LOOPBACK4, new PacketPairHandshake());
        handshake(sink, LOOPBACK4, new RouteCheckHandshake());
        TestInitiator third = initiator(LOOPBACK4, sink);
        assertThat(third.closedBySink(WAIT)).isTrue();
        assertThat(sink.stats().sessionsRefused()).isEqualTo(1);
        assertThat(sink.stats().sessionsActive()).isEqualTo(2);

        first.close();
        assertThat(eventually(WAIT, () -> sink.stats().sessionsActive() == 1)).isTrue();
        handshake(sink, LOOPBACK4, new PacketPairHandshake());
        assertThat(sink.stats().sessionsAccepted()).isEqualTo(3);
    }

    @Test
    void idleTimeoutClosesAnIdleControlConnectionButProbesKeepItAlive() throws IOException {
        QosSink sink = sink(SinkOptions.defaults().withBindAddress(LOOPBACK4).withPort(0)
                .withIdleTimeout(Duration.ofMillis(300)));
        TestInitiator idle = handshake(sink, LOOPBACK4, new PacketPairHandshake());
        TestInitiator busy = handshake(sink, LOOPBACK4, new RouteCheckHandshake());
        long start = System.nanoTime();
        // probes (best-effort filler of a train that never ends) keep the route-check session alive
        for (int i = 1; i <= 8; i++) {
            busy.sendProbe(new RouteCheckProbe(busy.initiatorPort(), 0, i, false, 0));
            sleep(100);
        }
        assertThat(idle.closedBySink(Duration.ofMillis(10))).isTrue();
        assertThat(busy.closedBySink(Duration.ofMillis(10))).isFalse();
        assertThat(busy.closedBySink(Duration.ofSeconds(3))).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(800));
        assertThat(eventually(WAIT, () -> sink.stats().sessionsTimedOut() == 2)).isTrue();
        assertThat(sink.stats().sessionsActive()).as("removed before being counted").isZero();
    }

    @Test
    void ipv6LoopbackWorks() throws IOException {
        QosSink sink = sink(SinkOptions.defaults().withBindAddress(LOOPBACK6).withPort(0));
        TestInitiator pp = handshake(sink, LOOPBACK6, new PacketPairHandshake());
        sendTrain(pp, 1, 16, 1000);
        assertThat(pp.receive()).isInstanceOfSatisfying(PacketPairSummary.class,
                s -> assertThat(s.deltaCount()).isEqualTo(15));
        TestInitiator rc = handshake(sink, LOOPBACK6, new RouteCheckHandshake());
        sendRouteCheckRound(rc, 0, 1, 2, 3, 4, 5);
        assertThat(rc.receive()).isEqualTo(new RouteCheckSummary(Observation.NO_ISSUE));
        rc.sendProbe(new ProbegapProbe(1, 2, 0, 0, new byte[0]));
        ByteBuffer in = ByteBuffer.allocate(100);
        assertThat(rc.udp().receive(in)).isInstanceOfSatisfying(InetSocketAddress.class,
                from -> assertThat(from.getAddress()).isInstanceOf(Inet6Address.class));
        assertThat(QlpbCodec.decode(in.flip(), Transport.UDP)).isInstanceOf(Decoded.class);
    }

    @Test
    void defaultBindIsDualStack() throws IOException {
        QosSink sink = sink(SinkOptions.defaults().withPort(0));
        assertThat(sink.localAddress().getAddress().isAnyLocalAddress()).isTrue();
        for (InetAddress host : List.of(LOOPBACK4, LOOPBACK6)) {
            TestInitiator pp = handshake(sink, host, new PacketPairHandshake());
            sendTrain(pp, 1, 4, 10);
            assertThat(pp.receive()).as("via %s", host).isInstanceOf(PacketPairSummary.class);
        }
    }

    @Test
    void portZeroBindsTcpAndUdpOnOnePortAndATakenPortFails() throws IOException {
        QosSink sink = sink4();
        int port = sink.port();
        assertThat(port).isPositive();
        assertThat(sink.localAddress()).isEqualTo(new InetSocketAddress(LOOPBACK4, port));
        // both are really taken
        assertThatThrownBy(() -> new ServerSocket(port, 1, LOOPBACK4).close()).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> new DatagramSocket(new InetSocketAddress(LOOPBACK4, port)).close())
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> QosSink.start(SinkOptions.defaults().withBindAddress(LOOPBACK4).withPort(port)))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.error()).isEqualTo(QosError.IO_DEVICE));
        assertThatThrownBy(() -> QosSink.start(null)).isInstanceOf(QosException.class);
        assertThatThrownBy(() -> SinkOptions.defaults().withMaxSessions(0)).isInstanceOf(QosException.class);
        assertThatThrownBy(() -> SinkOptions.defaults().withPort(65_536)).isInstanceOf(QosException.class);
        assertThatThrownBy(() -> SinkOptions.defaults().withIdleTimeout(Duration.ZERO))
                .isInstanceOf(QosException.class);
    }

    @Test
    void closeIsIdempotentAndAwaitable() throws Exception {
        QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(LOOPBACK4).withPort(0));
        assertThat(sink.isOpen()).isTrue();
        assertThat(sink.awaitClose(Duration.ofMillis(10))).isFalse();
        Thread closer = Thread.ofVirtual().start(sink::close);
        sink.awaitClose();
        closer.join();
        sink.close();
        assertThat(sink.isOpen()).isFalse();
        assertThat(sink.toString()).contains("closed");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
