package io.quaver.internal.qlpb;

import io.quaver.internal.qlpb.DecodeResult.Decoded;
import io.quaver.internal.qlpb.DecodeResult.Rejected;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/// Seeded randomized testing of the codec (fixed seeds, so every run is the same; the seed,
/// the iteration and the bytes are printed on failure). Random valid messages must round-trip;
/// random mutations of their encodings must never make a decoder throw, and whatever still
/// decodes must re-encode to something that decodes to the same message.
class QlpbCodecFuzzTest {
    private static final int ITERATIONS = 4_000;
    private static final HexFormat HEX = HexFormat.of();

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1L, 7L, 42L, 2177L, 0x5EED_CAFEL, -3L})
    void mutatedEncodingsNeverThrowAndValidOnesRoundTrip(long seed) {
        RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        ProbeView view = new ProbeView();
        for (int i = 0; i < ITERATIONS; i++) {
            QlpbMessage message = randomMessage(random);
            byte[] valid = QlpbCodecTest.bytes(QlpbCodec.encode(message));
            String where = "seed " + seed + ", iteration " + i + ", message " + message;
            assertThat(QlpbCodec.decode(ByteBuffer.wrap(valid), message.transport()))
                    .as(where).isEqualTo(new Decoded(message));

            byte[] mutated = mutate(valid, random);
            String mutatedWhere = where + ", mutated bytes " + HEX.formatHex(mutated);
            for (Transport transport : Transport.values()) {
                DecodeResult result;
                try {
                    result = QlpbCodec.decode(ByteBuffer.wrap(mutated), transport);
                } catch (Throwable e) {
                    throw new AssertionError("decode threw on " + transport + ": " + mutatedWhere, e);
                }
                assertThat(result).as(mutatedWhere).isNotNull();
                if (result instanceof Decoded(QlpbMessage decoded)) {
                    assertThat(decoded.transport()).as(mutatedWhere).isEqualTo(transport);
                    assertThat(QlpbCodec.decode(QlpbCodec.encode(decoded), transport))
                            .as("re-encoding of " + decoded + " / " + mutatedWhere).isEqualTo(result);
                } else {
                    assertThat(((Rejected) result).reason()).as(mutatedWhere).isNotNull();
                }
                if (transport == Transport.UDP) {
                    boolean ok;
                    try {
                        ok = view.decode(ByteBuffer.wrap(mutated));
                    } catch (Throwable e) {
                        throw new AssertionError("ProbeView threw: " + mutatedWhere, e);
                    }
                    assertThat(ok).as("ProbeView agrees with decode: " + mutatedWhere)
                            .isEqualTo(result instanceof Decoded);
                }
            }
            feedStream(mutated, random, mutatedWhere);
        }
    }

    /// The stream decoder on a valid prefix, the mutated bytes and a valid suffix, cut at
    /// random points: no exception, and once it rejects, it keeps rejecting.
    private static void feedStream(byte[] mutated, RandomGenerator random, String where) {
        byte[] prefix = QlpbCodecTest.bytes(QlpbCodec.encode(new PacketPairHandshake()));
        byte[] suffix = QlpbCodecTest.bytes(QlpbCodec.encode(new RouteCheckSummary(Observation.LOSS)));
        byte[] all = new byte[prefix.length + mutated.length + suffix.length];
        System.arraycopy(prefix, 0, all, 0, prefix.length);
        System.arraycopy(mutated, 0, all, prefix.length, mutated.length);
        System.arraycopy(suffix, 0, all, prefix.length + mutated.length, suffix.length);
        QlpbStreamDecoder decoder = new QlpbStreamDecoder(random.nextInt(1, QlpbCodec.MAX_TIMESTAMP_DELTAS + 1));
        try {
            int at = 0;
            int messages = 0;
            Rejected rejected = null;
            while (at < all.length) {
                int n = Math.min(all.length - at, random.nextInt(1, 64));
                decoder.feed(all, at, n);
                at += n;
                for (DecodeResult r = decoder.poll(); r != null; r = decoder.poll()) {
                    if (r instanceof Rejected rej) {
                        if (rejected != null) {
                            assertThat(rej).as(where).isSameAs(rejected);
                        }
                        rejected = rej;
                        break;
                    }
                    assertThat(rejected).as("a message after a rejection: " + where).isNull();
                    messages++;
                }
            }
            if (rejected == null) {
                assertThat(messages).as(where).isGreaterThanOrEqualTo(1);
            }
        } catch (AssertionError e) {
            throw e;
        } catch (Throwable e) {
            fail("stream decoder threw: " + where, e);
        }
    }

    static byte[] mutate(byte[] valid, RandomGenerator random) {
        byte[] b = valid.clone();
        int kind = random.nextInt(8);
        switch (kind) {
            case 0 -> { // flip 1..3 bits, biased to the headers
                for (int k = random.nextInt(1, 4); k > 0 && b.length > 0; k--) {
                    int at = random.nextInt(Math.min(b.length, random.nextBoolean() ? 16 : b.length));
                    b[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> { // set a byte to an interesting value
                if (b.length > 0) {
                    byte[] values = {0, 1, 2, 3, 5, 6, 0x0A, 0x14, 0x1E, (byte) 0x80, (byte) 0x96, (byte) 0xFF};
                    b[random.nextInt(Math.min(b.length, 20))] = values[random.nextInt(values.length)];
                }
            }
            case 2 -> b = Arrays.copyOf(b, random.nextInt(b.length + 1)); // truncate
            case 3 -> { // extend with random bytes
                b = Arrays.copyOf(b, b.length + random.nextInt(1, 24));
                for (int i = valid.length; i < b.length; i++) {
                    b[i] = (byte) random.nextInt(256);
                }
            }
            case 4 -> { // change the delta count / train size region
                if (b.length >= 16) {
                    int at = random.nextBoolean() ? 14 : 6;
                    b[at] = (byte) random.nextInt(256);
                    b[at + 1] = (byte) random.nextInt(256);
                }
            }
            case 5 -> { // swap the message id for another one
                if (b.length > 0) {
                    int[] ids = {0x00, 0x01, 0x02, 0x05, 0x06, 0x0A, 0x14, 0x1E};
                    b[0] = (byte) ids[random.nextInt(ids.length)];
                }
            }
            case 6 -> { // entirely random bytes
                b = new byte[random.nextInt(0, 48)];
                random.nextBytes(b);
            }
            default -> { // nothing: the valid bytes themselves, on both transports
            }
        }
        return b;
    }

    static QlpbMessage randomMessage(RandomGenerator random) {
        return switch (random.nextInt(11)) {
            case 0 -> new Discard();
            case 1 -> new PacketPairHandshake();
            case 2 -> new RouteCheckHandshake();
            case 3 -> new HandshakeSuccess();
            case 4 -> new PacketPairProbe(random.nextInt(65_536), trainSize(random), u32(random), random.nextBoolean(),
                    random.nextInt(0, 64));
            case 5 -> new RouteCheckProbe(random.nextInt(65_536), trainSize(random), u32(random), random.nextBoolean(),
                    random.nextInt(0, 64));
            case 6 -> new ProbegapProbe(u32(random), random.nextLong(), random.nextLong(), random.nextLong(),
                    payload(random));
            case 7 -> new ProbegapReflected(u32(random), random.nextLong(), random.nextLong(), random.nextLong(),
                    payload(random));
            case 8 -> {
                long[] deltas = new long[random.nextInt(1, 40)];
                for (int i = 0; i < deltas.length; i++) {
                    deltas[i] = random.nextBoolean() ? random.nextLong(0, 100_000) : random.nextLong();
                }
                yield new PacketPairSummary(u32(random), u32(random), deltas);
            }
            case 9 -> new RouteCheckSummary(Observation.values()[random.nextInt(Observation.values().length)]);
            default -> new QlpbMessage.AuthenticatedHandshake(random.nextBoolean() ? QlpbCodec.ID_PACKET_PAIR
                    : QlpbCodec.ID_ROUTE_CHECK, random.nextLong(), bytes(random, QlpbCodec.AUTH_NONCE_BYTES),
                    bytes(random, QlpbCodec.AUTH_MAC_BYTES));
        };
    }

    private static int trainSize(RandomGenerator random) {
        int t = random.nextInt(0, 65_536);
        return t == 1 ? 0 : t;
    }

    private static long u32(RandomGenerator random) {
        return random.nextLong(0, 1L << 32);
    }

    private static byte[] bytes(RandomGenerator random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static byte[] payload(RandomGenerator random) {
        byte[] p = new byte[random.nextInt(0, 32)];
        random.nextBytes(p);
        return p;
    }
}
