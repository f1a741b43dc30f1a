package io.quaver.internal.qlpb;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/// Every message of the qWave Layer-3 probing protocol ([MS-QLPB] §2.2.2), as an immutable
/// value. [QlpbCodec] turns them into bytes and back; this type knows nothing of the wire.
///
/// Unsigned protocol fields are held in wider Java types: 16-bit fields in `int`
/// (0..65,535), 32-bit fields in `long` (0..4,294,967,295). 64-bit timestamps and deltas are
/// held in `long` as raw bits, i.e. the unsigned wire value reinterpreted (use
/// [Long#compareUnsigned] / [Long#toUnsignedString] where the sign matters). Timestamps and
/// deltas are in **100 ns units**, as on the wire.
///
/// Constructors validate ranges and throw [IllegalArgumentException]: building an invalid
/// message is a programming error. Decoding never throws; it rejects instead.
public sealed interface QlpbMessage {

    /// The `Proto_and_Msg_ID` byte of this message.
    int messageId();

    /// The transport this message travels on.
    Transport transport();

    /// 0x00, TCP, initiator → sink: the sink discards this message and every byte after it on
    /// the connection (a "flood session": the initiator times how fast TCP drains).
    record Discard() implements QlpbMessage {
        @Override
        public int messageId() {
            return QlpbCodec.ID_DISCARD;
        }

        @Override
        public Transport transport() {
            return Transport.TCP;
        }
    }

    /// 0x01, TCP, initiator → sink: opens a packet-pair session on this connection.
    record PacketPairHandshake() implements QlpbMessage {
        @Override
        public int messageId() {
            return QlpbCodec.ID_PACKET_PAIR;
        }

        @Override
        public Transport transport() {
            return Transport.TCP;
        }
    }

    /// 0x02, TCP, initiator → sink: opens a route-check session on this connection.
    record RouteCheckHandshake() implements QlpbMessage {
        @Override
        public int messageId() {
            return QlpbCodec.ID_ROUTE_CHECK;
        }

        @Override
        public Transport transport() {
            return Transport.TCP;
        }
    }

    /// 0x01 or 0x02 with the [QlpbCodec#FLAG_AUTHENTICATED] flag, TCP, initiator → sink —
    /// beyond [MS-QLPB]: a packet-pair or route-check handshake followed by a timestamp, a
    /// random nonce and an HMAC-SHA256 over the header, the timestamp and the nonce (see
    /// [HandshakeAuth]). Sent only by an initiator configured with a shared secret.
    ///
    /// @param handshakeId [QlpbCodec#ID_PACKET_PAIR] or [QlpbCodec#ID_ROUTE_CHECK]
    /// @param timestampMs the initiator's wall clock, ms since the epoch (unsigned 64-bit)
    /// @param nonce       [QlpbCodec#AUTH_NONCE_BYTES] random bytes (copied)
    /// @param mac         [QlpbCodec#AUTH_MAC_BYTES] bytes of HMAC-SHA256 (copied)
    record AuthenticatedHandshake(int handshakeId, long timestampMs, byte[] nonce, byte[] mac)
            implements QlpbMessage {
        public AuthenticatedHandshake {
            if (handshakeId != QlpbCodec.ID_PACKET_PAIR && handshakeId != QlpbCodec.ID_ROUTE_CHECK) {
                throw new IllegalArgumentException("handshakeId must be 0x01 or 0x02, was " + handshakeId);
            }
            Objects.requireNonNull(nonce, "nonce");
            Objects.requireNonNull(mac, "mac");
            if (nonce.length != QlpbCodec.AUTH_NONCE_BYTES || mac.length != QlpbCodec.AUTH_MAC_BYTES) {
                throw new IllegalArgumentException("nonce has " + QlpbCodec.AUTH_NONCE_BYTES + " bytes and mac "
                        + QlpbCodec.AUTH_MAC_BYTES);
            }
            nonce = nonce.clone();
            mac = mac.clone();
        }

        @Override
        public int messageId() {
            return handshakeId;
        }

        @Override
        public Transport transport() {
            return Transport.TCP;
        }

        /// A copy of the nonce.
        @Override
        public byte[] nonce() {
            return nonce.clone();
        }

        /// A copy of the MAC.
        @Override
        public byte[] mac() {
            return mac.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof AuthenticatedHandshake a && handshakeId == a.handshakeId
                    && timestampMs == a.timestampMs && Arrays.equals(nonce, a.nonce) && Arrays.equals(mac, a.mac);
        }

        @Override
        public int hashCode() {
            return (Objects.hash(handshakeId, timestampMs) * 31 + Arrays.hashCode(nonce)) * 31 + Arrays.hashCode(mac);
        }

        @Override
        public String toString() {
            return "AuthenticatedHandshake[handshakeId=" + handshakeId + ", timestampMs="
                    + Long.toUnsignedString(timestampMs) + ", nonce=" + hex(nonce) + ", mac=" + hex(mac) + "]";
        }
    }

    /// 0x1E, TCP, sink → initiator: the sink accepted the handshake.
    record HandshakeSuccess() implements QlpbMessage {
        @Override
        public int messageId() {
            return QlpbCodec.ID_HANDSHAKE_SUCCESS;
        }

        @Override
        public Transport transport() {
            return Transport.TCP;
        }
    }

    /// 0x01, UDP, initiator → sink: one probe of a packet-pair train.
    ///
    /// @param initiatorPort      the initiator's local TCP port of the handshake connection
    ///                           (identifies the session together with the source address)
    /// @param trainSize          probes in the train: 0 = filler the sink ignores, 2..65,535
    ///                           (1 is invalid)
    /// @param sequence           the probe's sequence number (unsigned 32-bit)
    /// @param first              the `F` flag: first probe of its train
    /// @param payloadLengthBytes length of the padding after the 12-byte header; its content
    ///                           is meaningless (random on the wire, zeros from [QlpbCodec])
    record PacketPairProbe(int initiatorPort, int trainSize, long sequence, boolean first, int payloadLengthBytes)
            implements QlpbMessage {
        public PacketPairProbe {
            checkProbe(initiatorPort, trainSize, sequence, payloadLengthBytes);
        }

        @Override
        public int messageId() {
            return QlpbCodec.ID_PACKET_PAIR;
        }

        @Override
        public Transport transport() {
            return Transport.UDP;
        }
    }

    /// 0x02, UDP, initiator → sink: one probe of a route-check train.
    ///
    /// @param initiatorPort      the initiator's local TCP port of the handshake connection
    /// @param trainSize          0 for every probe but the train's last, which carries the
    ///                           train's length (5 in qWAVE); 1 is invalid
    /// @param sequence           the probe's sequence number (unsigned 32-bit)
    /// @param oversized          the `O` flag: deliberately larger than a 1514-byte frame once
    ///                           an 802.1Q tag is added
    /// @param payloadLengthBytes length of the padding after the 12-byte header
    record RouteCheckProbe(int initiatorPort, int trainSize, long sequence, boolean oversized, int payloadLengthBytes)
            implements QlpbMessage {
        public RouteCheckProbe {
            checkProbe(initiatorPort, trainSize, sequence, payloadLengthBytes);
        }

        @Override
        public int messageId() {
            return QlpbCodec.ID_ROUTE_CHECK;
        }

        @Override
        public Transport transport() {
            return Transport.UDP;
        }
    }

    /// What a probegap probe and its reflection share: the same fields, value semantics over
    /// the payload's contents, and UDP.
    sealed interface Probegap extends QlpbMessage permits ProbegapProbe, ProbegapReflected {
        long sequence();

        long initiatorSendTimestamp100ns();

        long sinkRecvTimestamp100ns();

        long sinkSendTimestamp100ns();

        /// A copy of the payload.
        byte[] payload();

        /// The payload's length in bytes (no copy).
        int payloadLengthBytes();

        @Override
        default Transport transport() {
            return Transport.UDP;
        }

        /// Equal fields and payload bytes (`a` and `b` of the same record type).
        private static boolean sameValue(Probegap a, Probegap b, byte[] aPayload, byte[] bPayload) {
            return a.sequence() == b.sequence() && a.initiatorSendTimestamp100ns() == b.initiatorSendTimestamp100ns()
                    && a.sinkRecvTimestamp100ns() == b.sinkRecvTimestamp100ns()
                    && a.sinkSendTimestamp100ns() == b.sinkSendTimestamp100ns() && Arrays.equals(aPayload, bPayload);
        }

        private static int hash(Probegap m, byte[] payload) {
            return Objects.hash(m.sequence(), m.initiatorSendTimestamp100ns(), m.sinkRecvTimestamp100ns(),
                    m.sinkSendTimestamp100ns()) * 31 + Arrays.hashCode(payload);
        }

        private static String describe(Probegap m, byte[] payload) {
            return m.getClass().getSimpleName() + "[sequence=" + m.sequence() + ", initiatorSendTimestamp100ns="
                    + Long.toUnsignedString(m.initiatorSendTimestamp100ns()) + ", sinkRecvTimestamp100ns="
                    + Long.toUnsignedString(m.sinkRecvTimestamp100ns()) + ", sinkSendTimestamp100ns="
                    + Long.toUnsignedString(m.sinkSendTimestamp100ns()) + ", payload=" + hex(payload) + "]";
        }
    }

    /// 0x05, UDP, initiator → sink: a probegap probe. The initiator sends the sink timestamps
    /// as 0.
    ///
    /// @param sequence                 unsigned 32-bit sequence number
    /// @param initiatorSendTimestamp100ns the initiator's (scheduled) send time
    /// @param sinkRecvTimestamp100ns   the sink's receive time (0 from the initiator)
    /// @param sinkSendTimestamp100ns   the sink's send time (0 from the initiator)
    /// @param payload                  optional payload, echoed verbatim by the sink (copied;
    ///                                 never `null`)
    record ProbegapProbe(long sequence, long initiatorSendTimestamp100ns, long sinkRecvTimestamp100ns,
                         long sinkSendTimestamp100ns, byte[] payload) implements Probegap {
        public ProbegapProbe {
            checkU32("sequence", sequence);
            payload = checkProbegapPayload(payload);
        }

        @Override
        public int messageId() {
            return QlpbCodec.ID_PROBEGAP;
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }

        @Override
        public int payloadLengthBytes() {
            return payload.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ProbegapProbe p && Probegap.sameValue(this, p, payload, p.payload);
        }

        @Override
        public int hashCode() {
            return Probegap.hash(this, payload);
        }

        @Override
        public String toString() {
            return Probegap.describe(this, payload);
        }
    }

    /// 0x06, UDP, sink → initiator: a probegap probe reflected by the sink, with its receive
    /// and send timestamps filled in; sequence, initiator timestamp and payload are the
    /// probe's.
    ///
    /// @param sequence                    the probe's sequence number
    /// @param initiatorSendTimestamp100ns the probe's initiator timestamp, unchanged
    /// @param sinkRecvTimestamp100ns      the sink's clock when the probe arrived
    /// @param sinkSendTimestamp100ns      the sink's clock just before the reply was sent
    /// @param payload                     the probe's payload, unchanged (copied; never `null`)
    record ProbegapReflected(long sequence, long initiatorSendTimestamp100ns, long sinkRecvTimestamp100ns,
                             long sinkSendTimestamp100ns, byte[] payload) implements Probegap {
        public ProbegapReflected {
            checkU32("sequence", sequence);
            payload = checkProbegapPayload(payload);
        }

        @Override
        public int messageId() {
            return QlpbCodec.ID_PROBEGAP_REFLECTED;
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }

        @Override
        public int payloadLengthBytes() {
            return payload.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ProbegapReflected p && Probegap.sameValue(this, p, payload, p.payload);
        }

        @Override
        public int hashCode() {
            return Probegap.hash(this, payload);
        }

        @Override
        public String toString() {
            return Probegap.describe(this, payload);
        }
    }

    /// 0x0A, TCP, sink → initiator: the receive-time spacing of one complete packet-pair train.
    ///
    /// @param sequence              the sequence number of the train's first probe
    /// @param interfaceSpeedBps     speed of the sink's receiving interface in bit/s
    ///                              (unsigned 32-bit; 0 = unknown; wireless: 60 % of the link
    ///                              speed)
    /// @param timestampDeltas100ns  receive-time deltas, newer − older, in arrival order:
    ///                              train size − 1 entries (1..65,534); copied
    record PacketPairSummary(long sequence, long interfaceSpeedBps, long[] timestampDeltas100ns)
            implements QlpbMessage {
        public PacketPairSummary {
            checkU32("sequence", sequence);
            checkU32("interfaceSpeedBps", interfaceSpeedBps);
            Objects.requireNonNull(timestampDeltas100ns, "timestampDeltas100ns");
            if (timestampDeltas100ns.length < 1 || timestampDeltas100ns.length > QlpbCodec.MAX_TIMESTAMP_DELTAS) {
                throw new IllegalArgumentException("a summary has 1.." + QlpbCodec.MAX_TIMESTAMP_DELTAS
                        + " deltas, not " + timestampDeltas100ns.length);
            }
            timestampDeltas100ns = timestampDeltas100ns.clone();
        }

        @Override
        public int messageId() {
            return QlpbCodec.ID_PACKET_PAIR_SUMMARY;
        }

        @Override
        public Transport transport() {
            return Transport.TCP;
        }

        /// A copy of the deltas.
        @Override
        public long[] timestampDeltas100ns() {
            return timestampDeltas100ns.clone();
        }

        /// Number of deltas (`Num_Timestamp_Deltas`).
        public int deltaCount() {
            return timestampDeltas100ns.length;
        }

        /// The `index`-th delta in 100 ns units (no copy).
        public long delta100ns(int index) {
            return timestampDeltas100ns[index];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PacketPairSummary s && sequence == s.sequence
                    && interfaceSpeedBps == s.interfaceSpeedBps
                    && Arrays.equals(timestampDeltas100ns, s.timestampDeltas100ns);
        }

        @Override
        public int hashCode() {
            return Objects.hash(sequence, interfaceSpeedBps) * 31 + Arrays.hashCode(timestampDeltas100ns);
        }

        @Override
        public String toString() {
            return "PacketPairSummary[sequence=" + sequence + ", interfaceSpeedBps=" + interfaceSpeedBps
                    + ", timestampDeltas100ns=" + Arrays.toString(timestampDeltas100ns) + "]";
        }
    }

    /// 0x14, TCP, sink → initiator: what the sink observed of the last route-check train.
    record RouteCheckSummary(Observation observation) implements QlpbMessage {
        public RouteCheckSummary {
            Objects.requireNonNull(observation, "observation");
        }

        @Override
        public int messageId() {
            return QlpbCodec.ID_ROUTE_CHECK_SUMMARY;
        }

        @Override
        public Transport transport() {
            return Transport.TCP;
        }
    }

    private static void checkProbe(int initiatorPort, int trainSize, long sequence, int payloadLengthBytes) {
        if (initiatorPort < 0 || initiatorPort > 0xFFFF) {
            throw new IllegalArgumentException("initiatorPort must be 0..65535, was " + initiatorPort);
        }
        if (trainSize < 0 || trainSize > 0xFFFF || trainSize == 1) {
            throw new IllegalArgumentException("trainSize must be 0 or 2..65535, was " + trainSize);
        }
        checkU32("sequence", sequence);
        if (payloadLengthBytes < 0 || payloadLengthBytes > QlpbCodec.MAX_DATAGRAM_BYTES - QlpbCodec.PROBE_HEADER_BYTES) {
            throw new IllegalArgumentException("payloadLengthBytes must be 0.."
                    + (QlpbCodec.MAX_DATAGRAM_BYTES - QlpbCodec.PROBE_HEADER_BYTES) + ", was " + payloadLengthBytes);
        }
    }

    private static byte[] checkProbegapPayload(byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        if (payload.length > QlpbCodec.MAX_DATAGRAM_BYTES - QlpbCodec.PROBEGAP_HEADER_BYTES) {
            throw new IllegalArgumentException("probegap payload too long: " + payload.length + " bytes");
        }
        return payload.clone();
    }

    private static void checkU32(String name, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(name + " must be an unsigned 32-bit value, was " + value);
        }
    }

    private static String hex(byte[] bytes) {
        return bytes.length <= 32 ? HexFormat.of().formatHex(bytes)
                : HexFormat.of().formatHex(bytes, 0, 32) + "…(" + bytes.length + " bytes)";
    }
}
