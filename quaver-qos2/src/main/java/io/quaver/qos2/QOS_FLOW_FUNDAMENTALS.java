package io.quaver.qos2;

import io.quaver.FlowFundamentals;

import java.nio.ByteBuffer;

/// `QOS_FLOW_FUNDAMENTALS` (qwave.md §3.3): the path estimates of an adaptive flow, returned
/// by `QOSQueryFlow(QOSQueryFlowFundamentals)`. Each value is meaningful only when its `…Set`
/// flag is true.
///
/// Layout, 40 bytes (aligned to 8), little-endian:
///
/// | Offset | Field | C type |
/// | --- | --- | --- |
/// | 0 | `BottleneckBandwidthSet` | `BOOL` |
/// | 4 | (padding) | 4 bytes |
/// | 8 | `BottleneckBandwidth` | `UINT64` |
/// | 16 | `AvailableBandwidthSet` | `BOOL` |
/// | 20 | (padding) | 4 bytes |
/// | 24 | `AvailableBandwidth` | `UINT64` |
/// | 32 | `RTTSet` | `BOOL` |
/// | 36 | `RTT` | `UINT32` |
///
/// A `BOOL` is read as true when non-zero and written as 1 (TRUE) or 0; [#write] writes the
/// padding as zeros.
///
/// @param BottleneckBandwidthSet whether `BottleneckBandwidth` holds a value
/// @param BottleneckBandwidth    bottleneck bandwidth, bits/s at the IP level (unsigned)
/// @param AvailableBandwidthSet  whether `AvailableBandwidth` holds a value
/// @param AvailableBandwidth     available bandwidth, bits/s at the IP level (unsigned)
/// @param RTTSet                 whether `RTT` holds a value
/// @param RTT                    round-trip time in microseconds (unsigned 32-bit)
public record QOS_FLOW_FUNDAMENTALS(boolean BottleneckBandwidthSet, long BottleneckBandwidth,
                                    boolean AvailableBandwidthSet, long AvailableBandwidth,
                                    boolean RTTSet, int RTT) {
    /// `sizeof(QOS_FLOW_FUNDAMENTALS)`.
    public static final int SIZE = 40;

    /// The struct for Java API estimates; an RTT beyond `UINT32` (about 71 minutes) is
    /// reported as `0xFFFFFFFF`.
    static QOS_FLOW_FUNDAMENTALS of(FlowFundamentals f) {
        long rtt = f.rttUs().orElse(0);
        return new QOS_FLOW_FUNDAMENTALS(
                f.bottleneckBps().isPresent(), f.bottleneckBps().orElse(0),
                f.availableBps().isPresent(), f.availableBps().orElse(0),
                f.rttUs().isPresent(), (int) Math.min(Math.max(rtt, 0), 0xFFFF_FFFFL));
    }

    /// Reads the struct from index 0 of `buffer` (little-endian whatever the buffer's order;
    /// position and limit are ignored and left alone).
    ///
    /// @throws IndexOutOfBoundsException when the buffer's capacity is below [#SIZE]
    public static QOS_FLOW_FUNDAMENTALS read(ByteBuffer buffer) {
        ByteBuffer b = Bytes.require(buffer, SIZE, "QOS_FLOW_FUNDAMENTALS");
        return new QOS_FLOW_FUNDAMENTALS(b.getInt(0) != 0, b.getLong(8), b.getInt(16) != 0, b.getLong(24),
                b.getInt(32) != 0, b.getInt(36));
    }

    /// Writes the struct, padding included, at index 0 of `buffer` (little-endian; position and
    /// limit untouched).
    ///
    /// @throws IndexOutOfBoundsException when the buffer's capacity is below [#SIZE]
    /// @throws java.nio.ReadOnlyBufferException when the buffer is read-only
    public void write(ByteBuffer buffer) {
        ByteBuffer b = Bytes.require(buffer, SIZE, "QOS_FLOW_FUNDAMENTALS");
        b.putInt(0, BottleneckBandwidthSet ? 1 : 0);
        b.putInt(4, 0);
        b.putLong(8, BottleneckBandwidth);
        b.putInt(16, AvailableBandwidthSet ? 1 : 0);
        b.putInt(20, 0);
        b.putLong(24, AvailableBandwidth);
        b.putInt(32, RTTSet ? 1 : 0);
        b.putInt(36, RTT);
    }
}
