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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The [MS-QLPB] wire format: byte-exact encodings written by hand from the spec's layouts
/// (§2.2.1.1, §2.2.2.x), round trips, and every kind of rejection.
class QlpbCodecTest {
    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

    private static byte[] hex(String s) {
        return HEX.parseHex(s.strip().replaceAll("\\s+", " "));
    }

    /// Every message with its exact encoding, from the spec's diagrams (big-endian, F/O =
    /// 0x80, Obs = the two low bits, Version 0x02 for probegap, 0x01 otherwise).
    static Stream<Arguments> exactEncodings() {
        return Stream.of(
                Arguments.of(new Discard(), "00 00 00 01"),
                Arguments.of(new PacketPairHandshake(), "01 00 00 01"),
                Arguments.of(new RouteCheckHandshake(), "02 00 00 01"),
                Arguments.of(new HandshakeSuccess(), "1E 00 00 01"),
                Arguments.of(new RouteCheckSummary(Observation.NO_ISSUE), "14 00 00 01"),
                Arguments.of(new RouteCheckSummary(Observation.INVERSION), "14 01 00 01"),
                Arguments.of(new RouteCheckSummary(Observation.LOSS), "14 02 00 01"),
                // Initiator_Port 50000, Train_Size 16, Sequence_Number 0x01020304, 3 bytes padding
                Arguments.of(new PacketPairProbe(50_000, 16, 0x01020304L, true, 3),
                        "01 80 00 01  C3 50  00 10  01 02 03 04  00 00 00"),
                Arguments.of(new PacketPairProbe(65_535, 65_535, 0xFFFF_FFFFL, false, 0),
                        "01 00 00 01  FF FF  FF FF  FF FF FF FF"),
                Arguments.of(new PacketPairProbe(1, 0, 0, false, 1), "01 00 00 01  00 01  00 00  00 00 00 00  00"),
                Arguments.of(new RouteCheckProbe(2177, 0, 7, true, 2),
                        "02 80 00 01  08 81  00 00  00 00 00 07  00 00"),
                Arguments.of(new RouteCheckProbe(2177, 5, 11, false, 0), "02 00 00 01  08 81  00 05  00 00 00 0B"),
                // Sequence 42, initiator 0x0102030405060708, sink timestamps 0, payload DE AD
                Arguments.of(new ProbegapProbe(42, 0x0102030405060708L, 0, 0, new byte[] {(byte) 0xDE, (byte) 0xAD}),
                        """
                        05 00 00 02  00 00 00 2A
                        01 02 03 04 05 06 07 08
                        00 00 00 00 00 00 00 00
                        00 00 00 00 00 00 00 00
                        DE AD"""),
                Arguments.of(new ProbegapReflected(0xFFFF_FFFFL, 1, 0x1122334455667788L, -1L, new byte[0]),
                        """
                        06 00 00 02  FF FF FF FF
                        00 00 00 00 00 00 00 01
                        11 22 33 44 55 66 77 88
                        FF FF FF FF FF FF FF FF"""),
                // Sequence 1, 1 Gbit/s, 2 deltas: 15 (1.5 us) and 0x0102030405060708
                Arguments.of(new PacketPairSummary(1, 1_000_000_000L, new long[] {15, 0x0102030405060708L}),
                        """
                        0A 00 00 01  00 00 00 01
                        3B 9A CA 00  00 00  00 02
                        00 00 00 00 00 00 00 0F
                        01 02 03 04 05 06 07 08"""),
                Arguments.of(new PacketPairSummary(0xFFFF_FFFFL, 0xFFFF_FFFFL, new long[] {-1L}),
                        """
                        0A 00 00 01  FF FF FF FF
                        FF FF FF FF  00 00  00 01
                        FF FF FF FF FF FF FF FF"""));
    }

    @ParameterizedTest
    @MethodSource("exactEncodings")
    void encodesExactlyAsTheSpecLaysOut(QlpbMessage message, String expectedHex) {
        byte[] expected = hex(expectedHex);
        ByteBuffer encoded = QlpbCodec.encode(message);
        assertThat(QlpbCodec.encodedLength(message)).isEqualTo(expected.length);
        assertThat(HEX.formatHex(bytes(encoded))).isEqualTo(HEX.formatHex(expected));
    }

    @ParameterizedTest
    @MethodSource("exactEncodings")
    void decodesTheHandWrittenBytes(QlpbMessage message, String expectedHex) {
        ByteBuffer bytes = ByteBuffer.wrap(hex(expectedHex));
        DecodeResult result = QlpbCodec.decode(bytes, message.transport());
        assertThat(result).isEqualTo(new Decoded(message));
        assertThat(bytes.position()).as("decode leaves the buffer alone").isZero();
    }

    @ParameterizedTest
    @MethodSource("exactEncodings")
    void roundTripsThroughEveryBufferKind(QlpbMessage message, String ignored) {
        for (ByteBuffer out : List.of(ByteBuffer.allocate(200), ByteBuffer.allocateDirect(200),
                ByteBuffer.allocate(200).order(ByteOrder.LITTLE_ENDIAN))) {
            out.position(7); // not at the start
            QlpbCodec.encode(message, out);
            assertThat(out.position()).isEqualTo(7 + QlpbCodec.encodedLength(message));
            out.flip().position(7);
            assertThat(QlpbCodec.decode(out, message.transport())).isEqualTo(new Decoded(message));
        }
    }

    @Test
    void encodeIntoTooSmallABufferWritesNothing() {
        ByteBuffer out = ByteBuffer.allocate(15);
        assertThatThrownBy(() -> QlpbCodec.encode(new PacketPairSummary(1, 0, new long[] {1}), out))
                .isInstanceOf(BufferOverflowException.class);
        assertThat(out.position()).isZero();
    }

    @Test
    void reservedBitsAndBytesAreIgnoredOnReceipt() {
        // F with all reserved flag bits set, and a non-zero Reserved byte
        assertThat(decodeUdp("01 FF 7E 01  00 05  00 02  00 00 00 09"))
                .isEqualTo(new Decoded(new PacketPairProbe(5, 2, 9, true, 0)));
        // reserved bits only: F clear
        assertThat(decodeUdp("01 7F 00 01  00 05  00 02  00 00 00 09"))
                .isEqualTo(new Decoded(new PacketPairProbe(5, 2, 9, false, 0)));
        assertThat(decodeUdp("02 81 00 01  00 05  00 00  00 00 00 09"))
                .isEqualTo(new Decoded(new RouteCheckProbe(5, 0, 9, true, 0)));
        // Obs = low two bits; the 6 reserved bits above are ignored
        assertThat(decodeTcp("14 FE 00 01")).isEqualTo(new Decoded(new RouteCheckSummary(Observation.LOSS)));
        assertThat(decodeTcp("1E 55 AA 01")).isEqualTo(new Decoded(new HandshakeSuccess()));
        // summary: Reserved_1/Reserved_2 ignored
        assertThat(decodeTcp("0A 00 00 01  00 00 00 02  00 00 00 00  AB CD  00 01  00 00 00 00 00 00 00 01"))
                .isEqualTo(new Decoded(new PacketPairSummary(2, 0, new long[] {1})));
    }

    @Test
    void probePaddingIsPayloadWhateverItsContent() {
        DecodeResult r = decodeUdp("01 00 00 01  00 05  00 02  00 00 00 09  A5 5A FF");
        assertThat(r).isEqualTo(new Decoded(new PacketPairProbe(5, 2, 9, false, 3)));
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                // truncated
                Arguments.of(Transport.TCP, "", Rejection.TRUNCATED),
                Arguments.of(Transport.UDP, "", Rejection.TRUNCATED),
                Arguments.of(Transport.TCP, "01 00 00", Rejection.TRUNCATED),
                Arguments.of(Transport.UDP, "05", Rejection.TRUNCATED),
                Arguments.of(Transport.UDP, "01 80 00 01  C3 50  00 10  01 02 03", Rejection.TRUNCATED),
                Arguments.of(Transport.UDP, "02 00 00 01", Rejection.TRUNCATED),
                Arguments.of(Transport.UDP, "05 00 00 02  00 00 00 2A" + " 00".repeat(23), Rejection.TRUNCATED),
                Arguments.of(Transport.UDP, "06 00 00 02", Rejection.TRUNCATED),
                Arguments.of(Transport.TCP, "0A 00 00 01  00 00 00 01  00 00 00 00  00 00  00", Rejection.TRUNCATED),
                Arguments.of(Transport.TCP, "0A 00 00 01  00 00 00 01  00 00 00 00  00 00  00 02"
                        + " 00 00 00 00 00 00 00 0F", Rejection.TRUNCATED),
                // wrong version
                Arguments.of(Transport.TCP, "01 00 00 02", Rejection.UNSUPPORTED_VERSION),
                Arguments.of(Transport.TCP, "00 00 00 00", Rejection.UNSUPPORTED_VERSION),
                Arguments.of(Transport.TCP, "1E 00 00 03", Rejection.UNSUPPORTED_VERSION),
                Arguments.of(Transport.TCP, "14 00 00 02", Rejection.UNSUPPORTED_VERSION),
                Arguments.of(Transport.TCP, "0A 00 00 02  00 00 00 01  00 00 00 00  00 00  00 01"
                        + " 00 00 00 00 00 00 00 0F", Rejection.UNSUPPORTED_VERSION),
                Arguments.of(Transport.UDP, "01 80 00 02  C3 50  00 10  01 02 03 04", Rejection.UNSUPPORTED_VERSION),
                Arguments.of(Transport.UDP, "02 80 00 FF  C3 50  00 10  01 02 03 04", Rejection.UNSUPPORTED_VERSION),
                Arguments.of(Transport.UDP, "05 00 00 01" + " 00".repeat(28), Rejection.UNSUPPORTED_VERSION),
                Arguments.of(Transport.UDP, "06 00 00 03" + " 00".repeat(28), Rejection.UNSUPPORTED_VERSION),
                // unknown id (on this transport)
                Arguments.of(Transport.TCP, "96 00 00 03", Rejection.UNKNOWN_MESSAGE_ID), // qWave-WD
                Arguments.of(Transport.TCP, "03 00 00 01", Rejection.UNKNOWN_MESSAGE_ID),
                Arguments.of(Transport.TCP, "FF 00 00 01", Rejection.UNKNOWN_MESSAGE_ID),
                Arguments.of(Transport.TCP, "05 00 00 02" + " 00".repeat(28), Rejection.UNKNOWN_MESSAGE_ID),
                Arguments.of(Transport.UDP, "00 00 00 01", Rejection.UNKNOWN_MESSAGE_ID),
                Arguments.of(Transport.UDP, "1E 00 00 01", Rejection.UNKNOWN_MESSAGE_ID),
                Arguments.of(Transport.UDP, "14 00 00 01", Rejection.UNKNOWN_MESSAGE_ID),
                Arguments.of(Transport.UDP, "0A 00 00 01  00 00 00 01  00 00 00 00  00 00  00 01"
                        + " 00 00 00 00 00 00 00 0F", Rejection.UNKNOWN_MESSAGE_ID),
                // train size 1
                Arguments.of(Transport.UDP, "01 80 00 01  C3 50  00 01  01 02 03 04", Rejection.BAD_TRAIN_SIZE),
                Arguments.of(Transport.UDP, "02 00 00 01  C3 50  00 01  01 02 03 04  00", Rejection.BAD_TRAIN_SIZE),
                // delta count
                Arguments.of(Transport.TCP, "0A 00 00 01  00 00 00 01  00 00 00 00  00 00  00 00",
                        Rejection.BAD_DELTA_COUNT),
                Arguments.of(Transport.TCP, "0A 00 00 01  00 00 00 01  00 00 00 00  00 00  FF FF",
                        Rejection.TOO_MANY_DELTAS),
                // lengths inconsistent
                Arguments.of(Transport.TCP, "00 00 00 01  00", Rejection.LENGTH_MISMATCH),
                Arguments.of(Transport.TCP, "1E 00 00 01  1E 00 00 01", Rejection.LENGTH_MISMATCH),
                Arguments.of(Transport.TCP, "14 01 00 01  00 00", Rejection.LENGTH_MISMATCH),
                Arguments.of(Transport.TCP, "0A 00 00 01  00 00 00 01  00 00 00 00  00 00  00 01"
                        + " 00 00 00 00 00 00 00 0F  00", Rejection.LENGTH_MISMATCH),
                // reserved Obs value
                Arguments.of(Transport.TCP, "14 03 00 01", Rejection.RESERVED_VALUE),
                Arguments.of(Transport.TCP, "14 FF 00 01", Rejection.RESERVED_VALUE));
    }

    @ParameterizedTest(name = "{0} [{1}] -> {2}")
    @MethodSource("malformed")
    void rejectsMalformedInputWithTheReason(Transport transport, String bytes, Rejection expected) {
        DecodeResult result = QlpbCodec.decode(ByteBuffer.wrap(hex(bytes)), transport);
        assertThat(result).isInstanceOfSatisfying(Rejected.class, r -> {
            assertThat(r.reason()).isEqualTo(expected);
            assertThat(r.detail()).contains(expected.name());
        });
        if (transport == Transport.UDP) {
            ProbeView view = new ProbeView();
            assertThat(view.decode(ByteBuffer.wrap(hex(bytes)))).isFalse();
            assertThat(view.rejection()).isEqualTo(expected);
        }
    }

    @Test
    void decoderCanBeToldToAcceptFewerDeltas() {
        ByteBuffer summary = QlpbCodec.encode(new PacketPairSummary(1, 0, new long[] {1, 2, 3}));
        assertThat(QlpbCodec.decode(summary, Transport.TCP, 3)).isInstanceOf(Decoded.class);
        assertThat(QlpbCodec.decode(summary, Transport.TCP, 2))
                .isInstanceOfSatisfying(Rejected.class, r -> assertThat(r.reason()).isEqualTo(Rejection.TOO_MANY_DELTAS));
    }

    @Test
    void largestSummaryRoundTrips() {
        long[] deltas = new long[QlpbCodec.MAX_TIMESTAMP_DELTAS];
        for (int i = 0; i < deltas.length; i++) {
            deltas[i] = i * 31L;
        }
        PacketPairSummary summary = new PacketPairSummary(77, 54_000_000, deltas);
        ByteBuffer bytes = QlpbCodec.encode(summary);
        assertThat(bytes.remaining()).isEqualTo(QlpbCodec.MAX_TCP_MESSAGE_BYTES);
        assertThat(QlpbCodec.decode(bytes, Transport.TCP)).isEqualTo(new Decoded(summary));
    }

    @Test
    void probeViewReadsWhatTheCodecReads() {
        ProbeView view = new ProbeView();
        ByteBuffer probe = QlpbCodec.encode(new RouteCheckProbe(40_000, 5, 0xFFFF_FFF0L, true, 1472));
        assertThat(view.decode(probe)).isTrue();
        assertThat(view.rejection()).isNull();
        assertThat(view.messageId()).isEqualTo(QlpbCodec.ID_ROUTE_CHECK);
        assertThat(view.initiatorPort()).isEqualTo(40_000);
        assertThat(view.trainSize()).isEqualTo(5);
        assertThat(view.sequence()).isEqualTo(0xFFFF_FFF0L);
        assertThat(view.oversized()).isTrue();
        assertThat(view.lengthBytes()).isEqualTo(1484);
        assertThat(view.payloadLengthBytes()).isEqualTo(1472);

        ByteBuffer gap = QlpbCodec.encode(new ProbegapProbe(9, 123, 0, 0, new byte[5]));
        assertThat(view.decode(gap)).isTrue();
        assertThat(view.messageId()).isEqualTo(QlpbCodec.ID_PROBEGAP);
        assertThat(view.sequence()).isEqualTo(9);
        assertThat(view.initiatorSendTimestamp100ns()).isEqualTo(123);
        assertThat(view.payloadLengthBytes()).isEqualTo(5);
    }

    @Test
    void probegapReflectionIsBuiltInPlace() {
        byte[] payload = {1, 2, 3, 4};
        ByteBuffer datagram = ByteBuffer.allocate(100);
        datagram.position(10);
        QlpbCodec.encode(new ProbegapProbe(5, 1_000, 0, 0, payload), datagram);
        datagram.flip().position(10);
        datagram.put(11, (byte) 0xFF); // reserved flag bits from the initiator are not echoed
        QlpbCodec.prepareProbegapReflection(datagram, 2_000);
        QlpbCodec.stampSinkSend(datagram, 2_001);
        assertThat(datagram.position()).isEqualTo(10);
        assertThat(QlpbCodec.decode(datagram, Transport.UDP))
                .isEqualTo(new Decoded(new ProbegapReflected(5, 1_000, 2_000, 2_001, payload)));
        assertThat(datagram.get(11)).isZero();
    }

    @Test
    void recordsRefuseValuesTheWireCannotCarry() {
        assertThatThrownBy(() -> new PacketPairProbe(1, 1, 0, true, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PacketPairProbe(65_536, 2, 0, true, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RouteCheckProbe(1, 65_536, 0, true, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RouteCheckProbe(1, 0, 1L << 32, true, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PacketPairProbe(1, 2, -1, true, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PacketPairProbe(1, 2, 0, true, QlpbCodec.MAX_DATAGRAM_BYTES))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PacketPairSummary(1, 1L << 32, new long[] {1}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PacketPairSummary(1, 0, new long[0]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PacketPairSummary(1, 0, new long[QlpbCodec.MAX_TIMESTAMP_DELTAS + 1]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ProbegapProbe(1, 0, 0, 0, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new RouteCheckSummary(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void arrayComponentsAreCopiedAndCompareByContent() {
        long[] deltas = {1, 2};
        PacketPairSummary s = new PacketPairSummary(1, 0, deltas);
        deltas[0] = 99;
        assertThat(s.timestampDeltas100ns()).containsExactly(1, 2);
        s.timestampDeltas100ns()[1] = 99;
        assertThat(s.delta100ns(1)).isEqualTo(2);
        assertThat(s).isEqualTo(new PacketPairSummary(1, 0, new long[] {1, 2})).hasSameHashCodeAs(
                new PacketPairSummary(1, 0, new long[] {1, 2}));
        byte[] payload = {7};
        ProbegapProbe p = new ProbegapProbe(1, 2, 3, 4, payload);
        payload[0] = 8;
        assertThat(p.payload()).containsExactly(7);
        assertThat(p).isEqualTo(new ProbegapProbe(1, 2, 3, 4, new byte[] {7}))
                .isNotEqualTo(new ProbegapReflected(1, 2, 3, 4, new byte[] {7}));
        assertThat(p.toString()).contains("payload=07");
    }

    private static DecodeResult decodeUdp(String hex) {
        return QlpbCodec.decode(ByteBuffer.wrap(hex(hex)), Transport.UDP);
    }

    private static DecodeResult decodeTcp(String hex) {
        return QlpbCodec.decode(ByteBuffer.wrap(hex(hex)), Transport.TCP);
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
