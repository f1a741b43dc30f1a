package io.quaver.qos2;

import io.quaver.FlowRateReason;
import io.quaver.OutgoingRate;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.Shaping;

import java.nio.ByteBuffer;

/// `QOS_FLOWRATE_OUTGOING` (qwave.md §3.3): the input of `QOSSetFlow(QOSSetOutgoingRate)`.
///
/// Layout, 16 bytes (aligned to 8), little-endian:
///
/// | Offset | Field | C type |
/// | --- | --- | --- |
/// | 0 | `Bandwidth` | `UINT64` |
/// | 8 | `ShapingBehavior` | `QOS_SHAPING` (32-bit enum) |
/// | 12 | `Reason` | `QOS_FLOWRATE_REASON` (32-bit enum) |
///
/// The enum fields are plain `int`s so that any value a C caller could pass can be expressed;
/// [Qos2#QOSSetFlow] rejects unknown values with `ERROR_INVALID_PARAMETER`.
///
/// @param Bandwidth       bits per second at the IP level, an unsigned 64-bit value; 0 removes
///                        shaping and marking; [Qos2#QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH]
///                        asks for a small default allotment
/// @param ShapingBehavior a `QOSShape…` / `QOSUseNonConformantMarkings` value
/// @param Reason          a `QOSFlowRate…` value
public record QOS_FLOWRATE_OUTGOING(long Bandwidth, int ShapingBehavior, int Reason) {
    /// `sizeof(QOS_FLOWRATE_OUTGOING)`.
    public static final int SIZE = 16;

    /// The Java API rate this struct asks for.
    ///
    /// @throws QosException `INVALID_PARAMETER` for an unknown shaping or reason value, or a
    ///         `Bandwidth` of 2^63 bits/s or more (the Java API holds rates in a signed `long`)
    OutgoingRate toOutgoingRate() {
        if (Bandwidth < 0) {
            throw new QosException(QosError.INVALID_PARAMETER, "Bandwidth " + Long.toUnsignedString(Bandwidth)
                    + " bit/s is beyond the supported range (< 2^63)");
        }
        return new OutgoingRate(Bandwidth, Shaping.fromValue(ShapingBehavior), FlowRateReason.fromValue(Reason));
    }

    /// Reads the struct from index 0 of `buffer` (little-endian whatever the buffer's order;
    /// position and limit are ignored and left alone).
    ///
    /// @throws IndexOutOfBoundsException when the buffer's capacity is below [#SIZE]
    public static QOS_FLOWRATE_OUTGOING read(ByteBuffer buffer) {
        ByteBuffer b = Bytes.require(buffer, SIZE, "QOS_FLOWRATE_OUTGOING");
        return new QOS_FLOWRATE_OUTGOING(b.getLong(0), b.getInt(8), b.getInt(12));
    }

    /// Writes the struct at index 0 of `buffer` (little-endian; position and limit untouched).
    ///
    /// @throws IndexOutOfBoundsException when the buffer's capacity is below [#SIZE]
    /// @throws java.nio.ReadOnlyBufferException when the buffer is read-only
    public void write(ByteBuffer buffer) {
        ByteBuffer b = Bytes.require(buffer, SIZE, "QOS_FLOWRATE_OUTGOING");
        b.putLong(0, Bandwidth);
        b.putInt(8, ShapingBehavior);
        b.putInt(12, Reason);
    }
}
