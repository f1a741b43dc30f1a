package io.quaver.qos2;

import java.nio.ByteBuffer;

/// `QOS_VERSION` (qwave.md §3.3): the QoS protocol version; only 1.0 is valid.
///
/// Layout, 4 bytes, little-endian:
///
/// | Offset | Field | C type |
/// | --- | --- | --- |
/// | 0 | `MajorVersion` | `USHORT` |
/// | 2 | `MinorVersion` | `USHORT` |
///
/// @param MajorVersion 0–65535; must be 1 for [Qos2#QOSCreateHandle]
/// @param MinorVersion 0–65535; must be 0 for [Qos2#QOSCreateHandle]
public record QOS_VERSION(int MajorVersion, int MinorVersion) {
    /// `sizeof(QOS_VERSION)`.
    public static final int SIZE = 4;

    /// @throws IllegalArgumentException when a field does not fit a `USHORT`
    public QOS_VERSION {
        if (MajorVersion < 0 || MajorVersion > 0xFFFF || MinorVersion < 0 || MinorVersion > 0xFFFF) {
            throw new IllegalArgumentException("QOS_VERSION fields are USHORT (0..65535): " + MajorVersion + "."
                    + MinorVersion);
        }
    }

    /// Reads the struct from index 0 of `buffer` (little-endian whatever the buffer's order;
    /// position and limit are ignored and left alone).
    ///
    /// @throws IndexOutOfBoundsException when the buffer's capacity is below [#SIZE]
    public static QOS_VERSION read(ByteBuffer buffer) {
        ByteBuffer b = Bytes.require(buffer, SIZE, "QOS_VERSION");
        return new QOS_VERSION(Short.toUnsignedInt(b.getShort(0)), Short.toUnsignedInt(b.getShort(2)));
    }

    /// Writes the struct at index 0 of `buffer` (little-endian; position and limit untouched).
    ///
    /// @throws IndexOutOfBoundsException when the buffer's capacity is below [#SIZE]
    /// @throws java.nio.ReadOnlyBufferException when the buffer is read-only
    public void write(ByteBuffer buffer) {
        ByteBuffer b = Bytes.require(buffer, SIZE, "QOS_VERSION");
        b.putShort(0, (short) MajorVersion);
        b.putShort(2, (short) MinorVersion);
    }
}
