package io.quaver.internal.qlpb;

import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.SinkStats;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/// No amplification: for every message type the sink answers (and for what it must not
/// answer), the bytes it sends back to an unauthenticated peer are at most the bytes that
/// peer sent, counted at the peer's sockets (TCP payload plus UDP datagrams) and in the
/// sink's own counters.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SinkAmplificationTest {
    private static final InetAddress LO = QosSinkTest.LOOPBACK4;
    private static final Duration QUIET = Duration.ofMillis(150);
    private static QosSink sink;
    private static QosSink authSink;
    private static final Map<String, long[]> TABLE = new LinkedHashMap<>();

    @BeforeAll
    static void start() {
        sink = QosSink.start(SinkOptions.defaults().withBindAddress(LO).withPort(0));
        authSink = QosSink.start(SinkOptions.defaults().withBindAddress(LO).withPort(0)
                .withSecret(HandshakeAuthTest.SECRET));
    }

    @AfterAll
    static void stop() {
        System.out.printf("%-44s %10s %10s%n", "message type (unauthenticated peer)", "bytes in", "bytes out");
        TABLE.forEach((k, v) -> System.out.printf("%-44s %10d %10d%n", k, v[0], v[1]));
        sink.close();
        authSink.close();
    }

    private static InetSocketAddress at(QosSink s) {
        return new InetSocketAddress(LO, s.port());
    }

    /// Records and checks one exchange; returns the peer for further assertions.
    private static MeteredPeer measure(String type, MeteredPeer peer) throws IOException {
        peer.drain(QUIET);
        TABLE.put(type, new long[] {peer.bytesSent, peer.bytesReceived});
        assertThat(peer.bytesReceived).as(type + ": bytes out of the sink <= bytes into it")
                .isLessThanOrEqualTo(peer.bytesSent);
        return peer;
    }

    @Test
    void controlMessagesAreAnsweredWithAtMostTheirSize() throws IOException {
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), true)) {
            p.send(new PacketPairHandshake());
            measure("0x01 packet-pair handshake (TCP)", p);
            assertThat(p.tcpMessages()).containsExactly(new HandshakeSuccess());
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), true)) {
            p.send(new RouteCheckHandshake());
            measure("0x02 route-check handshake (TCP)", p);
            assertThat(p.bytesReceived).isEqualTo(4);
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), true)) {
            p.send(new HandshakeAuth(HandshakeAuthTest.SECRET).sign(QlpbCodec.ID_PACKET_PAIR,
                    System.currentTimeMillis()));
            measure("0x01+auth handshake to a sink without secret", p);
            assertThat(p.tcpMessages()).containsExactly(new HandshakeSuccess());
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), true)) {
            p.send(new Discard());
            p.sendTcp(new byte[100_000]);
            measure("0x00 discard + 100 kB flood (TCP)", p);
            assertThat(p.bytesReceived).isZero();
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), true)) {
            p.sendTcp(new byte[] {(byte) 0x96, 0, 0, 1, 2, 3, 4, 5});
            measure("unknown id / garbage (TCP)", p);
            assertThat(p.bytesReceived).isZero();
            assertThat(p.closedBySink).isTrue();
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), true)) {
            p.send(new RouteCheckSummary(Observation.NO_ISSUE)); // a sink's message from an initiator
            measure("0x14/0x0A/0x1E sink messages sent to the sink", p);
            assertThat(p.bytesReceived).isZero();
        }
    }

    @Test
    void authenticatingSinkAnswersNothingToUnauthenticatedHandshakes() throws IOException {
        long failures = authSink.stats().authFailures();
        try (MeteredPeer p = new MeteredPeer(LO, at(authSink), true)) {
            p.send(new PacketPairHandshake());
            measure("0x01 plain handshake to a sink with secret", p);
            assertThat(p.bytesReceived).isZero();
            assertThat(p.closedBySink).isTrue();
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(authSink), true)) {
            p.send(new HandshakeAuth(HandshakeAuthTest.OTHER).sign(QlpbCodec.ID_ROUTE_CHECK,
                    System.currentTimeMillis()));
            measure("0x02+auth, wrong key, to a sink with secret", p);
            assertThat(p.bytesReceived).isZero();
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(authSink), true)) {
            p.send(new HandshakeAuth(HandshakeAuthTest.SECRET).sign(QlpbCodec.ID_ROUTE_CHECK,
                    System.currentTimeMillis()));
            measure("0x02+auth, right key, to a sink with secret", p);
            assertThat(p.tcpMessages()).containsExactly(new HandshakeSuccess());
        }
        assertThat(TestInitiator.eventually(Duration.ofSeconds(5),
                () -> authSink.stats().authFailures() == failures + 2)).isTrue();
    }

    @Test
    void packetPairTrainsOfTheSmallestProbesAreSummarisedWithinTheirSize() throws IOException {
        for (int n : new int[] {2, 3, 16, 200}) {
            try (MeteredPeer p = new MeteredPeer(LO, at(sink), true)) {
                p.send(new PacketPairHandshake());
                p.drain(QUIET);
                for (int i = 0; i < n; i++) {
                    p.sendProbe(new PacketPairProbe(p.initiatorPort(), n, 1000 + i, i == 0, 0));
                }
                measure("0x01 train of " + n + " 12-byte probes (UDP) + handshake", p);
                assertThat(p.tcpMessages()).hasSize(2).last().isInstanceOfSatisfying(PacketPairSummary.class,
                        s -> assertThat(s.deltaCount()).isEqualTo(n - 1));
            }
        }
    }

    @Test
    void routeCheckAndProbegapAreNotAmplified() throws IOException {
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), true)) {
            p.send(new RouteCheckHandshake());
            p.drain(QUIET);
            for (int k = 1; k <= 5; k++) {
                p.sendProbe(new RouteCheckProbe(p.initiatorPort(), k == 5 ? 5 : 0, 10 + k, k == 1, 0));
            }
            measure("0x02 route-check train of 5 (UDP) + handshake", p);
            assertThat(p.tcpMessages()).hasSize(2).last().isInstanceOf(RouteCheckSummary.class);
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), false)) {
            for (int len : new int[] {0, 1, 100, 1400}) {
                p.sendProbe(new ProbegapProbe(len, 77, 0, 0, new byte[len]));
            }
            measure("0x05 probegap, payload 0..1400 (UDP)", p);
            assertThat(p.datagramsReceived).isEqualTo(4);
            assertThat(p.bytesReceived).isEqualTo(p.bytesSent);
        }
        try (MeteredPeer p = new MeteredPeer(LO, at(sink), false)) {
            p.sendProbe(new ProbegapReflected(1, 2, 3, 4, new byte[10]));
            p.sendProbe(new PacketPairProbe(40_000, 16, 1, true, 100)); // no session
            p.sendProbe(new RouteCheckProbe(40_000, 5, 1, false, 100)); // no session
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < 200; i++) {
                byte[] junk = new byte[random.nextInt(0, 200)];
                random.nextBytes(junk);
                p.sendDatagram(junk);
            }
            measure("0x06 / sessionless probes / random datagrams", p);
            assertThat(p.bytesReceived).as("probegap reflection aside, nothing answers a datagram")
                    .isLessThanOrEqualTo(p.bytesSent / 10);
        }
        SinkStats stats = sink.stats();
        assertThat(stats.bytesOut()).isLessThanOrEqualTo(stats.bytesIn());
        assertThat(stats.repliesSuppressed()).as("a well-formed peer never meets the reply budget").isZero();
    }
}
