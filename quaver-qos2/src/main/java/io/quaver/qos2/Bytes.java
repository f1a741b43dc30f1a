package io.quaver.qos2;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/// Little-endian access to a caller's buffer from index 0, whatever its position, limit and
/// byte order: the buffer stands for C memory, and C structs start at the pointer.
final class Bytes {
    private Bytes() {
    }

    /// A little-endian view of all of `buffer` (index 0 to its capacity); it shares the
    /// content, and leaves the caller's position, limit and order alone.
    static ByteBuffer le(ByteBuffer buffer) {
        return buffer.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN);
    }

    /// Checks that `buffer` holds at least `size` bytes from index 0.
    ///
    /// @throws IndexOutOfBoundsException when its capacity is smaller
    static ByteBuffer require(ByteBuffer buffer, int size, String struct) {
        if (buffer.capacity() < size) {
            throw new IndexOutOfBoundsException(struct + " needs " + size + " bytes, the buffer's capacity is "
                    + buffer.capacity());
        }
        return le(buffer);
    }

    /// `UINT64` → `double` with C's round-to-nearest conversion of an unsigned value.
    static double unsignedToDouble(long value) {
        if (value >= 0) {
            return value;
        }
        // halve (keeping the lowest bit so rounding stays correct), convert, double
        return ((double) ((value >>> 1) | (value & 1))) * 2.0;
    }

    private static final double TWO_POW_63 = 0x1p63;
    private static final double TWO_POW_64 = 0x1p64;

    /// `double` → `UINT64` as C's `(UINT64) d` truncation toward zero, for `d` ≥ 0. C leaves
    /// values outside `[0, 2^64)` undefined; here negative values and NaN give 0 and values
    /// at or above 2^64 (including infinity) saturate to `0xFFFF_FFFF_FFFF_FFFF`.
    static long doubleToUnsigned(double d) {
        if (!(d > 0)) {
            return 0; // negative, zero or NaN
        }
        if (d < TWO_POW_63) {
            return (long) d;
        }
        if (d < TWO_POW_64) {
            return ((long) (d - TWO_POW_63)) | Long.MIN_VALUE;
        }
        return -1L;
    }
}
