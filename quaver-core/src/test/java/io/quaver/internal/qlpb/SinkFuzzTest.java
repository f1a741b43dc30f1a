package io.quaver.internal.qlpb;

import io.quaver.SinkOptions;
import io.quaver.SinkStats;
import io.quaver.internal.qlpb.DecodeResult.Decoded;
import io.quaver.internal.qlpb.DecodeResult.Rejected;
import io.quaver.internal.qlpb.QlpbMessage.AuthenticatedHandshake;
import io.quaver.internal.qlpb.QlpbMessage.HandshakeSuccess;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairHandshake;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairProbe;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairSummary;
import io.quaver.internal.qlpb.QlpbMessage.ProbegapProbe;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckHandshake;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/// Every decoder fuzzed for a bounded time (CI: `quaver.fuzz.millis`, default 3 s per
/// target), with seeded random and mutated valid messages:
/// * the live sink over loopback: datagrams (some aimed at real packet-pair and route-check
///   sessions, so the train and route-check state machines are fuzzed too) and TCP streams
///   (some behind a valid or authenticated handshake); afterwards no unexpected exception was
///   caught inside the sink, the rejects were counted, and it still answers a valid probegap
///   probe and a valid packet-pair train;
/// * the authenticated-handshake verifier on random and mutated handshakes.
///
/// The seed is printed; a failure names it (re-run with `-Dquaver.fuzz.seed=S`).
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SinkFuzzTest {
    private static final InetAddress LO = QosSinkTest.LOOPBACK4;
    private static final long BUDGET_NS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("quaver.fuzz.millis", 3_000));
    private static final long SEED = Long.getLong("quaver.fuzz.seed", 0x51_4B_F0_22L);

    private static RandomGenerator random(long salt) {
        System.out.println("SinkFuzzTest seed " + (SEED ^ salt));
        return RandomGeneratorFactory.of("L64X128MixRandom").create(SEED ^ salt);
    }

    private static SinkEngine openSink(SinkOptions extra) throws IOException {
        return SinkEngine.start(extra.withBindAddress(LO).withPort(0).withMaxSessions(256)
                .withMaxSessionsPerSource(256).withSourceHandshakesPerSecond(10_000)
                .withSourceRate(10_000_000_000L, 64L << 20).withIdleTimeout(Duration.ofSeconds(5)));
    }

    @Test
    void datagramsAndStreamsNeverBreakTheSink() throws Exception {
        try (SinkEngine sink = openSink(SinkOptions.defaults());
             TestInitiator pp = new TestInitiator(LO, sink.port());
             TestInitiator rc = new TestInitiator(LO, sink.port())) {
            pp.send(new PacketPairHandshake());
            assertThat(pp.receive()).isEqualTo(new HandshakeSuccess());
            rc.send(new RouteCheckHandshake());
            assertThat(rc.receive()).isEqualTo(new HandshakeSuccess());
            RandomGenerator random = random(1);
            long datagrams = fuzzDatagrams(sink, pp, rc, random);
            long streams = fuzzStreams(sink, random);
            System.out.println("SinkFuzzTest: " + datagrams + " datagrams, " + streams + " TCP streams; "
                    + sink.stats());

            assertServes(sink);
            SinkStats stats = sink.stats();
            assertThat(stats.malformedMessages()).as("rejects are counted").isPositive();
            assertThat(stats.droppedMessages()).isPositive();
            assertThat(sink.unexpectedFailures()).as("exceptions caught inside the sink").isZero();
            assertThat(sink.isOpen()).isTrue();
        }
    }

    @Test
    void anAuthenticatingSinkSurvivesFuzzedHandshakes() throws Exception {
        try (SinkEngine sink = openSink(SinkOptions.defaults().withSecret(HandshakeAuthTest.SECRET))) {
            RandomGenerator random = random(2);
            HandshakeAuth signer = new HandshakeAuth(HandshakeAuthTest.SECRET);
            long deadline = System.nanoTime() + BUDGET_NS / 2;
            int n = 0;
            while (System.nanoTime() < deadline) {
                AuthenticatedHandshake valid = signer.sign(random.nextBoolean() ? QlpbCodec.ID_PACKET_PAIR
                        : QlpbCodec.ID_ROUTE_CHECK, System.currentTimeMillis(), random);
                byte[] bytes = QlpbCodecTest.bytes(QlpbCodec.encode(valid));
                sendStream(sink, QlpbCodecFuzzTest.mutate(bytes, random), random);
                n++;
            }
            System.out.println("SinkFuzzTest: " + n + " fuzzed authenticated handshakes; " + sink.stats());
            assertThat(sink.unexpectedFailures()).isZero();
            assertThat(sink.stats().authFailures() + sink.stats().malformedMessages()).isPositive();
            // a valid authenticated handshake is still served
            try (TestInitiator ok = new TestInitiator(LO, sink.port())) {
                ok.send(signer.sign(QlpbCodec.ID_PACKET_PAIR, System.currentTimeMillis()));
                assertThat(ok.receive()).isEqualTo(new HandshakeSuccess());
            }
        }
    }

    @Test
    void theVerifierNeverThrowsOnFuzzedHandshakes() {
        RandomGenerator random = random(3);
        HandshakeAuth verifier = new HandshakeAuth(HandshakeAuthTest.SECRET);
        HandshakeAuth signer = new HandshakeAuth(HandshakeAuthTest.SECRET);
        long deadline = System.nanoTime() + BUDGET_NS / 2;
        long ok = 0;
        long n = 0;
        while (System.nanoTime() < deadline) {
            long now = 1_790_000_000_000L + random.nextLong(0, 1_000_000);
            byte[] bytes = QlpbCodecTest.bytes(QlpbCodec.encode(signer.sign(QlpbCodec.ID_PACKET_PAIR, now, random)));
            byte[] mutated = QlpbCodecFuzzTest.mutate(bytes, random);
            DecodeResult r = QlpbCodec.decode(ByteBuffer.wrap(mutated), Transport.TCP);
            if (r instanceof Decoded(AuthenticatedHandshake h)) {
                HandshakeAuth.Verdict v = verifier.verify(h, now);
                if (v == HandshakeAuth.Verdict.OK) {
                    ok++;
                    // the reserved byte and the other flag bits are ignored on receipt, as in [MS-QLPB]
                    byte[] normalised = mutated.clone();
                    normalised[1] = bytes[1];
                    normalised[2] = bytes[2];
                    assertThat(normalised).as("only an unmodified handshake verifies").isEqualTo(bytes);
                }
            } else {
                assertThat(r).isNotNull();
            }
            n++;
        }
        assertThat(n).isPositive();
        assertThat(ok).isLessThanOrEqualTo(n);
    }

    private static long fuzzDatagrams(SinkEngine sink, TestInitiator pp, TestInitiator rc, RandomGenerator random)
            throws IOException {
        long deadline = System.nanoTime() + BUDGET_NS;
        long n = 0;
        InetSocketAddress to = new InetSocketAddress(LO, sink.port());
        while (System.nanoTime() < deadline) {
            QlpbMessage message = switch (random.nextInt(4)) {
                case 0 -> new PacketPairProbe(pp.initiatorPort(), random.nextInt(2, 40), random.nextLong(0, 64),
                        random.nextInt(8) == 0, random.nextInt(0, 64));
                case 1 -> new RouteCheckProbe(rc.initiatorPort(), random.nextBoolean() ? 0 : 5, random.nextLong(0, 16),
                        random.nextBoolean(), random.nextInt(0, 64));
                default -> QlpbCodecFuzzTest.randomMessage(random);
            };
            byte[] bytes = QlpbCodecTest.bytes(QlpbCodec.encode(message));
            byte[] datagram = random.nextInt(4) == 0 ? bytes : QlpbCodecFuzzTest.mutate(bytes, random);
            pp.udp().send(ByteBuffer.wrap(datagram), to);
            n++;
            if ((n & 255) == 0) {
                drainReplies(pp);
            }
        }
        drainReplies(pp);
        return n;
    }

    /// Reads and drops reflections so the test's socket buffer never fills.
    private static void drainReplies(TestInitiator initiator) throws IOException {
        initiator.udp().configureBlocking(false);
        ByteBuffer b = ByteBuffer.allocate(65_536);
        while (initiator.udp().receive(b.clear()) != null) {
            b.clear();
        }
        initiator.udp().configureBlocking(true);
    }

    private static long fuzzStreams(SinkEngine sink, RandomGenerator random) throws IOException {
        long deadline = System.nanoTime() + BUDGET_NS;
        long n = 0;
        while (System.nanoTime() < deadline) {
            int parts = random.nextInt(1, 4);
            ByteBuffer stream = ByteBuffer.allocate(4_096);
            for (int k = 0; k < parts; k++) {
                QlpbMessage m = QlpbCodecFuzzTest.randomMessage(random);
                byte[] bytes = QlpbCodecTest.bytes(QlpbCodec.encode(m));
                byte[] part = random.nextInt(3) == 0 ? bytes : QlpbCodecFuzzTest.mutate(bytes, random);
                if (stream.remaining() >= part.length) {
                    stream.put(part);
                }
            }
            byte[] all = new byte[stream.position()];
            stream.flip().get(all);
            sendStream(sink, all, random);
            n++;
        }
        return n;
    }

    /// One connection: the bytes in random chunks, then closed (or left to the sink).
    private static void sendStream(SinkEngine sink, byte[] bytes, RandomGenerator random) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(LO, sink.port()), 5_000);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            int at = 0;
            while (at < bytes.length) {
                int len = Math.min(bytes.length - at, random.nextInt(1, 40));
                out.write(bytes, at, len);
                at += len;
            }
            out.flush();
        } catch (IOException e) {
            // the sink may have closed a connection it rejected while we were writing
        }
    }

    /// After the fuzz: a probegap probe is reflected and a packet-pair train summarised.
    private static void assertServes(SinkEngine sink) throws IOException {
        try (TestInitiator t = new TestInitiator(LO, sink.port())) {
            drainReplies(t);
            t.udp().connect(new InetSocketAddress(LO, sink.port()));
            t.udp().write(QlpbCodec.encode(new ProbegapProbe(7, 42, 0, 0, new byte[16])));
            ByteBuffer in = ByteBuffer.allocate(2048);
            t.udp().read(in);
            DecodeResult r = QlpbCodec.decode(in.flip(), Transport.UDP);
            assertThat(r).isInstanceOf(Decoded.class);
            assertThat(((Decoded) r).message()).isInstanceOf(QlpbMessage.ProbegapReflected.class);

            t.send(new PacketPairHandshake());
            assertThat(t.receive()).isEqualTo(new HandshakeSuccess());
            for (int i = 0; i < 8; i++) {
                t.udp().write(QlpbCodec.encode(new PacketPairProbe(t.initiatorPort(), 8, 500 + i, i == 0, 100)));
            }
            QlpbMessage summary = t.receive();
            if (!(summary instanceof PacketPairSummary s) || s.deltaCount() != 7) {
                fail("expected a 7-delta summary after the fuzz, got " + summary);
            }
        }
        assertThat(Rejected.class).isNotNull();
    }
}
