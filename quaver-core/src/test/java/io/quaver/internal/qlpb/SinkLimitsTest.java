package io.quaver.internal.qlpb;

import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.internal.qlpb.QlpbMessage.HandshakeSuccess;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairHandshake;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairProbe;
import io.quaver.internal.qlpb.QlpbMessage.ProbegapProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.quaver.internal.qlpb.TestInitiator.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The sink's per-source bounds over loopback, where 127.0.0.2 and 127.0.0.3 are two sources.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SinkLimitsTest {
    private static final InetAddress LO = QosSinkTest.LOOPBACK4;
    private static final InetAddress SOURCE_A = QosSinkTest.address("127.0.0.2");
    private static final InetAddress SOURCE_B = QosSinkTest.address("127.0.0.3");
    private static final Duration QUIET = Duration.ofMillis(150);

    private static InetSocketAddress at(QosSink s) {
        return new InetSocketAddress(LO, s.port());
    }

    private static void closeAll(List<MeteredPeer> peers) throws IOException {
        for (MeteredPeer p : peers) {
            p.close();
        }
    }

    /// The datagrams the sink has dealt with: reflected or refused by the rate limit.
    private static long handled(QosSink sink) {
        return sink.stats().probegapsReflected() + sink.stats().rateLimitedDatagrams();
    }

    @Test
    void sessionsPerSourceAreCappedAndOtherSourcesAreStillServed() throws IOException {
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(LO).withPort(0)
                .withMaxSessionsPerSource(3).withSourceHandshakesPerSecond(1_000))) {
            List<MeteredPeer> flood = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    MeteredPeer p = new MeteredPeer(SOURCE_A, at(sink), true);
                    flood.add(p);
                    p.send(new PacketPairHandshake());
                }
                int served = 0;
                for (MeteredPeer p : flood) {
                    p.drain(QUIET);
                    served += p.tcpMessages().contains(new HandshakeSuccess()) ? 1 : 0;
                }
                assertThat(served).isEqualTo(3);
                try (MeteredPeer other = new MeteredPeer(SOURCE_B, at(sink), true)) {
                    other.send(new PacketPairHandshake());
                    other.drain(QUIET);
                    assertThat(other.tcpMessages()).containsExactly(new HandshakeSuccess());
                }
                assertThat(sink.stats().rateLimitedConnections()).isEqualTo(3);
                assertThat(sink.stats().sessionsRefused()).isEqualTo(3);
            } finally {
                closeAll(flood);
            }
            // closed sessions give the source its slots back
            assertThat(eventually(Duration.ofSeconds(5), () -> sink.stats().sessionsActive() == 0)).isTrue();
            try (MeteredPeer again = new MeteredPeer(SOURCE_A, at(sink), true)) {
                again.send(new PacketPairHandshake());
                again.drain(QUIET);
                assertThat(again.tcpMessages()).containsExactly(new HandshakeSuccess());
            }
        }
    }

    @Test
    void aHandshakeFloodIsRateLimitedPerSource() throws IOException {
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(LO).withPort(0)
                .withSourceHandshakesPerSecond(3))) {
            int attempts = 12;
            int served = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < attempts; i++) {
                try (MeteredPeer p = new MeteredPeer(SOURCE_A, at(sink), true)) {
                    p.send(new PacketPairHandshake());
                    p.drain(Duration.ofMillis(20));
                    served += p.tcpMessages().isEmpty() ? 0 : 1;
                }
            }
            // the sink decides on each connection when it accepts it, which a loaded host may
            // delay past the peer's 20 ms wait: count what the sink decided
            assertThat(eventually(Duration.ofSeconds(10), () -> sink.stats().sessionsAccepted()
                    + sink.stats().rateLimitedConnections() == attempts)).as("every connection decided").isTrue();
            long floodNs = System.nanoTime() - t0;
            long accepted = sink.stats().sessionsAccepted();
            // a burst of 3 plus what 3/s refilled while the sink was accepting
            assertThat(accepted).isBetween(3L, 3 + 3 * floodNs / 1_000_000_000L + 1);
            assertThat(served).as("answered within 20 ms").isLessThanOrEqualTo((int) accepted);
            assertThat(sink.stats().rateLimitedConnections()).isEqualTo(attempts - accepted);
            try (MeteredPeer other = new MeteredPeer(SOURCE_B, at(sink), true)) {
                other.send(new PacketPairHandshake());
                other.drain(QUIET);
                assertThat(other.tcpMessages()).containsExactly(new HandshakeSuccess());
            }
        }
    }

    @Test
    void aDatagramFloodIsRateLimitedPerSourceWhileAnotherSourceIsReflected() throws IOException {
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(LO).withPort(0)
                .withSourceRate(64_000, 65_535));
             MeteredPeer flooder = new MeteredPeer(SOURCE_A, at(sink), false);
             MeteredPeer good = new MeteredPeer(SOURCE_B, at(sink), false)) {
            byte[] payload = new byte[1_000 - QlpbCodec.PROBEGAP_HEADER_BYTES];
            int floodProbes = 2_000;
            int goodProbes = floodProbes / 100;
            long t0 = System.nanoTime();
            for (int i = 0; i < floodProbes; i++) {
                flooder.sendProbe(new ProbegapProbe(i, i, 0, 0, payload));
                if (i % 100 == 0) {
                    good.sendProbe(new ProbegapProbe(i, i, 0, 0, new byte[100]));
                    // far above 64 kbit/s still, but never more than the sink's receive buffer
                    // holds: a stalled sink must not lose datagrams in the kernel, unaccounted
                    int sent = i + 1 + i / 100 + 1;
                    assertThat(eventually(Duration.ofSeconds(10), () -> handled(sink) >= sent - 100)).isTrue();
                }
            }
            assertThat(eventually(Duration.ofSeconds(10), () -> handled(sink) == floodProbes + goodProbes)).isTrue();
            long floodNs = System.nanoTime() - t0;
            assertThat(eventually(Duration.ofSeconds(10), () -> {
                try {
                    flooder.drain(Duration.ofMillis(5));
                    good.drain(Duration.ofMillis(5));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return flooder.datagramsReceived + good.datagramsReceived == sink.stats().probegapsReflected();
            })).as("every reflection read").isTrue();
            assertThat(good.datagramsReceived).as("every probe of the well-behaved source").isEqualTo(goodProbes);
            // the 64 kB burst (65 datagrams of 1,000 bytes) + 8 kB/s for as long as the flood lasted
            assertThat(flooder.datagramsReceived).isBetween(60, 66 + (int) (8 * floodNs / 1_000_000_000L) + 1);
            assertThat(sink.stats().rateLimitedDatagrams()).isEqualTo(floodProbes - flooder.datagramsReceived);
        }
    }

    @Test
    void trainsLongerThanTheLimitAreIgnored() throws IOException {
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(LO).withPort(0)
                .withMaxTrainProbes(8));
             MeteredPeer p = new MeteredPeer(SOURCE_A, at(sink), true)) {
            p.send(new PacketPairHandshake());
            p.drain(QUIET);
            for (int i = 0; i < 9; i++) {
                p.sendProbe(new PacketPairProbe(p.initiatorPort(), 9, i, i == 0, 0));
            }
            for (int i = 0; i < 8; i++) {
                p.sendProbe(new PacketPairProbe(p.initiatorPort(), 8, 100 + i, i == 0, 0));
            }
            p.drain(QUIET);
            assertThat(p.tcpMessages()).hasSize(2); // handshake success + the 8-probe summary only
            assertThat(sink.stats().packetPairTrains()).isEqualTo(1);
            assertThat(sink.stats().droppedMessages()).isGreaterThanOrEqualTo(9);
        }
    }

    @Test
    void badLimitsAreRefusedWith87() {
        SinkOptions d = SinkOptions.defaults();
        List<ThrowingCallable> bad = List.of(
                () -> d.withMaxSessionsPerSource(0),
                () -> d.withMaxSessions(4).withMaxSessionsPerSource(5),
                () -> d.withSourceHandshakesPerSecond(0),
                () -> d.withSourceHandshakesPerSecond(10_001),
                () -> d.withSourceRate(63_999, 1 << 20),
                () -> d.withSourceRate(1_000_000, 1_000),
                () -> d.withSourceRate(1_000_000, 65L << 20),
                () -> d.withMaxTrainProbes(1),
                () -> d.withMaxTrainProbes(65_536));
        for (ThrowingCallable c : bad) {
            assertThatThrownBy(c).isInstanceOf(QosException.class)
                    .extracting(e -> ((QosException) e).error()).isEqualTo(QosError.INVALID_PARAMETER);
        }
        assertThat(d.withMaxSessions(4).maxSessionsPerSource()).isEqualTo(4);
        assertThat(d.secret()).isNull();
    }
}
