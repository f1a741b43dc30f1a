package io.quaver.qos2;

import io.quaver.PacketPriority;

import java.nio.ByteBuffer;

/// `QOS_PACKET_PRIORITY` (qwave.md §3.3): the marks actually applied to a flow's traffic,
/// returned by `QOSQueryFlow(QOSQueryPacketPriority)`.
///
/// Layout, 16 bytes, little-endian:
///
/// | Offset | Field | C type |
/// | --- | --- | --- |
/// | 0 | `ConformantDSCPValue` | `ULONG` |
/// | 4 | `NonConformantDSCPValue` | `ULONG` |
/// | 8 | `ConformantL2Value` | `ULONG` |
/// | 12 | `NonConformantL2Value` | `ULONG` |
///
/// The `ULONG` fields are unsigned 32-bit values held in `int`s.
///
/// @param ConformantDSCPValue    DSCP (0–63) of traffic within the flow's rate
/// @param NonConformantDSCPValue DSCP of traffic beyond the rate (`QOSUseNonConformantMarkings`)
/// @param ConformantL2Value      802.1p user priority (0–7) of conformant traffic
/// @param NonConformantL2Value   802.1p user priority of traffic beyond the rate
public record QOS_PACKET_PRIORITY(int ConformantDSCPValue, int NonConformantDSCPValue, int ConformantL2Value,
                                  int NonConformantL2Value) {
    /// `sizeof(QOS_PACKET_PRIORITY)`.
    public static final int SIZE = 16;

    /// The struct for a Java API [PacketPriority].
    static QOS_PACKET_PRIORITY of(PacketPriority p) {
        return new QOS_PACKET_PRIORITY(p.conformantDscp(), p.nonConformantDscp(), p.conformantL2(),
                p.nonConformantL2());
    }

    /// Reads the struct from index 0 of `buffer` (little-endian whatever the buffer's order;
    /// position and limit are ignored and left alone).
    ///
    /// @throws IndexOutOfBoundsException when the buffer's capacity is below [#SIZE]
    public static QOS_PACKET_PRIORITY read(ByteBuffer buffer) {
        ByteBuffer b = Bytes.require(buffer, SIZE, "QOS_PACKET_PRIORITY");
        return new QOS_PACKET_PRIORITY(b.getInt(0), b.getInt(4), b.getInt(8), b.getInt(12));
    }

    /// Writes the struct at index 0 of `buffer` (little-endian; position and limit untouched).
    ///
    /// @throws IndexOutOfBoundsException when the buffer's capacity is below [#SIZE]
    /// @throws java.nio.ReadOnlyBufferException when the buffer is read-only
    public void write(ByteBuffer buffer) {
        ByteBuffer b = Bytes.require(buffer, SIZE, "QOS_PACKET_PRIORITY");
        b.putInt(0, ConformantDSCPValue);
        b.putInt(4, NonConformantDSCPValue);
        b.putInt(8, ConformantL2Value);
        b.putInt(12, NonConformantL2Value);
    }
}
