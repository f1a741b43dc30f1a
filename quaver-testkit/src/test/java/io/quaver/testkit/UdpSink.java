package io.quaver.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/// Test helper: a UDP receiver on its own platform thread that records every datagram's arrival
/// time, size and the two longs at the start of its payload (sequence number, send timestamp).
/// Also holds the paced sender used by the throughput tests.
final class UdpSink implements AutoCloseable {
    private static final int CAPACITY = 400_000;

    final DatagramChannel channel;
    private final Thread thread;
    private final long[] arrivalNs = new long[CAPACITY];
    private final int[] sizes = new int[CAPACITY];
    private final long[] seqs = new long[CAPACITY];
    private final long[] sentNs = new long[CAPACITY];
    private volatile int count;
    private volatile boolean closed;

    private UdpSink(DatagramChannel channel) {
        this.channel = channel;
        this.thread = Thread.ofPlatform().name("test-udp-sink").daemon(true).start(this::run);
    }

    /// Binds a sink to `bind` on a channel already opened (for example inside a namespace).
    static UdpSink on(DatagramChannel channel) throws IOException {
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        return new UdpSink(channel);
    }

    static UdpSink loopback() throws IOException {
        DatagramChannel ch = DatagramChannel.open(java.net.StandardProtocolFamily.INET);
        ch.bind(new InetSocketAddress("127.0.0.1", 0));
        return on(ch);
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    private void run() {
        ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
        try {
            while (!closed) {
                buf.clear();
                channel.receive(buf);
                long now = System.nanoTime();
                buf.flip();
                int i = count;
                if (i >= CAPACITY) {
                    continue;
                }
                arrivalNs[i] = now;
                sizes[i] = buf.remaining();
                seqs[i] = buf.remaining() >= 8 ? buf.getLong(0) : -1;
                sentNs[i] = buf.remaining() >= 16 ? buf.getLong(8) : 0;
                count = i + 1;
            }
        } catch (ClosedChannelException e) {
            // closed
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    int count() {
        return count;
    }

    boolean awaitCount(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (count < n) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /// Waits until nothing has arrived for `quiet`.
    void awaitQuiet(Duration quiet, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            int now = count;
            if (now == last) {
                return;
            }
            last = now;
            Thread.sleep(quiet.toMillis());
        }
    }

    long arrivalNs(int i) {
        return arrivalNs[i];
    }

    long seq(int i) {
        return seqs[i];
    }

    long[] oneWayDelaysNs() {
        int n = count;
        long[] d = new long[n];
        for (int i = 0; i < n; i++) {
            d[i] = arrivalNs[i] - sentNs[i];
        }
        return d;
    }

    /// Rate in bits per second of the datagrams arriving at or after `fromNs`, each counted as
    /// payload + `overheadBytes`: bytes after the first arrival over the time from first to last.
    double rateBps(long fromNs, int overheadBytes) {
        return rateBps(fromNs, Long.MAX_VALUE, overheadBytes);
    }

    double rateBps(long fromNs, long toNs, int overheadBytes) {
        int n = count;
        long first = -1;
        long last = -1;
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            if (arrivalNs[i] < fromNs || arrivalNs[i] > toNs) {
                continue;
            }
            if (first < 0) {
                first = arrivalNs[i];
            } else {
                bytes += sizes[i] + overheadBytes;
            }
            last = arrivalNs[i];
        }
        return last > first ? bytes * 8e9 / (last - first) : 0;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static long median(long[] xs) {
        long[] s = xs.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static long percentile(long[] xs, double p) {
        long[] s = xs.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) (p * s.length))];
    }

    /// Sends `sizeBytes` datagrams (sequence number and send time in the first 16 bytes) to `to`
    /// at `rateBps` counting payload + `overheadBytes`, for `durationNs`; returns the count sent.
    static long pace(DatagramChannel ch, SocketAddress to, int sizeBytes, int overheadBytes, long rateBps,
            long durationNs) throws IOException {
        return pace(ch, to, sizeBytes, overheadBytes, rateBps, durationNs, Long.MAX_VALUE);
    }

    /// As above, stopping after `maxCount` datagrams.
    static long pace(DatagramChannel ch, SocketAddress to, int sizeBytes, int overheadBytes, long rateBps,
            long durationNs, long maxCount) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(sizeBytes);
        long gapNs = (sizeBytes + overheadBytes) * 8L * 1_000_000_000L / rateBps;
        long start = System.nanoTime();
        long seq = 0;
        while (true) {
            long due = start + seq * gapNs;
            long now = System.nanoTime();
            if (now - start >= durationNs || seq >= maxCount) {
                return seq;
            }
            if (due - now > 20_000) {
                LockSupport.parkNanos(due - now);
                continue;
            }
            buf.clear();
            buf.putLong(0, seq);
            buf.putLong(8, System.nanoTime());
            ch.send(buf, to);
            seq++;
        }
    }

    /// Sends `n` datagrams back to back with sequence numbers and send times.
    static void burst(DatagramChannel ch, SocketAddress to, int sizeBytes, int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(sizeBytes);
        for (int i = 0; i < n; i++) {
            buf.clear();
            buf.putLong(0, i);
            buf.putLong(8, System.nanoTime());
            ch.send(buf, to);
        }
    }
}
