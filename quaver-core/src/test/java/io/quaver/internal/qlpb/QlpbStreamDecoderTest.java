package io.quaver.internal.qlpb;

import io.quaver.internal.qlpb.DecodeResult.Decoded;
import io.quaver.internal.qlpb.DecodeResult.Rejected;
import io.quaver.internal.qlpb.QlpbMessage.Discard;
import io.quaver.internal.qlpb.QlpbMessage.HandshakeSuccess;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairHandshake;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairSummary;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckHandshake;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckSummary;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import static org.assertj.core.api.Assertions.assertThat;

/// TCP framing: messages come out whole whatever the read boundaries; bad headers are
/// rejected early and the rejection sticks.
class QlpbStreamDecoderTest {
    private static final List<QlpbMessage> CONVERSATION = List.of(
            new PacketPairHandshake(),
            new HandshakeSuccess(),
            new PacketPairSummary(1, 100_000_000, deltas(15)),
            new RouteCheckHandshake(),
            new RouteCheckSummary(Observation.INVERSION),
            new PacketPairSummary(17, 0, deltas(1)),
            new PacketPairSummary(33, 4_000_000_000L, deltas(2000)),
            new RouteCheckSummary(Observation.NO_ISSUE),
            new Discard());

    private static long[] deltas(int n) {
        long[] d = new long[n];
        for (int i = 0; i < n; i++) {
            d[i] = 1_000 + i;
        }
        return d;
    }

    private static byte[] stream(List<QlpbMessage> messages) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (QlpbMessage m : messages) {
            out.writeBytes(QlpbCodecTest.bytes(QlpbCodec.encode(m)));
        }
        return out.toByteArray();
    }

    @Test
    void byteByByte() {
        byte[] bytes = stream(CONVERSATION);
        QlpbStreamDecoder decoder = new QlpbStreamDecoder();
        List<QlpbMessage> decoded = new ArrayList<>();
        for (byte b : bytes) {
            decoder.feed(new byte[] {b}, 0, 1);
            for (DecodeResult r = decoder.poll(); r != null; r = decoder.poll()) {
                decoded.add(((Decoded) r).message());
            }
        }
        assertThat(decoded).containsExactlyElementsOf(CONVERSATION);
        assertThat(decoder.buffered()).isZero();
        assertThat(decoder.failed()).isFalse();
    }

    @Test
    void randomChunksWithFixedSeeds() {
        byte[] bytes = stream(CONVERSATION);
        for (long seed : new long[] {1, 2, 3, 42, 2177, 0xC0FFEE}) {
            RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
            QlpbStreamDecoder decoder = new QlpbStreamDecoder();
            List<QlpbMessage> decoded = new ArrayList<>();
            int at = 0;
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, random.nextInt(1, 40));
                if (random.nextBoolean()) {
                    decoder.feed(ByteBuffer.wrap(bytes, at, n));
                } else {
                    decoder.feed(bytes, at, n);
                }
                at += n;
                for (DecodeResult r = decoder.poll(); r != null; r = decoder.poll()) {
                    decoded.add(((Decoded) r).message());
                }
            }
            assertThat(decoded).as("seed %d", seed).containsExactlyElementsOf(CONVERSATION);
        }
    }

    @Test
    void everythingAtOnce() {
        QlpbStreamDecoder decoder = new QlpbStreamDecoder();
        decoder.feed(ByteBuffer.wrap(stream(CONVERSATION)));
        List<QlpbMessage> decoded = new ArrayList<>();
        for (DecodeResult r = decoder.poll(); r != null; r = decoder.poll()) {
            decoded.add(((Decoded) r).message());
        }
        assertThat(decoded).containsExactlyElementsOf(CONVERSATION);
    }

    @Test
    void partialSummaryWaitsForItsDeltas() {
        byte[] summary = QlpbCodecTest.bytes(QlpbCodec.encode(new PacketPairSummary(5, 0, deltas(3))));
        QlpbStreamDecoder decoder = new QlpbStreamDecoder();
        decoder.feed(summary, 0, summary.length - 1);
        assertThat(decoder.poll()).isNull();
        assertThat(decoder.buffered()).isEqualTo(summary.length - 1);
        decoder.feed(summary, summary.length - 1, 1);
        assertThat(decoder.poll()).isEqualTo(new Decoded(new PacketPairSummary(5, 0, deltas(3))));
        assertThat(decoder.poll()).isNull();
    }

    @Test
    void unknownIdIsRejectedAtItsHeaderAndTheRejectionSticks() {
        QlpbStreamDecoder decoder = new QlpbStreamDecoder();
        decoder.feed(new byte[] {0x01, 0, 0, 0x01, (byte) 0x96, 0, 0}, 0, 7);
        assertThat(decoder.poll()).isEqualTo(new Decoded(new PacketPairHandshake()));
        assertThat(decoder.poll()).as("3 bytes of the next header").isNull();
        decoder.feed(new byte[] {0x03}, 0, 1);
        DecodeResult r = decoder.poll();
        assertThat(r).isInstanceOfSatisfying(Rejected.class,
                rej -> assertThat(rej.reason()).isEqualTo(Rejection.UNKNOWN_MESSAGE_ID));
        decoder.feed(QlpbCodec.encode(new RouteCheckHandshake()));
        assertThat(decoder.poll()).isSameAs(r);
        assertThat(decoder.failed()).isTrue();
    }

    @Test
    void impossibleDeltaCountIsRejectedWithoutWaitingForTheDeltas() {
        QlpbStreamDecoder decoder = new QlpbStreamDecoder(16);
        byte[] header = QlpbCodecTest.bytes(QlpbCodec.encode(new PacketPairSummary(5, 0, deltas(17))));
        decoder.feed(header, 0, QlpbCodec.SUMMARY_FIXED_BYTES);
        assertThat(decoder.poll()).isInstanceOfSatisfying(Rejected.class,
                rej -> assertThat(rej.reason()).isEqualTo(Rejection.TOO_MANY_DELTAS));

        QlpbStreamDecoder zero = new QlpbStreamDecoder();
        zero.feed(new byte[] {0x0A, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 16);
        assertThat(zero.poll()).isInstanceOfSatisfying(Rejected.class,
                rej -> assertThat(rej.reason()).isEqualTo(Rejection.BAD_DELTA_COUNT));

        QlpbStreamDecoder version = new QlpbStreamDecoder();
        version.feed(new byte[] {0x0A, 0, 0, 2}, 0, 4);
        assertThat(version.poll()).isInstanceOfSatisfying(Rejected.class,
                rej -> assertThat(rej.reason()).isEqualTo(Rejection.UNSUPPORTED_VERSION));
    }

    @Test
    void bytesAfterADiscardCanBeDropped() {
        QlpbStreamDecoder decoder = new QlpbStreamDecoder();
        decoder.feed(new byte[] {0, 0, 0, 1, 9, 9, 9, 9, 9}, 0, 9);
        assertThat(decoder.poll()).isEqualTo(new Decoded(new Discard()));
        assertThat(decoder.discardBuffered()).isEqualTo(5);
        assertThat(decoder.buffered()).isZero();
        assertThat(decoder.poll()).isNull();
    }
}
