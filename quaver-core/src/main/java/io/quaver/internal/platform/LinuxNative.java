package io.quaver.internal.platform;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/// The libc socket calls the Linux platform needs, bound once through the FFM API.
///
/// This class is the holder of the downcall handles: they are looked up in
/// `Linker.nativeLinker().defaultLookup()` when the class initialises, so a JVM without FFM
/// access (or without these symbols) fails here, once, and [Platforms] falls back to the
/// portable platform. Every handle captures `errno`, which is read only when the call returned
/// `-1`; such a failure surfaces as a checked [ErrnoException].
///
/// Each wrapper allocates its buffers in a confined arena of its own, so the class is
/// thread-safe. The wrappers operate on whatever fd number they are given: callers must pass a
/// descriptor they own (see [SocketFdFinder]).
final class LinuxNative {
    private LinuxNative() {
    }

    /// A system call returned `-1`.
    static final class ErrnoException extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient String call;
        private final int errno;

        ErrnoException(String call, int errno) {
            // No stack trace: these are expected outcomes (ENOTCONN, EBADF, EPERM), not bugs.
            super(call + " failed: errno " + errno, null, false, false);
            this.call = call;
            this.errno = errno;
        }

        /// The failing libc function, e.g. `setsockopt`.
        String call() {
            return call;
        }

        /// The captured `errno`.
        int errno() {
            return errno;
        }
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /// `int getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)`
    private static final MethodHandle GETSOCKOPT = downcall("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /// `int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)`
    private static final MethodHandle SETSOCKOPT = downcall("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    /// `int getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)`
    private static final MethodHandle GETSOCKNAME = downcall("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /// `int getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)`
    private static final MethodHandle GETPEERNAME = downcall("getpeername",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /// `int fcntl(int fd, int cmd, ...)`, bound for the `(int, int, int)` form.
    private static final MethodHandle FCNTL = downcall("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    /// `int close(int fd)`
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /// `int ioctl(int fd, unsigned long request, ...)`, bound for the argument-less form.
    private static final MethodHandle IOCTL = downcall("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    /// `int ioctl(int fd, unsigned long request, ...)`, bound for the form with a pointer.
    private static final MethodHandle IOCTL_POINTER = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    /// `int open(const char *path, int flags, ...)`, bound for the two-argument form.
    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    /// `int setns(int fd, int nstype)`
    private static final MethodHandle SETNS = downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    /// `int socket(int domain, int type, int protocol)`
    private static final MethodHandle SOCKET = downcall("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    /// `ssize_t send(int fd, const void *buf, size_t len, int flags)`
    private static final MethodHandle SEND = downcall("send",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    /// `ssize_t recv(int fd, void *buf, size_t len, int flags)`
    private static final MethodHandle RECV = downcall("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    /// `SIOCGSKNS` (linux/sockios.h): a new descriptor (close-on-exec) of the network namespace
    /// a socket belongs to; Linux ≥ 4.9.
    static final long SIOCGSKNS = 0x894C;
    /// `CLONE_NEWNET` (sched.h).
    static final int CLONE_NEWNET = 0x4000_0000;

    /// `int prctl(int option, ...)`, bound for the `(int, unsigned long)` form.
    private static final MethodHandle PRCTL = downcall("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    /// `PR_SET_TIMERSLACK` (linux/prctl.h).
    static final int PR_SET_TIMERSLACK = 29;

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /// Checks that the handles work: `fcntl(-1, F_DUPFD_CLOEXEC, 0)` must fail with `EBADF`,
    /// which proves both the call and the `errno` capture. Throws if anything is off.
    static void selfTest() {
        try {
            int fd = dupCloexec(-1);
            close(fd);
            throw new IllegalStateException("fcntl(-1) unexpectedly returned fd " + fd);
        } catch (ErrnoException expected) {
            if (expected.errno() != LinuxAbi.EBADF) {
                throw new IllegalStateException("errno capture returned " + expected.errno() + ", expected EBADF");
            }
        }
    }

    // ---- socket options ----------------------------------------------------------------------

    /// Reads an `int` socket option.
    static int getsockoptInt(int fd, int level, int option) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocateFrom(JAVA_INT, Integer.BYTES);
            getsockopt(arena, fd, level, option, value, length);
            return value.get(JAVA_INT, 0);
        }
    }

    /// Reads an `unsigned long` socket option (8 bytes on LP64). A kernel that answers with only
    /// 4 bytes is handled: its 32-bit value is zero-extended, and its `~0U` becomes `~0`.
    ///
    /// @return the value's 64 bits (so `-1` is `~0`)
    static long getsockoptUnsignedLong(int fd, int level, int option) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_LONG);
            MemorySegment length = arena.allocateFrom(JAVA_INT, Long.BYTES);
            getsockopt(arena, fd, level, option, value, length);
            int returnedBytes = length.get(JAVA_INT, 0);
            if (returnedBytes >= Long.BYTES) {
                return value.get(JAVA_LONG, 0);
            }
            int narrow = value.get(JAVA_INT, 0);
            return narrow == -1 ? -1L : Integer.toUnsignedLong(narrow);
        }
    }

    /// Reads a socket option into a buffer of `capacityBytes`.
    ///
    /// @return a segment (in `arena`) of exactly the length the kernel returned
    static MemorySegment getsockoptBytes(Arena arena, int fd, int level, int option, int capacityBytes)
            throws ErrnoException {
        MemorySegment value = arena.allocate(capacityBytes, Long.BYTES);
        MemorySegment length = arena.allocateFrom(JAVA_INT, capacityBytes);
        getsockopt(arena, fd, level, option, value, length);
        return value.asSlice(0, Math.min(capacityBytes, Math.max(0, length.get(JAVA_INT, 0))));
    }

    /// Writes an `int` socket option.
    static void setsockoptInt(int fd, int level, int option, int value) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            setsockopt(arena, fd, level, option, arena.allocateFrom(JAVA_INT, value), Integer.BYTES);
        }
    }

    /// Writes an 8-byte (`unsigned long` / `__u64`) socket option; `-1` is `~0`.
    static void setsockoptLong(int fd, int level, int option, long value) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            setsockopt(arena, fd, level, option, arena.allocateFrom(JAVA_LONG, value), Long.BYTES);
        }
    }

    private static void getsockopt(Arena arena, int fd, int level, int option, MemorySegment value,
                                   MemorySegment length) throws ErrnoException {
        MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
        int result;
        try {
            result = (int) GETSOCKOPT.invokeExact(state, fd, level, option, value, length);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        check("getsockopt", result, state);
    }

    private static void setsockopt(Arena arena, int fd, int level, int option, MemorySegment value, int lengthBytes)
            throws ErrnoException {
        MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
        int result;
        try {
            result = (int) SETSOCKOPT.invokeExact(state, fd, level, option, value, lengthBytes);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        check("setsockopt", result, state);
    }

    // ---- addresses ---------------------------------------------------------------------------

    /// A socket address as the kernel reports it.
    ///
    /// @param family  `AF_INET`, `AF_INET6`, or another `AF_*` value (then `address` is null)
    /// @param address the address and port; an IPv4-mapped IPv6 address becomes an
    ///                `Inet4Address`, as the JDK reports it; null for non-IP families
    record SockAddr(int family, InetSocketAddress address) {
        /// Whether this is an `AF_INET` or `AF_INET6` address.
        boolean isInet() {
            return address != null;
        }
    }

    /// `getsockname`: the socket's local address.
    static SockAddr getsockname(int fd) throws ErrnoException {
        return socketAddress("getsockname", GETSOCKNAME, fd);
    }

    /// `getpeername`: the connected peer's address (`ENOTCONN` if not connected).
    static SockAddr getpeername(int fd) throws ErrnoException {
        return socketAddress("getpeername", GETPEERNAME, fd);
    }

    private static SockAddr socketAddress(String call, MethodHandle handle, int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            MemorySegment storage = arena.allocate(LinuxAbi.SOCKADDR_STORAGE_SIZE, Long.BYTES);
            MemorySegment length = arena.allocateFrom(JAVA_INT, LinuxAbi.SOCKADDR_STORAGE_SIZE);
            int result;
            try {
                result = (int) handle.invokeExact(state, fd, storage, length);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            check(call, result, state);
            return parse(storage);
        }
    }

    private static SockAddr parse(MemorySegment storage) {
        int family = Short.toUnsignedInt(storage.get(JAVA_SHORT, LinuxAbi.SA_FAMILY_OFFSET));
        int port = Short.toUnsignedInt(storage.get(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), LinuxAbi.SIN_PORT_OFFSET));
        byte[] bytes;
        if (family == LinuxAbi.AF_INET) {
            bytes = storage.asSlice(LinuxAbi.SIN_ADDR_OFFSET, 4).toArray(JAVA_BYTE);
        } else if (family == LinuxAbi.AF_INET6) {
            bytes = storage.asSlice(LinuxAbi.SIN6_ADDR_OFFSET, 16).toArray(JAVA_BYTE);
        } else {
            return new SockAddr(family, null);
        }
        try {
            // getByAddress turns ::ffff:a.b.c.d into an Inet4Address, exactly as the JDK reports
            // the local and remote addresses of a dual-stack socket; no name service is used.
            return new SockAddr(family, new InetSocketAddress(InetAddress.getByAddress(bytes), port));
        } catch (UnknownHostException impossible) {
            throw new AssertionError(impossible); // only thrown for lengths other than 4 and 16
        }
    }

    // ---- descriptors ---------------------------------------------------------------------------

    /// `fcntl(fd, F_DUPFD_CLOEXEC, 0)`: a new descriptor for the same open socket, closed on exec.
    static int dupCloexec(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result;
            try {
                result = (int) FCNTL.invokeExact(state, fd, LinuxAbi.F_DUPFD_CLOEXEC, 0);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            return check("fcntl", result, state);
        }
    }

    /// `close(fd)`. Linux releases the descriptor even when `close` reports an error (including
    /// `EINTR`), so the call is never retried and its errors are only reported.
    static void close(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result;
            try {
                result = (int) CLOSE.invokeExact(state, fd);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            check("close", result, state);
        }
    }

    // ---- netlink -------------------------------------------------------------------------------

    /// `socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, protocol)`: a netlink socket (the caller
    /// owns it) in the calling thread's network namespace.
    static int netlinkSocket(int protocol) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result;
            try {
                result = (int) SOCKET.invokeExact(state, LinuxAbi.AF_NETLINK,
                        LinuxAbi.SOCK_DGRAM | LinuxAbi.SOCK_CLOEXEC, protocol);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            return check("socket", result, state);
        }
    }

    /// `send(fd, message, size, 0)` on a netlink socket (to the kernel).
    ///
    /// @return the bytes sent
    static long send(int fd, MemorySegment message) throws ErrnoException {
        return transfer("send", SEND, fd, message, 0);
    }

    /// `recv(fd, buffer, size, MSG_DONTWAIT)`: a reply that is already queued (the kernel answers
    /// sock_diag requests synchronously, within `send`); `EAGAIN` if there is none.
    ///
    /// @return the bytes received
    static long recvNow(int fd, MemorySegment buffer) throws ErrnoException {
        return transfer("recv", RECV, fd, buffer, LinuxAbi.MSG_DONTWAIT);
    }

    private static long transfer(String call, MethodHandle handle, int fd, MemorySegment data, int flags)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            long result;
            try {
                result = (long) handle.invokeExact(state, fd, data, data.byteSize(), flags);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            if (result == -1) {
                throw new ErrnoException(call, (int) ERRNO.get(state, 0L));
            }
            return result;
        }
    }

    // ---- namespaces ----------------------------------------------------------------------------

    /// `ioctl(fd, SIOCGSKNS)`: a descriptor of the socket's network namespace (the caller owns it).
    static int socketNamespace(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result;
            try {
                result = (int) IOCTL.invokeExact(state, fd, SIOCGSKNS);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            return check("ioctl(SIOCGSKNS)", result, state);
        }
    }

    // ---- receive timestamps --------------------------------------------------------------------

    /// What [#receiveTimestampNs] writes: a `struct timespec` and the `errno` capture state,
    /// allocated once by a caller on a hot path.
    record StampBuffers(MemorySegment timespec, MemorySegment callState) {
        /// Allocates both in `arena`.
        static StampBuffers allocate(Arena arena) {
            return new StampBuffers(arena.allocate(LinuxAbi.TIMESPEC_SIZE, Long.BYTES), arena.allocate(CAPTURE_LAYOUT));
        }
    }

    /// `ioctl(fd, SIOCGSTAMPNS, &ts)`: the kernel's receive timestamp of the datagram last read
    /// from the socket, `CLOCK_REALTIME` in ns since the epoch. `ENOENT` before any datagram.
    ///
    /// @param buffers not used by two threads at once
    static long receiveTimestampNs(int fd, StampBuffers buffers) throws ErrnoException {
        MemorySegment timespec = buffers.timespec();
        MemorySegment state = buffers.callState();
        int result;
        try {
            result = (int) IOCTL_POINTER.invokeExact(state, fd, LinuxAbi.SIOCGSTAMPNS, timespec);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        check("ioctl(SIOCGSTAMPNS)", result, state);
        return timespec.get(JAVA_LONG, LinuxAbi.TV_SEC_OFFSET) * 1_000_000_000L
                + timespec.get(JAVA_LONG, LinuxAbi.TV_NSEC_OFFSET);
    }

    /// `open(path, O_RDONLY | O_CLOEXEC)`.
    static int openReadOnly(String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            MemorySegment cPath = arena.allocateFrom(path);
            int result;
            try {
                result = (int) OPEN.invokeExact(state, cPath, 0x80000 /* O_RDONLY | O_CLOEXEC */);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            return check("open", result, state);
        }
    }

    /// `setns(nsFd, CLONE_NEWNET)`: moves the calling OS thread into that network namespace.
    static void enterNetworkNamespace(int nsFd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result;
            try {
                result = (int) SETNS.invokeExact(state, nsFd, CLONE_NEWNET);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            check("setns", result, state);
        }
    }

    /// `prctl(PR_SET_TIMERSLACK, slackNs)` for the calling thread.
    static void setTimerSlack(long slackNs) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result;
            try {
                result = (int) PRCTL.invokeExact(state, PR_SET_TIMERSLACK, slackNs);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            check("prctl", result, state);
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static int check(String call, int result, MemorySegment state) throws ErrnoException {
        if (result == -1) {
            throw new ErrnoException(call, (int) ERRNO.get(state, 0L));
        }
        return result;
    }

    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException e) {
            return e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }
}
