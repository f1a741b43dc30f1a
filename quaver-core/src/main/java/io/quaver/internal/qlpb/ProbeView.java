package io.quaver.internal.qlpb;

import java.nio.ByteBuffer;

/// A reusable, mutable view of one UDP datagram of [MS-QLPB] — the allocation-free decoding
/// path for the sink's probe loop. [#decode(ByteBuffer)] validates the datagram and fills the
/// fields; nothing is copied and nothing is allocated. The payload stays in the datagram's
/// buffer.
///
/// Not thread-safe: one view per receiving thread. [QlpbCodec#decode(ByteBuffer, Transport)]
/// uses the same validation for UDP, so both paths accept exactly the same datagrams.
public final class ProbeView {
    private int messageId = -1;
    private int flags;
    private int lengthBytes;
    private int initiatorPort;
    private int trainSize;
    private long sequence;
    private long initiatorSendTimestamp100ns;
    private long sinkRecvTimestamp100ns;
    private long sinkSendTimestamp100ns;
    private Rejection rejection;

    /// Validates the datagram between the buffer's position and limit and, if it is a valid
    /// UDP message (packet-pair probe, route-check probe, probegap probe or reflected probegap),
    /// fills this view. The buffer's position and limit are not changed. Fields are read
    /// big-endian whatever the buffer's byte order (a big-endian buffer, the default, costs no
    /// allocation).
    ///
    /// @return `true` if valid; otherwise [#rejection()] says why and the other accessors are
    ///         meaningless
    public boolean decode(ByteBuffer buffer) {
        ByteBuffer datagram = QlpbCodec.bigEndian(buffer);
        int base = datagram.position();
        int length = datagram.remaining();
        rejection = null;
        messageId = -1;
        if (length < QlpbCodec.HEADER_BYTES) {
            return reject(Rejection.TRUNCATED);
        }
        int id = datagram.get(base) & 0xFF;
        int version = datagram.get(base + 3) & 0xFF;
        switch (id) {
            case QlpbCodec.ID_PACKET_PAIR, QlpbCodec.ID_ROUTE_CHECK -> {
                if (version != QlpbCodec.VERSION_DEFAULT) {
                    return reject(Rejection.UNSUPPORTED_VERSION);
                }
                if (length < QlpbCodec.PROBE_HEADER_BYTES) {
                    return reject(Rejection.TRUNCATED);
                }
                int train = datagram.getShort(base + 6) & 0xFFFF;
                if (train == 1) {
                    return reject(Rejection.BAD_TRAIN_SIZE);
                }
                initiatorPort = datagram.getShort(base + 4) & 0xFFFF;
                trainSize = train;
                sequence = datagram.getInt(base + 8) & 0xFFFF_FFFFL;
                initiatorSendTimestamp100ns = 0;
                sinkRecvTimestamp100ns = 0;
                sinkSendTimestamp100ns = 0;
            }
            case QlpbCodec.ID_PROBEGAP, QlpbCodec.ID_PROBEGAP_REFLECTED -> {
                if (version != QlpbCodec.VERSION_PROBEGAP) {
                    return reject(Rejection.UNSUPPORTED_VERSION);
                }
                if (length < QlpbCodec.PROBEGAP_HEADER_BYTES) {
                    return reject(Rejection.TRUNCATED);
                }
                initiatorPort = 0;
                trainSize = 0;
                sequence = datagram.getInt(base + 4) & 0xFFFF_FFFFL;
                initiatorSendTimestamp100ns = datagram.getLong(base + 8);
                sinkRecvTimestamp100ns = datagram.getLong(base + 16);
                sinkSendTimestamp100ns = datagram.getLong(base + 24);
            }
            default -> {
                return reject(Rejection.UNKNOWN_MESSAGE_ID);
            }
        }
        messageId = id;
        flags = datagram.get(base + 1) & 0xFF;
        lengthBytes = length;
        return true;
    }

    private boolean reject(Rejection why) {
        rejection = why;
        return false;
    }

    /// Why the last [#decode(ByteBuffer)] failed, or `null` if it succeeded.
    public Rejection rejection() {
        return rejection;
    }

    /// `Proto_and_Msg_ID` of the decoded datagram (0x01, 0x02, 0x05 or 0x06), -1 if invalid.
    public int messageId() {
        return messageId;
    }

    /// The raw `Flags` byte (reserved bits included, which receivers ignore).
    public int flags() {
        return flags;
    }

    /// The `F` flag of a packet-pair probe: first probe of its train.
    public boolean first() {
        return (flags & QlpbCodec.FLAG_FIRST) != 0;
    }

    /// The `O` flag of a route-check probe: deliberately oversized.
    public boolean oversized() {
        return (flags & QlpbCodec.FLAG_OVERSIZED) != 0;
    }

    /// Size of the whole datagram (headers and payload) in bytes.
    public int lengthBytes() {
        return lengthBytes;
    }

    /// Length of the payload after the message-specific header, in bytes.
    public int payloadLengthBytes() {
        return switch (messageId) {
            case QlpbCodec.ID_PACKET_PAIR, QlpbCodec.ID_ROUTE_CHECK -> lengthBytes - QlpbCodec.PROBE_HEADER_BYTES;
            case QlpbCodec.ID_PROBEGAP, QlpbCodec.ID_PROBEGAP_REFLECTED ->
                    lengthBytes - QlpbCodec.PROBEGAP_HEADER_BYTES;
            default -> 0;
        };
    }

    /// `Initiator_Port` of a packet-pair or route-check probe.
    public int initiatorPort() {
        return initiatorPort;
    }

    /// `Train_Size` of a packet-pair or route-check probe (0 or 2..65,535).
    public int trainSize() {
        return trainSize;
    }

    /// `Sequence_Number` (unsigned 32-bit).
    public long sequence() {
        return sequence;
    }

    /// `Initiator_Send_Timestamp` of a probegap message, in 100 ns units (raw u64 bits).
    public long initiatorSendTimestamp100ns() {
        return initiatorSendTimestamp100ns;
    }

    /// `Sink_Recv_Timestamp` of a probegap message, in 100 ns units (raw u64 bits).
    public long sinkRecvTimestamp100ns() {
        return sinkRecvTimestamp100ns;
    }

    /// `Sink_Send_Timestamp` of a probegap message, in 100 ns units (raw u64 bits).
    public long sinkSendTimestamp100ns() {
        return sinkSendTimestamp100ns;
    }
}
