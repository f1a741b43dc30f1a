package io.quaver;

import io.quaver.internal.platform.Platform;
import io.quaver.internal.platform.ReceiveTimestamps;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/// A UDP receiver on its own platform thread that timestamps every arrival and keeps the
/// payload size: the receiver side of the rate measurements.
///
/// Arrival times are the kernel's receive timestamps ([Platform#receiveTimestamps]) on the
/// [System#nanoTime()] clock: a reading taken after `receive()` returns is late by however
/// long this thread was not scheduled, so on a loaded host a stall would compress the arrivals
/// queued behind it (a spuriously high rate) or delay the last one (a low one). Where the
/// kernel's timestamps cannot be had ([#kernelTimestamps()] false) the reading after
/// `receive()` is used.
final class ArrivalRecorder implements AutoCloseable {
    /// The kernel enables receive timestamping from a work queue when a socket first asks, so
    /// the datagrams of the next moments may carry none; senders start after this.
    private static final long TIMESTAMPING_SETTLE_MS = 100;
    private final DatagramChannel channel;
    private final ReceiveTimestamps stamps;
    private final Thread thread;
    private long[] timesNs = new long[1 << 16];
    private int[] sizes = new int[1 << 16];
    private int count;

    ArrivalRecorder(DatagramChannel bound) {
        this.channel = bound;
        this.stamps = Platform.current().receiveTimestamps(bound);
        if (stamps.kernelTimestamps()) {
            try {
                Thread.sleep(TIMESTAMPING_SETTLE_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
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
                long t = stamps.receivedNs(System.nanoTime());
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

    /// Whether arrivals carry the kernel's receive timestamps (not the reading after `receive()`).
    boolean kernelTimestamps() {
        return stamps.kernelTimestamps();
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
        return count - from < 2 ? 0 : bytesAfter(from, headerBytes) * 8e9 / spanNs(from);
    }

    /// Asserts what a shaper of `rateBps` with a bucket of `burstBytes` guarantees whatever the
    /// load, on arrivals `from + 1` to the last (IP level: payload + `headerBytes` each): never
    /// faster than the rate plus the burst (what arrived within the span is at most
    /// `rate · span + burst`, plus `slackPackets` datagrams), and yet paced near the rate: the
    /// measured rate is at least `minShare` of it. A loaded host can only slow a sender down,
    /// so the lower bound is generous and the upper one tight. Returns the measured rate.
    synchronized double assertShapedTo(long rateBps, long burstBytes, int from, int headerBytes, int slackPackets,
                                       double minShare) {
        assertThat(count - from).as("arrivals measured").isGreaterThanOrEqualTo(2);
        long bytes = bytesAfter(from, headerBytes);
        long spanNs = spanNs(from);
        double measured = rateBps(from, headerBytes);
        long packet = sizes[count - 1] + headerBytes;
        // a reading after receive() may be compressed by a stall of this thread: 25 % leeway then
        double allowed = rateBps * (kernelTimestamps() ? 1.0 : 1.25) * spanNs / 8e9 + burstBytes
                + slackPackets * packet;
        assertThat((double) bytes).as("bytes arrived in %.1f ms at %d bit/s with a %d-byte bucket (%.3f Mbit/s)",
                spanNs / 1e6, rateBps, burstBytes, measured / 1e6).isLessThanOrEqualTo(allowed);
        assertThat(measured).as("receiver-measured IP rate, at least %.0f %% of the rate", minShare * 100)
                .isGreaterThanOrEqualTo(rateBps * minShare);
        return measured;
    }

    /// The IP-level bytes (payload + `headerBytes` per datagram) of arrivals `from + 1` to the
    /// last one: what arrived in [#spanNs(int)].
    synchronized long bytesAfter(int from, int headerBytes) {
        long bytes = 0;
        for (int i = from + 1; i < count; i++) {
            bytes += sizes[i] + headerBytes;
        }
        return bytes;
    }

    /// The time from arrival `from` to the last one, ns.
    synchronized long spanNs(int from) {
        return timesNs[count - 1] - timesNs[from];
    }

    synchronized long firstNs() {
        return timesNs[0];
    }

    synchronized long lastNs() {
        return timesNs[count - 1];
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            stamps.close();
        }
    }
}
