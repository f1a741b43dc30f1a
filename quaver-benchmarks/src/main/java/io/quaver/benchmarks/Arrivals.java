package io.quaver.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;

/// The receiver of the shaping benchmark: one platform thread that timestamps each arrival
/// (`System.nanoTime()`, the same clock as the sender: one host) and keeps the arrivals of the
/// current run only (the first 4 payload bytes carry the run id, so stragglers of an earlier
/// run are ignored).
final class Arrivals implements AutoCloseable {
    private final DatagramChannel channel;
    private final Thread thread;
    private volatile int run = -1;
    private long[] timesNs = new long[1 << 20];
    private int[] ipBytes = new int[1 << 20];
    private int count;
    private final int headerBytes;
    private volatile long threadId;

    Arrivals(DatagramChannel bound, int headerBytes) {
        this.channel = bound;
        this.headerBytes = headerBytes;
        this.thread = Thread.ofPlatform().name("bench-receiver").daemon(true).start(this::loop);
    }

    private void loop() {
        threadId = Thread.currentThread().threadId();
        ByteBuffer b = ByteBuffer.allocateDirect(65_536).order(ByteOrder.BIG_ENDIAN);
        try {
            while (true) {
                b.clear();
                if (channel.receive(b) == null) {
                    continue;
                }
                long t = System.nanoTime();
                if (b.position() < 4 || b.getInt(0) != run) {
                    continue;
                }
                synchronized (this) {
                    if (count < timesNs.length) {
                        timesNs[count] = t;
                        ipBytes[count] = b.position() + headerBytes;
                        count++;
                    }
                }
            }
        } catch (IOException closed) {
            // done
        }
    }

    /// Starts recording run `id` (forgetting the previous one).
    synchronized void start(int id) {
        count = 0;
        run = id;
    }

    /// Stops recording and returns (times, sizes).
    synchronized Snapshot stop() {
        run = -1;
        long[] t = java.util.Arrays.copyOf(timesNs, count);
        int[] s = java.util.Arrays.copyOf(ipBytes, count);
        return new Snapshot(t, s);
    }

    /// CPU time of the receiver thread (to subtract from the process's).
    long cpuNs() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        return threadId == 0 ? 0 : Math.max(0, mx.getThreadCpuTime(threadId));
    }

    record Snapshot(long[] timesNs, int[] ipBytes) {
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
