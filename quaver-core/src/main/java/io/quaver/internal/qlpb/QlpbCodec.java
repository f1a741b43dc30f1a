package io.quaver.internal.qlpb;

import io.quaver.internal.qlpb.DecodeResult.Decoded;
import io.quaver.internal.qlpb.DecodeResult.Rejected;
import io.quaver.internal.qlpb.QlpbMessage.AuthenticatedHandshake;
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

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/// The [MS-QLPB] wire format — the one place that knows it. Pure: no I/O, no clocks, no
/// shared state.
///
/// ## Layout
/// Every message starts with the 4-byte handshake header, then an optional message-specific
/// header; all integers are big-endian (network byte order), timestamps in 100 ns units.
///
/// ```
/// header      0 Proto_and_Msg_ID  1 Flags  2 Reserved  3 Version (0x02 for 0x05/0x06, else 0x01)
/// 0x01/0x02   4 Initiator_Port u16  6 Train_Size u16  8 Sequence_Number u32  12 payload (UDP)
/// 0x05/0x06   4 Sequence_Number u32  8 Initiator_Send_Timestamp u64  16 Sink_Recv_Timestamp u64
///             24 Sink_Send_Timestamp u64  32 payload (UDP)
/// 0x0A        4 Sequence_Number u32  8 Interface_Speed u32 (bit/s)  12 Reserved_1  13 Reserved_2
///             14 Num_Timestamp_Deltas u16  16 Num_Timestamp_Deltas × u64 deltas (TCP)
/// 0x00, 0x01, 0x02, 0x14, 0x1E on TCP: header only
/// 0x01/0x02 with flag 0x40 (beyond [MS-QLPB], authenticated handshake, TCP):
///             4 Timestamp_ms u64  12 Nonce (16)  28 HMAC-SHA256 (32)
/// ```
///
/// ## Flag bits
/// [MS-QLPB] draws the `Flags` byte with bit 0 on the left, i.e. the most significant bit
/// (the usual numbering of its packet diagrams). So the packet-pair `F` flag and the
/// route-check `O` flag are `0x80`, followed by 7 reserved bits; the route-check summary's
/// 2-bit `Obs` field is drawn after 6 reserved bits, i.e. it is the two least significant
/// bits (`flags & 0x03`), which matches qwave.md ("Flags bits 0–1"). Reserved bits are sent as
/// 0 and ignored on receipt, as the spec requires.
///
/// ## Decoding
/// [#decode(ByteBuffer, Transport)] decodes exactly one message that occupies all the bytes
/// between the buffer's position and limit (one datagram, or one frame cut by
/// [QlpbStreamDecoder]). It never throws on malformed input; it returns a [Rejected] with a
/// [Rejection]. Trailing bytes after a fixed-size TCP message are a [Rejection#LENGTH_MISMATCH];
/// on UDP everything after the header is payload.
public final class QlpbCodec {
    /// `Proto_and_Msg_ID` of Discard (TCP).
    public static final int ID_DISCARD = 0x00;
    /// `Proto_and_Msg_ID` of the packet-pair handshake (TCP) and probe (UDP).
    public static final int ID_PACKET_PAIR = 0x01;
    /// `Proto_and_Msg_ID` of the route-check handshake (TCP) and probe (UDP).
    public static final int ID_ROUTE_CHECK = 0x02;
    /// `Proto_and_Msg_ID` of a probegap probe sent by the initiator (UDP).
    public static final int ID_PROBEGAP = 0x05;
    /// `Proto_and_Msg_ID` of a probegap probe reflected by the sink (UDP).
    public static final int ID_PROBEGAP_REFLECTED = 0x06;
    /// `Proto_and_Msg_ID` of the Packet Pair Summary (TCP).
    public static final int ID_PACKET_PAIR_SUMMARY = 0x0A;
    /// `Proto_and_Msg_ID` of the Route Check Summary (TCP).
    public static final int ID_ROUTE_CHECK_SUMMARY = 0x14;
    /// `Proto_and_Msg_ID` of the Connection Handshake Success (TCP).
    public static final int ID_HANDSHAKE_SUCCESS = 0x1E;

    /// `Version` of probegap messages (0x05, 0x06).
    public static final int VERSION_PROBEGAP = 0x02;
    /// `Version` of every other message.
    public static final int VERSION_DEFAULT = 0x01;

    /// The `F` (first of train) bit of a packet-pair probe's `Flags`.
    public static final int FLAG_FIRST = 0x80;
    /// The `O` (oversized) bit of a route-check probe's `Flags`.
    public static final int FLAG_OVERSIZED = 0x80;
    /// Beyond [MS-QLPB]: the flag of an authenticated handshake ([AuthenticatedHandshake]), a
    /// bit the protocol reserves in a handshake's `Flags`.
    public static final int FLAG_AUTHENTICATED = 0x40;
    /// The `Obs` field of a route-check summary's `Flags`.
    public static final int OBSERVATION_MASK = 0x03;

    /// Size of the handshake header.
    public static final int HEADER_BYTES = 4;
    /// Size of the headers of a packet-pair or route-check probe (payload excluded).
    public static final int PROBE_HEADER_BYTES = 12;
    /// Size of the headers of a probegap message (payload excluded).
    public static final int PROBEGAP_HEADER_BYTES = 32;
    /// Size of a Packet Pair Summary without its deltas.
    public static final int SUMMARY_FIXED_BYTES = 16;
    /// Nonce bytes of an authenticated handshake.
    public static final int AUTH_NONCE_BYTES = 16;
    /// MAC bytes (HMAC-SHA256) of an authenticated handshake.
    public static final int AUTH_MAC_BYTES = 32;
    /// Size of an authenticated handshake: header, timestamp (8), nonce, MAC.
    public static final int AUTH_HANDSHAKE_BYTES = HEADER_BYTES + 8 + AUTH_NONCE_BYTES + AUTH_MAC_BYTES;
    /// Size of one timestamp delta.
    public static final int DELTA_BYTES = 8;
    /// Most deltas a summary can carry: a train has at most 65,535 probes.
    public static final int MAX_TIMESTAMP_DELTAS = 0xFFFF - 1;
    /// Largest UDP payload over IPv4 (65,535 − 20 − 8), the bound for probe sizes.
    public static final int MAX_DATAGRAM_BYTES = 65_507;
    /// Largest TCP message: a summary with [#MAX_TIMESTAMP_DELTAS] deltas.
    public static final int MAX_TCP_MESSAGE_BYTES = SUMMARY_FIXED_BYTES + MAX_TIMESTAMP_DELTAS * DELTA_BYTES;

    private QlpbCodec() {
    }

    /// The number of bytes [#encode(QlpbMessage, ByteBuffer)] writes for this message.
    public static int encodedLength(QlpbMessage message) {
        return switch (message) {
            case Discard _, PacketPairHandshake _, RouteCheckHandshake _, HandshakeSuccess _,
                 RouteCheckSummary _ -> HEADER_BYTES;
            case PacketPairProbe p -> PROBE_HEADER_BYTES + p.payloadLengthBytes();
            case RouteCheckProbe p -> PROBE_HEADER_BYTES + p.payloadLengthBytes();
            case ProbegapProbe p -> PROBEGAP_HEADER_BYTES + p.payloadLengthBytes();
            case ProbegapReflected p -> PROBEGAP_HEADER_BYTES + p.payloadLengthBytes();
            case PacketPairSummary s -> SUMMARY_FIXED_BYTES + s.deltaCount() * DELTA_BYTES;
            case AuthenticatedHandshake _ -> AUTH_HANDSHAKE_BYTES;
        };
    }

    /// Writes the message at the buffer's position and advances it by
    /// [#encodedLength(QlpbMessage)]. Reserved fields are written as 0; the padding of
    /// packet-pair and route-check probes is written as zeros (an initiator that wants random
    /// padding overwrites the bytes after [#PROBE_HEADER_BYTES]).
    ///
    /// @throws BufferOverflowException if the buffer has too little room (nothing is written)
    public static void encode(QlpbMessage message, ByteBuffer buffer) {
        int length = encodedLength(message);
        if (buffer.remaining() < length) {
            throw new BufferOverflowException();
        }
        ByteBuffer out = bigEndian(buffer);
        switch (message) {
            case Discard _ -> header(out, ID_DISCARD, 0, VERSION_DEFAULT);
            case PacketPairHandshake _ -> header(out, ID_PACKET_PAIR, 0, VERSION_DEFAULT);
            case RouteCheckHandshake _ -> header(out, ID_ROUTE_CHECK, 0, VERSION_DEFAULT);
            case HandshakeSuccess _ -> header(out, ID_HANDSHAKE_SUCCESS, 0, VERSION_DEFAULT);
            case RouteCheckSummary s -> header(out, ID_ROUTE_CHECK_SUMMARY, s.observation().code(), VERSION_DEFAULT);
            case PacketPairProbe p -> probe(out, ID_PACKET_PAIR, p.first() ? FLAG_FIRST : 0, p.initiatorPort(),
                    p.trainSize(), p.sequence(), p.payloadLengthBytes());
            case RouteCheckProbe p -> probe(out, ID_ROUTE_CHECK, p.oversized() ? FLAG_OVERSIZED : 0,
                    p.initiatorPort(), p.trainSize(), p.sequence(), p.payloadLengthBytes());
            case ProbegapProbe p -> probegap(out, ID_PROBEGAP, p.sequence(), p.initiatorSendTimestamp100ns(),
                    p.sinkRecvTimestamp100ns(), p.sinkSendTimestamp100ns(), p.payload());
            case ProbegapReflected p -> probegap(out, ID_PROBEGAP_REFLECTED, p.sequence(),
                    p.initiatorSendTimestamp100ns(), p.sinkRecvTimestamp100ns(), p.sinkSendTimestamp100ns(),
                    p.payload());
            case AuthenticatedHandshake a -> {
                header(out, a.handshakeId(), FLAG_AUTHENTICATED, VERSION_DEFAULT);
                out.putLong(a.timestampMs()).put(a.nonce()).put(a.mac());
            }
            case PacketPairSummary s -> {
                header(out, ID_PACKET_PAIR_SUMMARY, 0, VERSION_DEFAULT);
                out.putInt((int) s.sequence());
                out.putInt((int) s.interfaceSpeedBps());
                out.put((byte) 0).put((byte) 0);
                out.putShort((short) s.deltaCount());
                for (int i = 0; i < s.deltaCount(); i++) {
                    out.putLong(s.delta100ns(i));
                }
            }
        }
        if (out != buffer) {
            buffer.position(out.position());
        }
    }

    /// The buffer itself if it is big-endian (the default), else a big-endian view of it.
    static ByteBuffer bigEndian(ByteBuffer buffer) {
        return buffer.order() == ByteOrder.BIG_ENDIAN ? buffer : buffer.duplicate().order(ByteOrder.BIG_ENDIAN);
    }

    /// Encodes the message into a new buffer, flipped for reading.
    public static ByteBuffer encode(QlpbMessage message) {
        ByteBuffer out = ByteBuffer.allocate(encodedLength(message));
        encode(message, out);
        return out.flip();
    }

    private static void header(ByteBuffer out, int id, int flags, int version) {
        out.put((byte) id).put((byte) flags).put((byte) 0).put((byte) version);
    }

    private static void probe(ByteBuffer out, int id, int flags, int initiatorPort, int trainSize, long sequence,
                              int payloadLength) {
        header(out, id, flags, VERSION_DEFAULT);
        out.putShort((short) initiatorPort).putShort((short) trainSize).putInt((int) sequence);
        zeros(out, payloadLength);
    }

    private static void probegap(ByteBuffer out, int id, long sequence, long initiatorSend, long sinkRecv,
                                 long sinkSend, byte[] payload) {
        header(out, id, 0, VERSION_PROBEGAP);
        out.putInt((int) sequence).putLong(initiatorSend).putLong(sinkRecv).putLong(sinkSend).put(payload);
    }

    private static void zeros(ByteBuffer out, int count) {
        for (int i = 0; i < count; i++) {
            out.put((byte) 0);
        }
    }

    /// Decodes the one message between the buffer's position and limit; the buffer is not
    /// changed. Never throws on malformed bytes.
    public static DecodeResult decode(ByteBuffer bytes, Transport transport) {
        return decode(bytes, transport, MAX_TIMESTAMP_DELTAS);
    }

    /// As [#decode(ByteBuffer, Transport)], accepting summaries with at most `maxDeltas` deltas.
    public static DecodeResult decode(ByteBuffer bytes, Transport transport, int maxDeltas) {
        return switch (transport) {
            case UDP -> decodeUdp(bigEndian(bytes));
            case TCP -> decodeTcp(bigEndian(bytes), maxDeltas);
        };
    }

    private static DecodeResult decodeUdp(ByteBuffer bytes) {
        ProbeView view = new ProbeView();
        if (!view.decode(bytes)) {
            return rejected(view.rejection(), bytes);
        }
        int base = bytes.position();
        QlpbMessage message = switch (view.messageId()) {
            case ID_PACKET_PAIR -> new PacketPairProbe(view.initiatorPort(), view.trainSize(), view.sequence(),
                    view.first(), view.payloadLengthBytes());
            case ID_ROUTE_CHECK -> new RouteCheckProbe(view.initiatorPort(), view.trainSize(), view.sequence(),
                    view.oversized(), view.payloadLengthBytes());
            case ID_PROBEGAP -> new ProbegapProbe(view.sequence(), view.initiatorSendTimestamp100ns(),
                    view.sinkRecvTimestamp100ns(), view.sinkSendTimestamp100ns(),
                    copy(bytes, base + PROBEGAP_HEADER_BYTES, view.payloadLengthBytes()));
            default -> new ProbegapReflected(view.sequence(), view.initiatorSendTimestamp100ns(),
                    view.sinkRecvTimestamp100ns(), view.sinkSendTimestamp100ns(),
                    copy(bytes, base + PROBEGAP_HEADER_BYTES, view.payloadLengthBytes()));
        };
        return new Decoded(message);
    }

    private static byte[] copy(ByteBuffer bytes, int from, int length) {
        byte[] out = new byte[length];
        bytes.get(from, out);
        return out;
    }

    /// Checks the header of a TCP message: known id, right version. Shared with the stream
    /// decoder so that it can reject a bad header before waiting for a whole frame.
    ///
    /// @return `null` if the header is acceptable
    static Rejection checkTcpHeader(int id, int version) {
        return switch (id) {
            case ID_DISCARD, ID_PACKET_PAIR, ID_ROUTE_CHECK, ID_PACKET_PAIR_SUMMARY, ID_ROUTE_CHECK_SUMMARY,
                 ID_HANDSHAKE_SUCCESS -> version == VERSION_DEFAULT ? null : Rejection.UNSUPPORTED_VERSION;
            default -> Rejection.UNKNOWN_MESSAGE_ID;
        };
    }

    private static DecodeResult decodeTcp(ByteBuffer bytes, int maxDeltas) {
        int base = bytes.position();
        int length = bytes.remaining();
        if (length < HEADER_BYTES) {
            return rejected(Rejection.TRUNCATED, bytes);
        }
        int id = bytes.get(base) & 0xFF;
        int flags = bytes.get(base + 1) & 0xFF;
        int version = bytes.get(base + 3) & 0xFF;
        Rejection bad = checkTcpHeader(id, version);
        if (bad != null) {
            return rejected(bad, bytes);
        }
        if (id == ID_PACKET_PAIR_SUMMARY) {
            if (length < SUMMARY_FIXED_BYTES) {
                return rejected(Rejection.TRUNCATED, bytes);
            }
            int count = bytes.getShort(base + 14) & 0xFFFF;
            Rejection countProblem = checkDeltaCount(count, maxDeltas);
            if (countProblem != null) {
                return rejected(countProblem, bytes);
            }
            int expected = SUMMARY_FIXED_BYTES + count * DELTA_BYTES;
            if (length != expected) {
                return rejected(length < expected ? Rejection.TRUNCATED : Rejection.LENGTH_MISMATCH, bytes);
            }
            long[] deltas = new long[count];
            for (int i = 0; i < count; i++) {
                deltas[i] = bytes.getLong(base + SUMMARY_FIXED_BYTES + i * DELTA_BYTES);
            }
            return new Decoded(new PacketPairSummary(bytes.getInt(base + 4) & 0xFFFF_FFFFL,
                    bytes.getInt(base + 8) & 0xFFFF_FFFFL, deltas));
        }
        if (isAuthenticatedHandshake(id, flags)) {
            if (length != AUTH_HANDSHAKE_BYTES) {
                return rejected(length < AUTH_HANDSHAKE_BYTES ? Rejection.TRUNCATED : Rejection.LENGTH_MISMATCH, bytes);
            }
            return new Decoded(new AuthenticatedHandshake(id, bytes.getLong(base + HEADER_BYTES),
                    copy(bytes, base + HEADER_BYTES + 8, AUTH_NONCE_BYTES),
                    copy(bytes, base + HEADER_BYTES + 8 + AUTH_NONCE_BYTES, AUTH_MAC_BYTES)));
        }
        if (length != HEADER_BYTES) {
            return rejected(Rejection.LENGTH_MISMATCH, bytes);
        }
        return switch (id) {
            case ID_DISCARD -> new Decoded(new Discard());
            case ID_PACKET_PAIR -> new Decoded(new PacketPairHandshake());
            case ID_ROUTE_CHECK -> new Decoded(new RouteCheckHandshake());
            case ID_HANDSHAKE_SUCCESS -> new Decoded(new HandshakeSuccess());
            default -> {
                Observation observation = Observation.fromCode(flags & OBSERVATION_MASK);
                yield observation == null ? rejected(Rejection.RESERVED_VALUE, bytes)
                        : new Decoded(new RouteCheckSummary(observation));
            }
        };
    }

    /// Whether a TCP header announces an [AuthenticatedHandshake] (and so its 60-byte frame).
    static boolean isAuthenticatedHandshake(int id, int flags) {
        return (id == ID_PACKET_PAIR || id == ID_ROUTE_CHECK) && (flags & FLAG_AUTHENTICATED) != 0;
    }

    static Rejection checkDeltaCount(int count, int maxDeltas) {
        if (count == 0) {
            return Rejection.BAD_DELTA_COUNT;
        }
        if (count > Math.min(maxDeltas, MAX_TIMESTAMP_DELTAS)) {
            return Rejection.TOO_MANY_DELTAS;
        }
        return null;
    }

    private static Rejected rejected(Rejection reason, ByteBuffer bytes) {
        int n = bytes.remaining();
        String id = n > 0 ? String.format("0x%02X", bytes.get(bytes.position()) & 0xFF) : "none";
        return new Rejected(reason, reason + " (" + n + " bytes, id " + id + ")");
    }

    /// Turns a probegap probe (0x05) in `datagram` into its reflection (0x06) in place: sets the
    /// message id and `Sink_Recv_Timestamp` and clears the flags and reserved bytes; sequence, initiator timestamp and payload are left
    /// as they are. Call [#stampSinkSend(ByteBuffer, long)] just before sending. The buffer's
    /// position and limit are not changed; the caller has validated the datagram.
    public static void prepareProbegapReflection(ByteBuffer datagram, long sinkRecvTimestamp100ns) {
        int base = datagram.position();
        datagram.put(base, (byte) ID_PROBEGAP_REFLECTED);
        datagram.put(base + 1, (byte) 0);
        datagram.put(base + 2, (byte) 0);
        datagram.putLong(base + 16, datagram.order() == ByteOrder.BIG_ENDIAN ? sinkRecvTimestamp100ns
                : Long.reverseBytes(sinkRecvTimestamp100ns));
    }

    /// Writes `Sink_Send_Timestamp` of a probegap message in place.
    public static void stampSinkSend(ByteBuffer datagram, long sinkSendTimestamp100ns) {
        datagram.putLong(datagram.position() + 24, datagram.order() == ByteOrder.BIG_ENDIAN ? sinkSendTimestamp100ns
                : Long.reverseBytes(sinkSendTimestamp100ns));
    }
}
