package io.quaver.internal.platform;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.quaver.internal.platform.LinuxNative.SockAddr;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Supplier;

/// The Linux platform: socket options the JDK lacks, set through FFM on a private duplicate of
/// the channel's descriptor (see [SocketFdFinder]), and host facts from `/proc`.
///
/// Every method returns `false` or an empty result, and never throws, when the channel is
/// closed, its descriptor cannot be identified, or the kernel refuses the call.
///
/// Ordering matters when marking a socket: on Linux, setting a *new* `IP_TOS` value (which the
/// JDK does for `StandardSocketOptions.IP_TOS`, on dual-stack IPv6 sockets too, alongside
/// `IPV6_TCLASS`) rewrites `SO_PRIORITY` to the kernel's `rt_tos2priority(tos)`. Set the TOS
/// first and [#setPriority] after it.
final class LinuxPlatform implements Platform {
    private static final System.Logger LOG = System.getLogger(LinuxPlatform.class.getName());
    private static final Path PROC_SELF_STATUS = Path.of("/proc/self/status");
    private static final Path PROC_SELF_FD = Path.of("/proc/self/fd");
    /// `CAP_NET_ADMIN` (linux/capability.h): its bit in the `CapEff` mask.
    private static final int CAP_NET_ADMIN_BIT = 12;

    private final SocketFdFinder finder;

    private LinuxPlatform(SocketFdFinder finder) {
        this.finder = finder;
    }

    /// Creates the Linux platform, or throws if this JVM cannot use it: an architecture outside
    /// [LinuxAbi]'s table, no `/proc/self/fd`, or FFM unavailable (native access denied, libc
    /// symbols missing, `errno` capture not working).
    static LinuxPlatform create() {
        String arch = System.getProperty("os.arch", "");
        if (!LinuxAbi.supportsArchitecture(arch)) {
            throw new UnsupportedOperationException("no Linux ABI table for architecture " + arch);
        }
        if (!Files.isDirectory(PROC_SELF_FD)) {
            throw new UnsupportedOperationException(PROC_SELF_FD + " is not available");
        }
        LinuxNative.selfTest();
        return new LinuxPlatform(new SocketFdFinder());
    }

    /// The finder this platform uses (for tests).
    SocketFdFinder finder() {
        return finder;
    }

    @Override
    public String name() {
        return "linux-ffm";
    }

    // ---- host facts ----------------------------------------------------------------------------

    @Override
    public boolean isPrivileged() {
        try {
            return isPrivileged(Files.readString(PROC_SELF_STATUS));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "cannot read " + PROC_SELF_STATUS + ": " + e);
            return false;
        }
    }

    /// Whether a `/proc/<pid>/status` text describes a privileged process: effective uid 0 (the
    /// second field of `Uid:`), or `CAP_NET_ADMIN` in `CapEff:` (a hexadecimal mask).
    static boolean isPrivileged(String procStatus) {
        for (String line : procStatus.split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields[0].equals("Uid:") && fields.length > 2 && fields[2].equals("0")) {
                return true;
            }
            if (fields[0].equals("CapEff:") && fields.length > 1) {
                try {
                    if ((Long.parseUnsignedLong(fields[1], 16) & (1L << CAP_NET_ADMIN_BIT)) != 0) {
                        return true;
                    }
                } catch (NumberFormatException ignored) {
                    // malformed: not privileged as far as we can tell
                }
            }
        }
        return false;
    }

    // ---- socket facts --------------------------------------------------------------------------

    @Override
    public SocketInfo describe(NetworkChannel channel) {
        return guard(() -> finder.withSocket(channel, LinuxPlatform::describeFd)).orElse(unknown(channel));
    }

    /// One lookup of the descriptor for both facts (the second would hit the finder's cache,
    /// but still pay a duplicate and its verification).
    @Override
    public SocketFacts socketFacts(NetworkChannel channel) {
        Optional<SocketFacts> facts = guard(() -> finder.withSocket(channel, fd -> {
            SocketInfo info = describeFd(fd);
            OptionalInt priority;
            try {
                priority = OptionalInt.of(LinuxNative.getsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_PRIORITY));
            } catch (LinuxNative.ErrnoException e) {
                priority = OptionalInt.empty();
            }
            return new SocketFacts(info, priority);
        }));
        return facts.orElseGet(() -> new SocketFacts(unknown(channel), OptionalInt.empty()));
    }

    private static SocketInfo unknown(NetworkChannel channel) {
        return new SocketInfo(SocketInfo.Family.UNKNOWN, false, isStreamChannel(channel));
    }

    private static SocketInfo describeFd(int fd) throws LinuxNative.ErrnoException {
        SockAddr local = LinuxNative.getsockname(fd);
        boolean stream = LinuxNative.getsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_TYPE) == LinuxAbi.SOCK_STREAM;
        return switch (local.family()) {
            case LinuxAbi.AF_INET -> new SocketInfo(SocketInfo.Family.INET, false, stream);
            case LinuxAbi.AF_INET6 -> new SocketInfo(SocketInfo.Family.INET6,
                    LinuxNative.getsockoptInt(fd, LinuxAbi.IPPROTO_IPV6, LinuxAbi.IPV6_V6ONLY) != 0, stream);
            default -> new SocketInfo(SocketInfo.Family.UNKNOWN, false, stream);
        };
    }

    private static boolean isStreamChannel(NetworkChannel channel) {
        return channel instanceof SocketChannel || channel instanceof ServerSocketChannel
                || channel instanceof AsynchronousSocketChannel || channel instanceof AsynchronousServerSocketChannel;
    }

    @Override
    public boolean setPriority(NetworkChannel channel, int priority) {
        return guard(() -> finder.withSocket(channel, fd -> {
            LinuxNative.setsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_PRIORITY, priority);
            return Boolean.TRUE;
        })).orElse(false);
    }

    @Override
    public OptionalInt priority(NetworkChannel channel) {
        return guard(() -> finder.withSocket(channel,
                fd -> LinuxNative.getsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_PRIORITY)))
                .map(OptionalInt::of).orElse(OptionalInt.empty());
    }

    /// {@inheritDoc}
    ///
    /// On a dual-stack IPv6 socket a refused `IP_TTL` is tolerated (old kernels): the IPv6 hop
    /// limit alone then counts as applied.
    @Override
    public boolean setTtl(NetworkChannel channel, int ttl) {
        if (ttl != -1 && (ttl < 1 || ttl > 255)) {
            return false;
        }
        return guard(() -> finder.withSocket(channel, fd -> {
            SockAddr local = LinuxNative.getsockname(fd);
            if (local.family() == LinuxAbi.AF_INET6) {
                LinuxNative.setsockoptInt(fd, LinuxAbi.IPPROTO_IPV6, LinuxAbi.IPV6_UNICAST_HOPS, ttl);
                if (LinuxNative.getsockoptInt(fd, LinuxAbi.IPPROTO_IPV6, LinuxAbi.IPV6_V6ONLY) == 0) {
                    try {
                        LinuxNative.setsockoptInt(fd, LinuxAbi.IPPROTO_IP, LinuxAbi.IP_TTL, ttl);
                    } catch (LinuxNative.ErrnoException e) {
                        LOG.log(Level.DEBUG, () -> "IP_TTL on a dual-stack socket refused: " + e.getMessage());
                    }
                }
                return Boolean.TRUE;
            }
            LinuxNative.setsockoptInt(fd, LinuxAbi.IPPROTO_IP, LinuxAbi.IP_TTL, ttl);
            return Boolean.TRUE;
        })).orElse(false);
    }

    @Override
    public OptionalInt ttl(NetworkChannel channel) {
        return guard(() -> finder.withSocket(channel, fd -> {
            SockAddr local = LinuxNative.getsockname(fd);
            return local.family() == LinuxAbi.AF_INET6
                    ? LinuxNative.getsockoptInt(fd, LinuxAbi.IPPROTO_IPV6, LinuxAbi.IPV6_UNICAST_HOPS)
                    : LinuxNative.getsockoptInt(fd, LinuxAbi.IPPROTO_IP, LinuxAbi.IP_TTL);
        })).map(OptionalInt::of).orElse(OptionalInt.empty());
    }

    /// {@inheritDoc}
    ///
    /// Written as an 8-byte `unsigned long` (`-1` is `~0`) and read back: `true` only if the
    /// kernel now reports exactly the requested rate (a kernel older than 5.0 keeps only 32
    /// bits, so a rate ≥ 2³² B/s is then reported as not applied). The 8-byte form also keeps
    /// 4,294,967,295 B/s a finite rate: written as 4 bytes, `0xFFFFFFFF` would mean unlimited.
    /// Rates below `-1` are rejected with `false`.
    @Override
    public boolean setMaxPacingRate(NetworkChannel channel, long bytesPerSecond) {
        if (bytesPerSecond < -1) {
            return false;
        }
        return guard(() -> finder.withSocket(channel, fd -> {
            LinuxNative.setsockoptLong(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_MAX_PACING_RATE, bytesPerSecond);
            return LinuxNative.getsockoptUnsignedLong(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_MAX_PACING_RATE)
                    == bytesPerSecond;
        })).orElse(false);
    }

    /// {@inheritDoc}
    ///
    /// `~0` is reported as `-1`; so would be any rate of 2⁶³ B/s or more, which no kernel
    /// sets.
    @Override
    public OptionalLong maxPacingRate(NetworkChannel channel) {
        return guard(() -> finder.withSocket(channel, fd -> {
            long raw = LinuxNative.getsockoptUnsignedLong(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_MAX_PACING_RATE);
            return raw < 0 ? -1L : raw;
        })).map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    @Override
    public Optional<NetNamespace> namespaceOf(NetworkChannel channel) {
        return guard(() -> finder.withSocket(channel, fd -> {
            int ns = LinuxNative.socketNamespace(fd);
            long inode = NetNamespace.inodeOf(Path.of("/proc/self/fd/" + ns));
            return new NetNamespace(ns, inode);
        }));
    }

    /// `prctl(PR_SET_TIMERSLACK, 1)`.
    @Override
    public boolean preciseTimers() {
        try {
            LinuxNative.setTimerSlack(1);
            return true;
        } catch (LinuxNative.ErrnoException | RuntimeException e) {
            return false;
        }
    }

    /// {@inheritDoc}
    ///
    /// `ioctl(SIOCGSTAMPNS)` after each receive, see [KernelReceiveTimestamps].
    @Override
    public ReceiveTimestamps receiveTimestamps(DatagramChannel channel) {
        return KernelReceiveTimestamps.open(finder, channel);
    }

    /// {@inheritDoc}
    ///
    /// Empty unless the channel is connected.
    @Override
    public Optional<TcpInfo> tcpInfo(SocketChannel channel) {
        if (!channel.isConnected()) {
            return Optional.empty();
        }
        return guard(() -> finder.withSocket(channel, fd -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment info = LinuxNative.getsockoptBytes(arena, fd, LinuxAbi.IPPROTO_TCP, LinuxAbi.TCP_INFO,
                        LinuxAbi.TCP_INFO_BUFFER_SIZE);
                return info.byteSize() < LinuxAbi.TCP_INFO_MIN_SIZE ? null : parseTcpInfo(info);
            }
        }));
    }

    /// Decodes the fields of `struct tcp_info` that [TcpInfo] carries. `info` must hold at
    /// least [LinuxAbi#TCP_INFO_MIN_SIZE] bytes.
    static TcpInfo parseTcpInfo(MemorySegment info) {
        boolean appLimited = (info.get(JAVA_BYTE, LinuxAbi.TCPI_APP_LIMITED_BYTE) & LinuxAbi.TCPI_APP_LIMITED_MASK) != 0;
        return new TcpInfo(
                u32(info, LinuxAbi.TCPI_RTT),
                u32(info, LinuxAbi.TCPI_RTTVAR),
                u32(info, LinuxAbi.TCPI_MIN_RTT),
                bitsPerSecond(info.get(JAVA_LONG, LinuxAbi.TCPI_DELIVERY_RATE)),
                bitsPerSecond(info.get(JAVA_LONG, LinuxAbi.TCPI_PACING_RATE)),
                saturatedInt(u32(info, LinuxAbi.TCPI_SND_CWND)),
                saturatedInt(u32(info, LinuxAbi.TCPI_SND_MSS)),
                saturatedInt(u32(info, LinuxAbi.TCPI_LOST)),
                saturatedInt(u32(info, LinuxAbi.TCPI_TOTAL_RETRANS)),
                info.get(JAVA_LONG, LinuxAbi.TCPI_BYTES_ACKED),
                appLimited);
    }

    private static long u32(MemorySegment info, long offsetBytes) {
        return Integer.toUnsignedLong(info.get(JAVA_INT, offsetBytes));
    }

    private static int saturatedInt(long value) {
        return (int) Math.min(value, Integer.MAX_VALUE);
    }

    /// A kernel `__u64` rate in bytes/s as bits/s: `~0` (unlimited) becomes `-1`; anything
    /// that does not fit saturates at `Long.MAX_VALUE`.
    static long bitsPerSecond(long bytesPerSecondU64) {
        if (bytesPerSecondU64 == -1L) {
            return -1L;
        }
        if (bytesPerSecondU64 < 0 || bytesPerSecondU64 > Long.MAX_VALUE / Byte.SIZE) {
            return Long.MAX_VALUE;
        }
        return bytesPerSecondU64 * Byte.SIZE;
    }

    /// Runs a lookup, turning an unexpected runtime failure into "unavailable" so that no
    /// method of this class throws.
    private static <T> Optional<T> guard(Supplier<Optional<T>> lookup) {
        try {
            return lookup.get();
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "platform call failed: " + e);
            return Optional.empty();
        }
    }
}
