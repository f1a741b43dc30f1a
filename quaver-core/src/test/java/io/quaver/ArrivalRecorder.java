package io.quaver;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;

/// A UDP receiver on its own platform thread that timestamps every arrival (`System.nanoTime()`)
/// and keeps the payload size: the receiver side of the rate measurements.
final class ArrivalRecorder implements AutoCloseable {
    private final DatagramChannel channel;
    private final Thread thread;
    private long[] timesNs = new long[1 << 16];
    private int[] sizes = new int[1 << 16];
    private int count;

    ArrivalRecorder(DatagramChannel bound) {
        this.channel = bound;
        this.thread = Thread.ofPlatform().name("arrival-recorder").daemon(true).start(this::run);
    }

    static ArrivalRecorder onLoopback() throws IOException {
        DatagramChannel ch = DatagramChannel.open();
        ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 8 << 20);
        ch.bind(new InetSocketAddress("127.0.0.1", 0));
        return new ArrivalRecorder(ch);
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    private void run() {
        ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
        try {
            while (true) {
                buf.clear();
                SocketAddress from = channel.receive(buf);
                if (from == null) {
                    continue;
                }
                long t = System.nanoTime();
                synchronized (this) {
                    if (count == timesNs.length) {
                        timesNs = Arrays.copyOf(timesNs, count * 2);
                        sizes = Arrays.copyOf(sizes, count * 2);
                    }
                    timesNs[count] = t;
                    sizes[count] = buf.position();
                    count++;
                    notifyAll();
                }
            }
        } catch (IOException closed) {
            // done
        }
    }

    synchronized int count() {
        return count;
    }

    /// Waits until `n` datagrams arrived (or the timeout passed); returns the count.
    synchronized int awaitCount(int n, long timeoutMs) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMs;
        while (count < n) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        return count;
    }

    /// The IP-level rate (payload + `headerBytes` per datagram) in bits/s measured from arrival
    /// `from` (skipping the initial burst) to the last one.
    synchronized double rateBps(int from, int headerBytes) {
        if (count - from < 2) {
            return 0;
        }
        long bytes = 0;
        for (int i = from + 1; i < count; i++) {
            bytes += sizes[i] + headerBytes;
        }
        return bytes * 8e9 / (timesNs[count - 1] - timesNs[from]);
    }

    synchronized long firstNs() {
        return timesNs[0];
    }

    synchronized long lastNs() {
        return timesNs[count - 1];
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
