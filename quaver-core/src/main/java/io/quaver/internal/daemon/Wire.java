package io.quaver.internal.daemon;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/// The primitive encodings of the control protocol (big-endian): integers, booleans, enum
/// ordinals, UTF-8 strings (u16 length), socket addresses (u8 length 0/4/16, bytes, u16 port).
/// The reader rejects anything out of range with [Malformed]; it never throws anything else.
final class Wire {
    private Wire() {
    }

    /// A frame or field that does not decode.
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /// Builds a message body.
    static final class Writer {
        private byte[] buf = new byte[64];
        private int len;

        private void ensure(int n) {
            if (len + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
            }
        }

        Writer u8(int v) {
            ensure(1);
            buf[len++] = (byte) v;
            return this;
        }

        Writer bool(boolean v) {
            return u8(v ? 1 : 0);
        }

        Writer u16(int v) {
            return u8(v >>> 8).u8(v);
        }

        Writer i32(int v) {
            return u16(v >>> 16).u16(v & 0xFFFF);
        }

        Writer i64(long v) {
            return i32((int) (v >>> 32)).i32((int) v);
        }

        Writer str(String s) {
            byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
            int n = Math.min(b.length, 0xFFFF);
            u16(n);
            ensure(n);
            System.arraycopy(b, 0, buf, len, n);
            len += n;
            return this;
        }

        Writer addr(InetSocketAddress a) {
            if (a == null || a.getAddress() == null) {
                return u8(0);
            }
            byte[] b = a.getAddress().getAddress();
            u8(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, buf, len, b.length);
            len += b.length;
            return u16(a.getPort());
        }

        int length() {
            return len;
        }

        byte[] bytes() {
            return Arrays.copyOf(buf, len);
        }
    }

    /// Reads a message body; every read checks bounds and ranges.
    static final class Reader {
        private final ByteBuffer buf;

        Reader(ByteBuffer buf) {
            this.buf = buf;
        }

        private void need(int n) throws Malformed {
            if (buf.remaining() < n) {
                throw new Malformed("message truncated");
            }
        }

        int u8() throws Malformed {
            need(1);
            return buf.get() & 0xFF;
        }

        boolean bool() throws Malformed {
            int v = u8();
            if (v > 1) {
                throw new Malformed("bad boolean " + v);
            }
            return v == 1;
        }

        int u16() throws Malformed {
            need(2);
            return buf.getShort() & 0xFFFF;
        }

        int i32() throws Malformed {
            need(4);
            return buf.getInt();
        }

        long i64() throws Malformed {
            need(8);
            return buf.getLong();
        }

        /// An enum constant by ordinal.
        <E extends Enum<E>> E enumOf(Class<E> type) throws Malformed {
            int v = u8();
            E[] all = type.getEnumConstants();
            if (v >= all.length) {
                throw new Malformed("bad " + type.getSimpleName() + " " + v);
            }
            return all[v];
        }

        String str() throws Malformed {
            int n = u16();
            need(n);
            byte[] b = new byte[n];
            buf.get(b);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw new Malformed("bad UTF-8 string");
            }
        }

        /// A socket address, or `null` (length 0).
        InetSocketAddress addr() throws Malformed {
            int n = u8();
            if (n == 0) {
                return null;
            }
            if (n != 4 && n != 16) {
                throw new Malformed("bad address length " + n);
            }
            need(n + 2);
            byte[] b = new byte[n];
            buf.get(b);
            int port = buf.getShort() & 0xFFFF;
            try {
                return new InetSocketAddress(InetAddress.getByAddress(b), port);
            } catch (UnknownHostException | BufferUnderflowException e) {
                throw new Malformed("bad address");
            }
        }

        /// The body must be consumed exactly.
        void end() throws Malformed {
            if (buf.hasRemaining()) {
                throw new Malformed(buf.remaining() + " unexpected trailing bytes");
            }
        }
    }
}
