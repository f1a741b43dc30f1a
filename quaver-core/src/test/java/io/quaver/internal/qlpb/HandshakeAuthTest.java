package io.quaver.internal.qlpb;

import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.SharedSecret;
import io.quaver.internal.qlpb.DecodeResult.Decoded;
import io.quaver.internal.qlpb.HandshakeAuth.Verdict;
import io.quaver.internal.qlpb.QlpbMessage.AuthenticatedHandshake;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The HMAC handshake authentication, pure (times are arguments).
class HandshakeAuthTest {
    static final SharedSecret SECRET = SharedSecret.of("0123456789abcdef-test".getBytes(StandardCharsets.US_ASCII));
    static final SharedSecret OTHER = SharedSecret.of("fedcba9876543210-test".getBytes(StandardCharsets.US_ASCII));
    private static final long NOW_MS = 1_790_000_000_000L;

    @Test
    void aSignedHandshakeVerifiesOnceAndRoundTripsThroughTheCodec() {
        HandshakeAuth initiator = new HandshakeAuth(SECRET);
        HandshakeAuth sink = new HandshakeAuth(SECRET);
        AuthenticatedHandshake h = initiator.sign(QlpbCodec.ID_PACKET_PAIR, NOW_MS, new SplittableRandom(1));
        byte[] wire = QlpbCodecTest.bytes(QlpbCodec.encode(h));
        assertThat(wire).hasSize(QlpbCodec.AUTH_HANDSHAKE_BYTES);
        assertThat(wire[1]).isEqualTo((byte) QlpbCodec.FLAG_AUTHENTICATED);
        QlpbStreamDecoder decoder = new QlpbStreamDecoder(1);
        decoder.feed(wire, 0, 30);
        assertThat(decoder.poll()).as("half a frame").isNull();
        decoder.feed(wire, 30, wire.length - 30);
        assertThat(decoder.poll()).isEqualTo(new Decoded(h));
        assertThat(sink.verify(h, NOW_MS + 500)).isEqualTo(Verdict.OK);
        assertThat(sink.verify(h, NOW_MS + 600)).as("replay").isEqualTo(Verdict.REPLAYED);
    }

    @Test
    void wrongKeyTamperingStaleAndFutureTimestampsAreRefused() {
        HandshakeAuth sink = new HandshakeAuth(SECRET);
        AuthenticatedHandshake good = new HandshakeAuth(SECRET).sign(QlpbCodec.ID_ROUTE_CHECK, NOW_MS);
        AuthenticatedHandshake wrongKey = new HandshakeAuth(OTHER).sign(QlpbCodec.ID_ROUTE_CHECK, NOW_MS);
        assertThat(sink.verify(wrongKey, NOW_MS)).isEqualTo(Verdict.BAD_MAC);
        // the type is covered by the MAC
        AuthenticatedHandshake retyped = new AuthenticatedHandshake(QlpbCodec.ID_PACKET_PAIR, good.timestampMs(),
                good.nonce(), good.mac());
        assertThat(sink.verify(retyped, NOW_MS)).isEqualTo(Verdict.BAD_MAC);
        AuthenticatedHandshake shifted = new AuthenticatedHandshake(QlpbCodec.ID_ROUTE_CHECK, good.timestampMs() + 1,
                good.nonce(), good.mac());
        assertThat(sink.verify(shifted, NOW_MS)).isEqualTo(Verdict.BAD_MAC);
        assertThat(sink.verify(good, NOW_MS + HandshakeAuth.WINDOW_MS + 1)).isEqualTo(Verdict.STALE);
        assertThat(sink.verify(good, NOW_MS - HandshakeAuth.WINDOW_MS - 1)).isEqualTo(Verdict.STALE);
        assertThat(sink.verify(good, NOW_MS + HandshakeAuth.WINDOW_MS)).isEqualTo(Verdict.OK);
    }

    @Test
    void secretsAreValidatedAndReadFromFiles(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> SharedSecret.of(new byte[15])).isInstanceOf(QosException.class)
                .extracting(e -> ((QosException) e).error()).isEqualTo(QosError.INVALID_PARAMETER);
        assertThatThrownBy(() -> SharedSecret.of(null)).isInstanceOf(QosException.class);
        assertThatThrownBy(() -> SharedSecret.fromFile(dir.resolve("missing"))).isInstanceOf(QosException.class)
                .extracting(e -> ((QosException) e).error()).isEqualTo(QosError.INVALID_PARAMETER);
        Path f = dir.resolve("secret");
        Files.writeString(f, "0123456789abcdef-test\n");
        assertThat(SharedSecret.fromFile(f)).isEqualTo(SECRET).isNotEqualTo(OTHER);
        assertThat(SECRET.toString()).doesNotContain("0123");
    }
}
