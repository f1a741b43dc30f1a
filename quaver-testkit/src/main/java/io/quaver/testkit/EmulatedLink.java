package io.quaver.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.net.SocketAddress;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/// One direction of a [LinkEmulator]: the [LinkModel] that decides each datagram's fate, a timed
/// queue ordered by delivery time, and a dedicated sender thread that sends each datagram at its
/// delivery time.
///
/// The sender waits with [Condition#awaitNanos] (which parks) until about `spinNs` (default
/// 100 µs) before the delivery time, then spins on [System#nanoTime()]: parking alone is only
/// accurate to the timer slack (50 µs by default on Linux) plus the wake-up latency, which at
/// 100 Mbit/s is more than a datagram's serialisation time. When the sender falls behind (a
/// descheduled thread, a GC pause), datagrams are sent late but their *schedule* is unchanged, so
/// the long-run rate stays exact; [LinkStats#maxLatenessNs()] shows how late, and
/// [#stalls(long, long)] when: a late relay delays datagrams exactly as a queue would, so a
/// congestion detector behind the emulator cannot tell the two apart, but a benchmark can.
///
/// Obtained from [LinkEmulator#forward()] and [LinkEmulator#reverse()]; every setter takes effect
/// for the datagrams that arrive afterwards.
public final class EmulatedLink {
    /// Sees every datagram the link delivered, on the link's sender thread (must be quick).
    @FunctionalInterface
    public interface DeliveryListener {
        /// @param arrivalNs when the relay's receiver had the datagram (`System.nanoTime()`)
        /// @param sentNs    when the relay's send to the next hop returned
        /// @param payload   the datagram's UDP payload (the link's own copy: do not modify)
        void delivered(long arrivalNs, long sentNs, byte[] payload);
    }

    private record Pending(long arrivalNs, long deliveryNs, long seq, byte[] data, DatagramChannel via, SocketAddress to)
            implements Comparable<Pending> {
        @Override
        public int compareTo(Pending o) {
            int c = Long.compare(deliveryNs, o.deliveryNs);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final LinkModel model;
    private final long spinNs;
    private final Consumer<Throwable> onFailure;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final PriorityQueue<Pending> queue = new PriorityQueue<>();
    private final Thread sender;
    private long seq;
    private volatile boolean closed;

    private final AtomicLong packetsDelivered = new AtomicLong();
    private final AtomicLong payloadBytesDelivered = new AtomicLong();
    private final AtomicLong sendErrors = new AtomicLong();
    private final AtomicLong latenessSumNs = new AtomicLong();
    private volatile long maxLatenessNs;
    /// Sends at least this late start or extend a [Stall].
    public static final long STALL_LATENESS_NS = 2_000_000L;
    private static final int MAX_STALLS = 4096;
    /// Guarded by itself; the sender thread appends, anyone reads.
    private final java.util.ArrayDeque<Stall> stallLog = new java.util.ArrayDeque<>();

    /// A stretch over which this direction's sender ran late: datagrams due from `fromNs` to
    /// `toNs` (their scheduled delivery times) left late, the latest by `maxLatenessNs`.
    ///
    /// @param fromNs        the scheduled delivery time of the first late datagram
    /// @param toNs          the actual send time of the last one
    /// @param maxLatenessNs the largest lateness within
    public record Stall(long fromNs, long toNs, long maxLatenessNs) {
    }

    private volatile DeliveryListener listener;

    EmulatedLink(String threadName, LinkConfig config, boolean ipv6, long spinNs, Consumer<Throwable> onFailure) {
        this.model = new LinkModel(config, System.nanoTime(), ipv6);
        this.spinNs = spinNs;
        this.onFailure = onFailure;
        this.sender = Thread.ofPlatform().name(threadName).daemon(true).unstarted(this::runSender);
    }

    void start() {
        sender.start();
    }

    /// Hands a received datagram to the link; `via` and `to` are where it will be sent.
    void accept(long arrivalNs, byte[] data, DatagramChannel via, SocketAddress to) {
        LinkModel.Verdict v = model.offer(arrivalNs, data.length);
        if (!v.delivered()) {
            return;
        }
        lock.lock();
        try {
            var p = new Pending(arrivalNs, v.deliveryNs(), seq++, data, via, to);
            queue.add(p);
            if (queue.peek() == p) {
                changed.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    private void runSender() {
        try {
            while (true) {
                Pending due;
                lock.lock();
                try {
                    while (true) {
                        if (closed) {
                            return;
                        }
                        Pending head = queue.peek();
                        if (head == null) {
                            changed.await();
                            continue;
                        }
                        long waitNs = head.deliveryNs() - System.nanoTime();
                        if (waitNs > spinNs) {
                            changed.awaitNanos(waitNs - spinNs);
                            continue;
                        }
                        due = head;
                        break;
                    }
                } finally {
                    lock.unlock();
                }
                while (System.nanoTime() - due.deliveryNs() < 0) {
                    if (closed) {
                        return;
                    }
                    Thread.onSpinWait();
                }
                lock.lock();
                try {
                    // The head, which may be an earlier datagram that arrived while spinning (only
                    // possible with reordering); either way it is due.
                    due = queue.poll();
                } finally {
                    lock.unlock();
                }
                send(due);
            }
        } catch (InterruptedException e) {
            if (!closed) {
                onFailure.accept(e);
            }
        } catch (Throwable t) {
            if (!closed) {
                onFailure.accept(t);
            }
        }
    }

    private void send(Pending p) {
        long latenessNs = System.nanoTime() - p.deliveryNs();
        try {
            int sent = p.via().send(ByteBuffer.wrap(p.data()), p.to());
            if (sent == 0 && p.data().length > 0) {
                sendErrors.incrementAndGet();
                return;
            }
        } catch (ClosedChannelException e) {
            if (!closed) {
                sendErrors.incrementAndGet();
            }
            return;
        } catch (IOException e) {
            sendErrors.incrementAndGet();
            return;
        }
        DeliveryListener l = listener;
        if (l != null) {
            l.delivered(p.arrivalNs(), System.nanoTime(), p.data());
        }
        packetsDelivered.incrementAndGet();
        payloadBytesDelivered.addAndGet(p.data().length);
        latenessSumNs.addAndGet(latenessNs);
        if (latenessNs > maxLatenessNs) {
            maxLatenessNs = latenessNs;
        }
        if (latenessNs >= STALL_LATENESS_NS) {
            noteStall(p.deliveryNs(), p.deliveryNs() + latenessNs, latenessNs);
        }
    }

    /// Records one late send (package-private for tests).
    void noteStall(long fromNs, long sentNs, long latenessNs) {
        synchronized (stallLog) {
            Stall last = stallLog.peekLast();
            if (last != null && fromNs - last.toNs() <= STALL_LATENESS_NS) {
                stallLog.pollLast();
                stallLog.addLast(new Stall(last.fromNs(), Math.max(last.toNs(), sentNs),
                        Math.max(last.maxLatenessNs(), latenessNs)));
                return;
            }
            if (stallLog.size() == MAX_STALLS) {
                stallLog.pollFirst();
            }
            stallLog.addLast(new Stall(fromNs, sentNs, latenessNs));
        }
    }

    /// The sender's stalls (sends at least [#STALL_LATENESS_NS] late, merged when they follow
    /// each other) that overlap `[fromNs, toNs]`, oldest first; the last 4096 are kept.
    public java.util.List<Stall> stalls(long fromNs, long toNs) {
        synchronized (stallLog) {
            return stallLog.stream().filter(st -> st.toNs() - fromNs >= 0 && toNs - st.fromNs() >= 0).toList();
        }
    }

    void close() {
        closed = true;
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            sender.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (sender.isAlive()) {
            sender.interrupt();
        }
    }

    Thread thread() {
        return sender;
    }

    /// A snapshot of the counters.
    public LinkStats stats() {
        LinkModel.Counters c = model.counters(System.nanoTime());
        long delivered = packetsDelivered.get();
        return new LinkStats(c.packetsIn(), c.payloadBytesIn(), delivered, payloadBytesDelivered.get(),
                c.packetsDroppedByQueue(), c.packetsLost(), sendErrors.get(), c.crossTrafficPackets(),
                c.crossTrafficWireBytes(), c.crossTrafficPacketsDropped(), c.backlogWireBytes(), maxLatenessNs,
                delivered == 0 ? 0 : latenessSumNs.get() / delivered);
    }

    /// The current parameters.
    /// Sets (or with `null` removes) the listener told of every delivered datagram: the delay
    /// the relay actually applied (`sentNs − arrivalNs`: the configured delay, queueing and
    /// serialisation, plus the relay's own lateness and send call), for benchmarks that
    /// compare a measured delay with the emulated one.
    public void setDeliveryListener(DeliveryListener listener) {
        this.listener = listener;
    }

    public LinkConfig config() {
        return model.config();
    }

    /// Per-datagram overhead counted against the rate, bytes (the resolved [LinkConfig#overheadBytes()]).
    public int overheadBytes() {
        return model.overheadBytes();
    }

    /// Changes the bottleneck rate ([LinkConfig#UNLIMITED_RATE] to remove it).
    public void setRateBps(long rateBps) {
        model.setRateBps(System.nanoTime(), rateBps);
    }

    public void setQueueLimitBytes(long queueLimitBytes) {
        model.setQueueLimitBytes(queueLimitBytes);
    }

    public void setDelayNs(long delayNs) {
        model.setDelayNs(delayNs);
    }

    public void setJitterNs(long jitterNs) {
        model.setJitterNs(jitterNs);
    }

    public void setReordering(boolean reordering) {
        model.setReordering(reordering);
    }

    public void setLossRatio(double lossRatio) {
        model.setLossRatio(lossRatio);
    }

    /// Replaces the cross-traffic model.
    public void setCrossTraffic(CrossTraffic crossTraffic) {
        model.setCrossTraffic(System.nanoTime(), crossTraffic);
    }

    /// Changes the rate of the current cross-traffic model (0 stops it).
    public void setCrossTrafficBps(long rateBps) {
        model.setCrossTrafficBps(System.nanoTime(), rateBps);
    }
}
