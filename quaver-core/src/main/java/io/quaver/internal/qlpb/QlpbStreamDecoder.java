package io.quaver.internal.qlpb;

import io.quaver.internal.qlpb.DecodeResult.Rejected;

import java.nio.ByteBuffer;
import java.util.Arrays;

/// Cuts the byte stream of a [MS-QLPB] TCP connection into messages, whatever the read
/// boundaries: bytes are accumulated by [#feed(ByteBuffer)] and [#poll()] returns a message as
/// soon as one is complete.
///
/// Framing: every TCP message is the 4-byte header alone, except the Packet Pair Summary
/// (0x0A), whose length is `16 + 8 × Num_Timestamp_Deltas` (the count sits at offset 14), and
/// the authenticated handshake (beyond [MS-QLPB]: flag 0x40 on 0x01/0x02, 60 bytes). A
/// header with an unknown id or a wrong version is rejected as soon as its 4 bytes are in,
/// and an impossible delta count as soon as its 16 bytes are in — without waiting for, or
/// buffering, a frame that will never be valid.
///
/// A rejection leaves the stream without framing (the protocol has no resynchronisation),
/// so the decoder becomes *failed*: every later [#poll()] returns the same rejection and the
/// caller should close the connection.
///
/// Not thread-safe; one decoder per connection. The internal buffer starts small and grows
/// to the largest frame seen (bounded by `maxDeltas`) plus whatever the caller feeds between
/// polls — poll until `null` after each feed.
public final class QlpbStreamDecoder {
    private final int maxDeltas;
    private byte[] buffer = new byte[64];
    private int start;
    private int end;
    private Rejected failure;

    /// A decoder that accepts summaries with up to 65,534 deltas (the protocol's limit).
    public QlpbStreamDecoder() {
        this(QlpbCodec.MAX_TIMESTAMP_DELTAS);
    }

    /// A decoder that rejects summaries announcing more than `maxDeltas` deltas (bounds the
    /// memory one connection can make it hold).
    public QlpbStreamDecoder(int maxDeltas) {
        if (maxDeltas < 1 || maxDeltas > QlpbCodec.MAX_TIMESTAMP_DELTAS) {
            throw new IllegalArgumentException("maxDeltas must be 1.." + QlpbCodec.MAX_TIMESTAMP_DELTAS);
        }
        this.maxDeltas = maxDeltas;
    }

    /// Appends all remaining bytes of `src` (its position moves to its limit).
    public void feed(ByteBuffer src) {
        int n = src.remaining();
        ensureRoom(n);
        src.get(buffer, end, n);
        end += n;
    }

    /// Appends `length` bytes of `src` from `offset`.
    public void feed(byte[] src, int offset, int length) {
        ensureRoom(length);
        System.arraycopy(src, offset, buffer, end, length);
        end += length;
    }

    private void ensureRoom(int n) {
        if (buffer.length - end >= n) {
            return;
        }
        int pending = end - start;
        if (start > 0) {
            System.arraycopy(buffer, start, buffer, 0, pending);
            start = 0;
            end = pending;
        }
        if (buffer.length - end < n) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, pending + n));
        }
    }

    /// The next complete message, a rejection, or `null` if the bytes fed so far end inside a
    /// message. Never throws.
    public DecodeResult poll() {
        if (failure != null) {
            return failure;
        }
        int available = end - start;
        if (available < QlpbCodec.HEADER_BYTES) {
            return null;
        }
        int id = buffer[start] & 0xFF;
        Rejection bad = QlpbCodec.checkTcpHeader(id, buffer[start + 3] & 0xFF);
        if (bad != null) {
            return fail(bad, QlpbCodec.HEADER_BYTES);
        }
        int frame = QlpbCodec.HEADER_BYTES;
        if (QlpbCodec.isAuthenticatedHandshake(id, buffer[start + 1] & 0xFF)) {
            frame = QlpbCodec.AUTH_HANDSHAKE_BYTES;
            if (available < frame) {
                return null;
            }
        } else if (id == QlpbCodec.ID_PACKET_PAIR_SUMMARY) {
            if (available < QlpbCodec.SUMMARY_FIXED_BYTES) {
                return null;
            }
            int count = ((buffer[start + 14] & 0xFF) << 8) | (buffer[start + 15] & 0xFF);
            Rejection countProblem = QlpbCodec.checkDeltaCount(count, maxDeltas);
            if (countProblem != null) {
                return fail(countProblem, QlpbCodec.SUMMARY_FIXED_BYTES);
            }
            frame = QlpbCodec.SUMMARY_FIXED_BYTES + count * QlpbCodec.DELTA_BYTES;
            if (available < frame) {
                return null;
            }
        }
        DecodeResult result = QlpbCodec.decode(ByteBuffer.wrap(buffer, start, frame), Transport.TCP, maxDeltas);
        if (result instanceof Rejected r) {
            failure = r;
            return r;
        }
        start += frame;
        if (start == end) {
            start = 0;
            end = 0;
        }
        return result;
    }

    private Rejected fail(Rejection reason, int headerBytes) {
        failure = new Rejected(reason, reason + " (stream, " + headerBytes + "-byte header, id "
                + String.format("0x%02X", buffer[start] & 0xFF) + ")");
        return failure;
    }

    /// Bytes fed but not yet returned as messages.
    public int buffered() {
        return end - start;
    }

    /// Drops the bytes fed but not yet returned (e.g. those following a Discard) and returns
    /// how many there were.
    public int discardBuffered() {
        int n = end - start;
        start = 0;
        end = 0;
        return n;
    }

    /// Whether a rejection ended the decoding of this stream.
    public boolean failed() {
        return failure != null;
    }
}
