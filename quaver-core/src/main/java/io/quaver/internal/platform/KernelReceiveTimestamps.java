package io.quaver.internal.platform;

import io.quaver.internal.platform.LinuxNative.ErrnoException;
import io.quaver.internal.platform.LinuxNative.StampBuffers;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.nio.channels.DatagramChannel;
import java.time.Instant;
import java.util.Optional;

/// [ReceiveTimestamps] from the Linux kernel: after each `receive()`, `ioctl(SIOCGSTAMPNS)`
/// reads the software receive timestamp of the datagram just read (`sk->sk_stamp`, written as
/// the datagram is dequeued), which the kernel took on arrival (`CLOCK_REALTIME`).
///
/// ## Why the ioctl and not `SO_TIMESTAMPNS`
/// The JDK's `receive()` passes no control buffer, so the `SO_TIMESTAMPNS` control message
/// cannot be read without replacing the JDK's receive by a native `recvmsg`. And the two do not
/// mix: with `SO_TIMESTAMP(NS)` set, the kernel puts timestamps in control messages only and
/// stops updating the value the ioctl reads (checked on Linux 6.18: the ioctl then keeps
/// answering its initial value). So `SO_TIMESTAMPNS` is **not** set. Instead one ioctl when
/// the object is created enables timestamping on the socket (`SOCK_TIMESTAMP`; it answers
/// `ENOENT` before the first datagram); without it, the first datagram would have no
/// timestamp and the first ioctl would answer the current time. The kernel turns its receive
/// timestamping on from a work queue when the first socket of the system asks, so datagrams
/// of the next few moments may still carry none: the ioctl then answers the time of the call,
/// which is clamped to the caller's reading (the fallback, for those datagrams only).
///
/// ## The descriptor
/// The channel's descriptor is found once ([SocketFdFinder], its sentinel proof included) and
/// duplicated: this object owns the duplicate for its lifetime, so a per-datagram ioctl costs
/// one downcall and no lookup, and a number reused after the channel closes can never be
/// touched. The duplicate keeps the socket open, so it is closed by [#close()], or by the
/// first [#receivedNs] that finds the channel closed.
///
/// ## Mapping to [System#nanoTime()]
/// One JVM-wide [RealtimeClockMapper] holds the offset between `CLOCK_REALTIME` (read through
/// [Instant#now()], which HotSpot reads with `clock_gettime(CLOCK_REALTIME)` at ns resolution)
/// and [System#nanoTime()], refreshed every second by whichever receiver maps a timestamp then
/// (a round of [#SAMPLES_PER_ROUND] bracketed reads, about a microsecond). A mapped time after
/// the caller's reading is clamped to it (within [#MAX_AHEAD_NS]: the mapping's uncertainty);
/// further ahead, or older than [#MAX_AGE_NS], it cannot be believed (a clock step: the
/// mapping is refreshed at once) and the caller's reading is used.
final class KernelReceiveTimestamps implements ReceiveTimestamps {
    private static final System.Logger LOG = System.getLogger(KernelReceiveTimestamps.class.getName());
    /// How far after the caller's reading a mapped timestamp may fall and still count.
    static final long MAX_AHEAD_NS = 2_000_000;
    /// How long before the caller's reading a mapped timestamp may fall and still count.
    static final long MAX_AGE_NS = 60_000_000_000L;
    /// Consecutive failed ioctls after which the kernel counts as not answering.
    static final int MAX_FAILURES = 16;
    /// Bracketed reads per refresh of the clock offset.
    static final int SAMPLES_PER_ROUND = 5;
    private static final long REFRESH_NS = 1_000_000_000L;
    private static final long KEEP_PRECISE_NS = 60_000_000_000L;
    private static final RealtimeClockMapper MAPPER = new RealtimeClockMapper(REFRESH_NS, KEEP_PRECISE_NS);

    private final DatagramChannel channel;
    private final StampBuffers buffers;
    // --- guarded by this
    private int fd;
    private int failures;
    // ---

    private KernelReceiveTimestamps(DatagramChannel channel, int fd, StampBuffers buffers) {
        this.channel = channel;
        this.fd = fd;
        this.buffers = buffers;
    }

    /// Kernel timestamps for `channel`, or [ReceiveTimestamps#userSpace()] if its descriptor
    /// cannot be found or the kernel refuses the ioctl.
    static ReceiveTimestamps open(SocketFdFinder finder, DatagramChannel channel) {
        Optional<Integer> own;
        try {
            own = finder.withSocket(channel, LinuxNative::dupCloexec);
        } catch (RuntimeException e) {
            own = Optional.empty();
        }
        if (own.isEmpty()) {
            LOG.log(Level.DEBUG, () -> "no descriptor for " + channel + ": user-space receive timestamps");
            return ReceiveTimestamps.userSpace();
        }
        int fd = own.get();
        StampBuffers buffers = StampBuffers.allocate(Arena.ofAuto());
        try {
            LinuxNative.receiveTimestampNs(fd, buffers); // enables timestamping (ENOENT: nothing read yet)
        } catch (ErrnoException e) {
            if (e.errno() != LinuxAbi.ENOENT) {
                closeQuietly(fd);
                LOG.log(Level.DEBUG, () -> "SIOCGSTAMPNS refused (" + e.getMessage()
                        + "): user-space receive timestamps");
                return ReceiveTimestamps.userSpace();
            }
        } catch (RuntimeException e) {
            closeQuietly(fd);
            LOG.log(Level.DEBUG, () -> "SIOCGSTAMPNS failed (" + e + "): user-space receive timestamps");
            return ReceiveTimestamps.userSpace();
        }
        return new KernelReceiveTimestamps(channel, fd, buffers);
    }

    @Override
    public long receivedNs(long userNs) {
        long realNs;
        synchronized (this) {
            if (fd < 0) {
                return userNs;
            }
            if (!channel.isOpen()) {
                closeLocked();
                return userNs;
            }
            try {
                realNs = LinuxNative.receiveTimestampNs(fd, buffers);
                failures = 0;
            } catch (ErrnoException | RuntimeException e) {
                if (++failures >= MAX_FAILURES) {
                    LOG.log(Level.DEBUG, () -> "SIOCGSTAMPNS keeps failing (" + e + "): user-space receive timestamps");
                    closeLocked();
                }
                return userNs;
            }
        }
        return toMonotonicNs(realNs, userNs);
    }

    /// `realNs` on the [System#nanoTime()] clock through the shared mapping, or `userNs` when
    /// the result cannot be believed.
    static long toMonotonicNs(long realNs, long userNs) {
        synchronized (MAPPER) {
            if (MAPPER.refreshDue(userNs)) {
                refresh();
            }
            long mappedNs = arrivalNs(MAPPER.toMonotonicNs(realNs), userNs);
            if (mappedNs == Long.MIN_VALUE) {
                MAPPER.invalidate(); // a clock step, perhaps: map again with a fresh offset
                refresh();
                mappedNs = arrivalNs(MAPPER.toMonotonicNs(realNs), userNs);
            }
            return mappedNs == Long.MIN_VALUE ? userNs : mappedNs;
        }
    }

    /// The arrival time to report for a kernel timestamp mapped to `mappedNs`, given the
    /// caller's reading after the receive: `mappedNs`, clamped to `userNs` when up to
    /// [#MAX_AHEAD_NS] after it; [Long#MIN_VALUE] when it cannot be believed (further ahead, or
    /// more than [#MAX_AGE_NS] before).
    static long arrivalNs(long mappedNs, long userNs) {
        long aheadNs = mappedNs - userNs;
        if (aheadNs > MAX_AHEAD_NS || -aheadNs > MAX_AGE_NS) {
            return Long.MIN_VALUE;
        }
        return aheadNs > 0 ? userNs : mappedNs;
    }

    private static void refresh() {
        for (int i = 0; i < SAMPLES_PER_ROUND; i++) {
            long beforeNs = System.nanoTime();
            Instant real = Instant.now();
            long afterNs = System.nanoTime();
            MAPPER.sample(beforeNs, real.getEpochSecond() * 1_000_000_000L + real.getNano(), afterNs);
        }
        MAPPER.endRound(System.nanoTime());
    }

    @Override
    public synchronized boolean kernelTimestamps() {
        return fd >= 0;
    }

    @Override
    public synchronized void close() {
        closeLocked();
    }

    private void closeLocked() {
        if (fd >= 0) {
            int owned = fd;
            fd = -1;
            closeQuietly(owned);
        }
    }

    private static void closeQuietly(int fd) {
        try {
            LinuxNative.close(fd);
        } catch (ErrnoException e) {
            LOG.log(Level.DEBUG, () -> "close(" + fd + ") failed: " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "KernelReceiveTimestamps[" + channel + "]";
    }
}
