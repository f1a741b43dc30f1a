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
            int served = 0;
            for (int i = 0; i < 12; i++) {
                try (MeteredPeer p = new MeteredPeer(SOURCE_A, at(sink), true)) {
                    p.send(new PacketPairHandshake());
                    p.drain(Duration.ofMillis(20));
                    served += p.tcpMessages().isEmpty() ? 0 : 1;
                }
            }
            // a burst of 3 plus what 3/s refills during the loop (a slow host may take ~2 s)
            assertThat(served).isBetween(3, 9);
            assertThat(sink.stats().rateLimitedConnections()).isEqualTo(12 - served);
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
            for (int i = 0; i < 2_000; i++) {
                flooder.sendProbe(new ProbegapProbe(i, i, 0, 0, payload));
                if (i % 100 == 0) {
                    good.sendProbe(new ProbegapProbe(i, i, 0, 0, new byte[100]));
                }
            }
            flooder.drain(QUIET);
            good.drain(QUIET);
            assertThat(good.datagramsReceived).as("every probe of the well-behaved source").isEqualTo(20);
            // 64 kB burst + 8 kB/s for the duration of the loop (well under 5 s)
            assertThat(flooder.datagramsReceived).isBetween(60, 66 + 40);
            assertThat(sink.stats().rateLimitedDatagrams()).isEqualTo(2_000 - flooder.datagramsReceived);
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
