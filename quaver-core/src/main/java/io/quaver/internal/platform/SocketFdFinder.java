package io.quaver.internal.platform;

import io.quaver.internal.platform.LinuxNative.ErrnoException;
import io.quaver.internal.platform.LinuxNative.SockAddr;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/// Finds the socket file descriptor behind a JDK [NetworkChannel] using only public means, and
/// lends callers a private duplicate of it for the length of one call.
///
/// JDK channels do not expose their descriptor. The finder therefore
///
/// 1. lists `/proc/self/fd`, keeping the entries that link to `socket:[inode]`;
/// 2. prunes them with read-only calls: `SO_TYPE` must match the channel class (stream for
///    socket channels, datagram for datagram channels), `getsockname` must match the
///    channel's local address (or be unbound when the channel is), and `getpeername` must not
///    contradict the channel's remote address;
/// 3. duplicates each survivor (`F_DUPFD_CLOEXEC`), checks through `/proc/self/fd/<dup>` that
///    the duplicate is still the listed socket (same inode), and repeats the pruning on it;
/// 4. proves which one is the channel with a **sentinel**, always, not only when several
///    remain: under a JVM-wide lock it changes one option *through the JDK*, reads it natively
///    on every candidate, restores it through the JDK, and reads again. Exactly one socket
///    (inode) must have followed the channel in lockstep (original → marker → original);
///    otherwise the lookup fails rather than guess. Address pruning is only an optimisation,
///    so it is deliberately lenient (a wildcard on either side matches any address with the
///    same port), and a JDK that reports addresses differently than expected costs
///    performance or, at worst, makes the lookup fail, never picks a wrong socket.
///
/// For a **bound** channel, steps 1–2 are narrowed first. The kernel's exact lookup
/// ([SockDiag], `NETLINK_SOCK_DIAG` by local and remote address and port) names the inode of
/// the socket, at a cost independent of the number of sockets; failing that, the kernel's
/// socket tables (`/proc/self/net/{tcp,tcp6}` or `{udp,udp6}`, [ProcNetSockets]) name the
/// inodes with the channel's local port and remote port (0 when not connected). Those inodes
/// are looked up in `/proc/self/fd` by `readlink` alone, through an index of numbers read
/// before: a hint first, then the numbers that were free when last seen, lowest first (where
/// the kernel puts a new descriptor), and only then a listing (every hint re-read, and
/// re-checked on the duplicate). Steps 2–4 then run on those few sockets only, sentinel
/// included. If that does not identify the channel (another network namespace, an address
/// changed concurrently, tables unreadable), the next narrowing and finally the full scan above
/// run. The narrowing never decides identity, so it cannot make the finder pick a wrong socket.
///
/// The sentinel is kept even when the tables name exactly one inode. Skipping it would rest on
/// the channel's addresses as read before the tables: a concurrent `connect`/`bind`/`disconnect`
/// on the channel (or a reset connection whose 4-tuple another socket of this process then
/// takes) can leave exactly one *other* socket with the old addresses, which no post-`dup`
/// check of that socket's own addresses can reveal. With one candidate the sentinel costs a few
/// `getsockopt`s and two JDK `setOption`s, independent of the number of descriptors.
/// Unbound channels have no address to narrow by (and are in none of the kernel's socket
/// tables). For them, the descriptor numbers themselves are probed, below `FDSize` of
/// `/proc/self/status` (the size of the descriptor table): read-only calls on the raw numbers
/// keep the unbound sockets of the channel's type, and the sentinel, run on those raw numbers,
/// keeps the ones that follow it; only these are then looked up (`readlink`), duplicated and
/// proven by steps 2–4 as above. The raw stage is a narrowing too (a number reused meanwhile is
/// caught on the duplicate); it replaces a listing of `/proc/self/fd` with a `readlink` per
/// descriptor and a duplicate per unbound look-alike. A bound channel that the kernel's lookup
/// and tables of the calling thread's network namespace do not show (a socket opened in another
/// namespace) takes the same raw path, its pre-filter comparing addresses. Both first look at
/// the numbers next to the last one found that way (sockets opened in a row sit side by side).
/// The full scan remains the fallback.
///
/// The sentinel options were chosen to have no lasting effect and to be ones Quaver never sets:
/// `TCP_KEEPIDLE` for stream sockets (it only matters once `SO_KEEPALIVE` is on), and
/// `IP_MULTICAST_TTL` for datagram sockets (it only affects multicast sends); `SO_REUSEADDR`
/// is the last resort for channels that offer neither. `SO_RCVBUF` and `IP_TOS` were rejected:
/// setting `SO_RCVBUF` permanently disables TCP receive-buffer autotuning and is reported
/// doubled, and setting `IP_TOS` rewrites `SO_PRIORITY` on Linux.
///
/// What is cached is the channel's `(fd, inode)` pair, weakly keyed by channel. It is never
/// trusted: every use duplicates the fd and checks that the duplicate's inode is the cached
/// one and that the channel is still open before operating on the duplicate, then closes the
/// duplicate. A socket's inode number identifies it while it exists, so a stale entry (the
/// channel closed, its number reused) is detected and discarded, and discovery runs again.
///
/// Thread-safe. Duplicates held by any thread are recorded in a JVM-wide set so that other
/// threads' listings skip them; identity is decided per inode, so an unrecorded duplicate of
/// the same socket cannot make a lookup ambiguous.
final class SocketFdFinder {
    private static final System.Logger LOG = System.getLogger(SocketFdFinder.class.getName());
    private static final Path PROC_SELF_FD = Path.of("/proc/self/fd");
    private static final String SOCKET_LINK_PREFIX = "socket:[";
    /// Full discoveries tried per call after the cached location (if any) proved stale.
    private static final int MAX_DISCOVERIES = 2;

    /// Serialises sentinels JVM-wide, so that two lookups never change options at once.
    private static final ReentrantLock SENTINEL_LOCK = new ReentrantLock();
    /// The duplicates this class holds right now, JVM-wide: listings skip them.
    private static final Set<Integer> BORROWED_FDS = ConcurrentHashMap.newKeySet();

    /// Work done with a borrowed socket descriptor.
    @FunctionalInterface
    interface SocketAction<T> {
        /// Runs on `fd`, a private duplicate of the channel's socket that is closed afterwards;
        /// the action must not keep it.
        T apply(int fd) throws ErrnoException;
    }

    /// Where a socket was seen: its fd number in this process and its sockfs inode.
    record Location(int fd, long inode) {
    }

    /// The result of a full discovery.
    ///
    /// @param location   the channel's socket
    /// @param candidates how many distinct sockets survived address pruning, i.e. how many the
    ///                   sentinel had to tell apart (for diagnostics and tests; for an unbound
    ///                   channel, how many descriptor numbers the raw sentinel examined)
    record Discovery(Location location, int candidates) {
    }

    private final Map<NetworkChannel, Location> cache = Collections.synchronizedMap(new WeakHashMap<>());
    /// Whether discovery takes the shortcuts that name one socket: the kernel's exact lookup
    /// ([SockDiag]) before the tables, and the numbers next to the last raw hit before probing
    /// every number.
    private final boolean exactLookup;

    SocketFdFinder() {
        this(true);
    }

    /// @param exactLookup false to skip the sock_diag step and the neighbour look (tests use it
    ///                    to exercise the sentinel over the look-alikes the tables or the raw
    ///                    numbers name)
    SocketFdFinder(boolean exactLookup) {
        this.exactLookup = exactLookup;
    }

    /// Runs `action` on a private duplicate of `channel`'s socket descriptor.
    ///
    /// @return the action's result; empty if the channel is closed, is not an IP socket, its
    ///         descriptor cannot be identified, or the action's system call failed
    <T> Optional<T> withSocket(NetworkChannel channel, SocketAction<T> action) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(action, "action");
        if (!channel.isOpen()) {
            cache.remove(channel);
            return Optional.empty();
        }
        Location cached = cache.get(channel);
        if (cached != null) {
            Outcome<T> outcome = use(channel, cached, action);
            if (!outcome.stale()) {
                return outcome.value();
            }
            cache.remove(channel, cached);
        }
        for (int attempt = 0; attempt < MAX_DISCOVERIES && channel.isOpen(); attempt++) {
            Optional<Discovery> discovery = discover(channel);
            if (discovery.isEmpty()) {
                continue;
            }
            Location location = discovery.get().location();
            Outcome<T> outcome = use(channel, location, action);
            if (!outcome.stale()) {
                cache.put(channel, location);
                return outcome.value();
            }
        }
        return Optional.empty();
    }

    /// Forgets the cached location of `channel` (the next call discovers it afresh).
    void forget(NetworkChannel channel) {
        cache.remove(channel);
    }

    /// Caches `location` as `channel`'s, as a discovery would. Only for tests, which use it to
    /// plant stale entries: a wrong entry is harmless, because every use verifies it.
    void remember(NetworkChannel channel, Location location) {
        cache.put(channel, location);
    }

    /// The result of using a location: `stale` if it no longer is the channel's socket.
    private record Outcome<T>(boolean stale, Optional<T> value) {
        static <T> Outcome<T> staleLocation() {
            return new Outcome<>(true, Optional.empty());
        }

        static <T> Outcome<T> done(Optional<T> value) {
            return new Outcome<>(false, value);
        }
    }

    private static <T> Outcome<T> use(NetworkChannel channel, Location location, SocketAction<T> action) {
        int dup = borrow(location);
        if (dup < 0) {
            return Outcome.staleLocation();
        }
        try {
            if (!channel.isOpen()) {
                return Outcome.done(Optional.empty());
            }
            // The duplicate is the channel's socket (same inode, channel open), and it stays that
            // socket even if the channel is closed concurrently from here on.
            return Outcome.done(Optional.ofNullable(action.apply(dup)));
        } catch (ErrnoException e) {
            LOG.log(Level.DEBUG, () -> "socket call on " + location + " failed: " + e.getMessage());
            return Outcome.done(Optional.empty());
        } finally {
            release(dup);
        }
    }

    // ---- discovery -----------------------------------------------------------------------------

    /// Finds `channel`'s socket from scratch, ignoring and not updating the cache.
    Optional<Discovery> discover(NetworkChannel channel) {
        Objects.requireNonNull(channel, "channel");
        Sentinel sentinel = Sentinel.of(channel);
        ChannelView view;
        try {
            view = ChannelView.of(channel);
        } catch (IOException | RuntimeException closedOrUnsupported) {
            return Optional.empty();
        }
        if (view == null || sentinel == null) {
            return Optional.empty(); // not an IP socket, or no way to prove identity
        }
        if (view.local() != null && view.local().getPort() != 0) {
            // Bound: let the kernel's socket tables name the few sockets with this port (pair),
            // then look only for those in /proc/self/fd. Only a narrowing, like address pruning:
            // the sentinel below still proves identity, and a miss falls back to the full scan.
            // First the kernel's exact lookup (sock_diag: independent of the number of sockets),
            // then its tables (/proc/self/net: a walk over every socket of the namespace).
            List<Location> exact = exactLookup ? ProcNetSockets.locate(SockDiag.inodes(view.socketType(),
                    view.local(), view.remote()), BORROWED_FDS) : List.of();
            if (!exact.isEmpty()) {
                Optional<Discovery> found = discoverAmong(channel, sentinel, view, exact);
                if (found.isPresent()) {
                    return found;
                }
            }
            List<Location> listed = ProcNetSockets.locate(ProcNetSockets.inodes(view.socketType(),
                    view.local().getPort(), view.remote() == null ? 0 : view.remote().getPort()), BORROWED_FDS);
            if (!listed.isEmpty()) {
                Optional<Discovery> found = discoverAmong(channel, sentinel, view, listed);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        // Unbound, or bound but not in this thread's tables (a socket opened in another network
        // namespace): the numbers next to the last one found this way, then every descriptor
        // number. For a bound channel the raw pre-filter compares addresses, so few numbers
        // reach the sentinel.
        Optional<Discovery> near = exactLookup ? discoverNearLastRawHit(channel, sentinel, view) : Optional.empty();
        if (near.isPresent()) {
            return near;
        }
        RawNarrowing narrowed = followersAmongRawNumbers(channel, sentinel, view);
        if (!narrowed.following().isEmpty()) {
            Optional<Discovery> found = discoverAmong(channel, sentinel, view, narrowed.following());
            if (found.isPresent()) { // the sentinel told apart the raw candidates
                lastRawHit = found.get().location().fd();
                return Optional.of(new Discovery(found.get().location(),
                        Math.max(found.get().candidates(), narrowed.examined())));
            }
        }
        return discoverAmong(channel, sentinel, view, listSockets());
    }

    /// How far from the last raw hit [#discoverNearLastRawHit] looks, each way (after the hit
    /// itself).
    private static final int RAW_NEIGHBOURS = 8;
    /// The descriptor number of the last channel found by probing raw numbers (-1: none).
    private static volatile int lastRawHit = -1;

    /// A channel that the kernel's lookup and tables of the calling thread's namespace do not
    /// show (unbound, or opened in another namespace) is looked for first next to the last one
    /// found that way: sockets opened one after the other get neighbouring numbers, so adding
    /// them one by one costs a few probes each instead of a probe of every descriptor number.
    /// Each neighbour that passes the raw pre-filter (the channel's addresses; for an unbound
    /// channel, any unbound socket of its type) is proven or ruled out alone by the sentinel,
    /// like the single socket the kernel's lookup names.
    private static Optional<Discovery> discoverNearLastRawHit(NetworkChannel channel, Sentinel sentinel,
                                                              ChannelView view) {
        int hint = lastRawHit;
        if (hint < 0) {
            return Optional.empty();
        }
        for (int distance = 0; distance <= RAW_NEIGHBOURS; distance++) {
            // the hit itself first: a socket closed and another opened reuse its number
            for (int fd : distance == 0 ? new int[] {hint} : new int[] {hint + distance, hint - distance}) {
                if (fd < 0 || BORROWED_FDS.contains(fd) || probe(fd, view) < 0) {
                    continue; // read-only: harmless even if the number is reused
                }
                long inode = inodeOf(fd);
                if (inode < 0) {
                    continue;
                }
                Optional<Discovery> found = discoverAmong(channel, sentinel, view, List.of(new Location(fd, inode)));
                if (found.isPresent()) {
                    lastRawHit = fd;
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    /// Descriptor tables larger than this are listed rather than probed number by number.
    private static final int MAX_PROBED_FDS = 16_384;

    /// How many times a discovery probed every descriptor number (for tests of the neighbour look).
    private static final AtomicLong RAW_SCANS = new AtomicLong();

    /// How many times discoveries have probed every descriptor number so far.
    static long rawScans() {
        return RAW_SCANS.get();
    }

    /// The narrowing by raw descriptor numbers: the descriptors that followed the sentinel, and
    /// how many descriptor numbers it examined (passed the raw pre-filter).
    private record RawNarrowing(List<Location> following, int examined) {
        static final RawNarrowing NONE = new RawNarrowing(List.of(), 0);
    }

    /// The descriptor numbers below the table size whose sockets pass the raw pre-filter and
    /// follow the sentinel, with their inodes (none when the table size is unknown or large,
    /// or nothing followed).
    private static RawNarrowing followersAmongRawNumbers(NetworkChannel channel, Sentinel sentinel,
                                                         ChannelView view) {
        int tableSize = fdTableSize();
        if (tableSize <= 0 || tableSize > MAX_PROBED_FDS) {
            return RawNarrowing.NONE;
        }
        RAW_SCANS.incrementAndGet();
        List<Candidate> raw = new ArrayList<>();
        for (int fd = 0; fd < tableSize; fd++) {
            if (BORROWED_FDS.contains(fd)) {
                continue;
            }
            int family = probe(fd, view); // read-only: harmless even if the number is reused
            if (family >= 0) {
                raw.add(new Candidate(new Location(fd, -1), fd, family)); // the raw number, not a duplicate
            }
        }
        List<Candidate> following = raw.isEmpty() ? null : follow(channel, sentinel, raw);
        if (following == null) {
            return RawNarrowing.NONE;
        }
        List<Location> located = new ArrayList<>(following.size());
        for (Candidate c : following) {
            long inode = inodeOf(c.dup());
            if (inode >= 0) {
                located.add(new Location(c.dup(), inode));
            }
        }
        return new RawNarrowing(located, raw.size());
    }

    /// `FDSize` of `/proc/self/status`: every open descriptor number is below it; -1 if unknown.
    static int fdTableSize() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("FDSize:")) {
                    return Integer.parseInt(line.substring("FDSize:".length()).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "cannot read FDSize: " + e);
        }
        return -1;
    }

    /// The discovery proper, over the sockets `listed` (a superset of the channel's socket, or
    /// the lookup fails).
    private static Optional<Discovery> discoverAmong(NetworkChannel channel, Sentinel sentinel, ChannelView view,
                                                     List<Location> listed) {
        List<Candidate> candidates = new ArrayList<>();
        try {
            for (Location location : listed) {
                Location listedLocation = location;
                if (probe(listedLocation.fd(), view) < 0) {
                    continue; // raw, read-only pre-filter: harmless even if the number was reused
                }
                int dup = borrow(listedLocation);
                if (dup < 0) {
                    continue;
                }
                Candidate candidate = null;
                try {
                    int family = probe(dup, view); // decisive: on the verified duplicate
                    if (family >= 0) {
                        candidate = new Candidate(listedLocation, dup, family);
                        candidates.add(candidate);
                    }
                } finally {
                    if (candidate == null) {
                        release(dup);
                    }
                }
            }
            if (candidates.isEmpty()) {
                return Optional.empty();
            }
            Location winner = identify(channel, sentinel, candidates);
            if (winner == null || !channel.isOpen()) {
                return Optional.empty();
            }
            long distinct = candidates.stream().mapToLong(c -> c.listed().inode()).distinct().count();
            return Optional.of(new Discovery(winner, (int) distinct));
        } finally {
            candidates.forEach(c -> release(c.dup()));
        }
    }

    /// A pruned socket: where it was listed, the duplicate being examined, its address family.
    private record Candidate(Location listed, int dup, int family) {
    }

    /// The channel as the JDK reports it. Null addresses mean unbound / not connected.
    private record ChannelView(int socketType, InetSocketAddress local, InetSocketAddress remote) {
        /// @return the view, or null if the channel is not an IP channel
        static ChannelView of(NetworkChannel channel) throws IOException {
            SocketAddress local = channel.getLocalAddress();
            SocketAddress remote = switch (channel) {
                case SocketChannel c -> c.getRemoteAddress();
                case DatagramChannel c -> c.getRemoteAddress();
                case AsynchronousSocketChannel c -> c.getRemoteAddress();
                default -> null;
            };
            if ((local != null && !(local instanceof InetSocketAddress))
                    || (remote != null && !(remote instanceof InetSocketAddress))) {
                return null;
            }
            return new ChannelView(socketTypeOf(channel), (InetSocketAddress) local, (InetSocketAddress) remote);
        }

        private static int socketTypeOf(NetworkChannel channel) {
            return switch (channel) {
                case SocketChannel _ -> LinuxAbi.SOCK_STREAM;
                case ServerSocketChannel _ -> LinuxAbi.SOCK_STREAM;
                case AsynchronousSocketChannel _ -> LinuxAbi.SOCK_STREAM;
                case AsynchronousServerSocketChannel _ -> LinuxAbi.SOCK_STREAM;
                case DatagramChannel _ -> LinuxAbi.SOCK_DGRAM;
                default -> 0; // unknown implementation: any type
            };
        }
    }

    /// Whether `fd` could be the socket of the channel seen as `view`.
    ///
    /// @return the socket's address family, or -1 if it cannot be the channel's socket
    private static int probe(int fd, ChannelView view) {
        try {
            if (view.socketType() != 0
                    && LinuxNative.getsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_TYPE) != view.socketType()) {
                return -1;
            }
            SockAddr local = LinuxNative.getsockname(fd);
            if (!local.isInet()) {
                return -1;
            }
            if (view.local() != null) {
                if (!sameEndpoint(view.local(), local.address())) {
                    return -1;
                }
            } else if (view.remote() == null && local.address().getPort() != 0) {
                return -1; // the channel is unbound, this socket is bound
            }
            InetSocketAddress peer = peerOrNull(fd);
            if (view.remote() == null ? peer != null : peer != null && !sameEndpoint(view.remote(), peer)) {
                // A channel whose connect is still pending has a JDK remote address while the
                // kernel answers ENOTCONN (SYN_SENT), so only a *different* peer rules it out.
                return -1;
            }
            return local.family();
        } catch (ErrnoException e) {
            return -1;
        }
    }

    private static InetSocketAddress peerOrNull(int fd) throws ErrnoException {
        try {
            return LinuxNative.getpeername(fd).address();
        } catch (ErrnoException e) {
            if (e.errno() == LinuxAbi.ENOTCONN) {
                return null;
            }
            throw e;
        }
    }

    /// Same port, and the same address once IPv4 is written IPv4-mapped; a wildcard (`0.0.0.0`
    /// or `::`) on either side matches any address, because the JDK may report a dual-stack
    /// wildcard either way and the kernel replaces a wildcard by the source address on connect.
    static boolean sameEndpoint(InetSocketAddress jdk, InetSocketAddress kernel) {
        InetAddress a = jdk.getAddress();
        InetAddress b = kernel.getAddress();
        if (a == null || b == null || jdk.getPort() != kernel.getPort()) {
            return false;
        }
        return a.isAnyLocalAddress() || b.isAnyLocalAddress() || Arrays.equals(mapped(a), mapped(b));
    }

    private static byte[] mapped(InetAddress address) {
        byte[] raw = address.getAddress();
        if (raw.length == 16) {
            return raw;
        }
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xff;
        v6[11] = (byte) 0xff;
        System.arraycopy(raw, 0, v6, 12, 4);
        return v6;
    }

    // ---- the sentinel --------------------------------------------------------------------------

    /// An option changed through the JDK to prove which candidate is the channel's socket.
    private enum Sentinel {
        /// `TCP_KEEPIDLE` (seconds, 1–32767): inert unless `SO_KEEPALIVE` is on. Restoring it
        /// stores the value explicitly, so a socket that followed the sysctl default keeps the
        /// current default afterwards; that is the only lasting trace.
        TCP_KEEPIDLE("TCP_KEEPIDLE", Integer.class) {
            @Override
            int level(int family) {
                return LinuxAbi.IPPROTO_TCP;
            }

            @Override
            int option(int family) {
                return LinuxAbi.TCP_KEEPIDLE;
            }

            @Override
            Object markerFor(Object original) {
                return Integer.valueOf(28_871).equals(original) ? 28_873 : 28_871;
            }
        },
        /// `IP_MULTICAST_TTL` (0–255): only affects multicast sends. The JDK writes both the
        /// IPv4 and the IPv6 option on a dual-stack channel and reads `IPV6_MULTICAST_HOPS`, so
        /// the candidate's family decides which one is read.
        IP_MULTICAST_TTL("IP_MULTICAST_TTL", Integer.class) {
            @Override
            int level(int family) {
                return family == LinuxAbi.AF_INET6 ? LinuxAbi.IPPROTO_IPV6 : LinuxAbi.IPPROTO_IP;
            }

            @Override
            int option(int family) {
                return family == LinuxAbi.AF_INET6 ? LinuxAbi.IPV6_MULTICAST_HOPS : LinuxAbi.IP_MULTICAST_TTL;
            }

            @Override
            Object markerFor(Object original) {
                return Integer.valueOf(233).equals(original) ? 234 : 233;
            }
        },
        /// `SO_REUSEADDR`: last resort, a single bit, toggled.
        SO_REUSEADDR("SO_REUSEADDR", Boolean.class) {
            @Override
            int level(int family) {
                return LinuxAbi.SOL_SOCKET;
            }

            @Override
            int option(int family) {
                return LinuxAbi.SO_REUSEADDR;
            }

            @Override
            Object markerFor(Object original) {
                return !(Boolean) original;
            }
        };

        private final String optionName;
        private final Class<?> type;

        Sentinel(String optionName, Class<?> type) {
            this.optionName = optionName;
            this.type = type;
        }

        abstract int level(int family);

        abstract int option(int family);

        /// A value different from `original`.
        abstract Object markerFor(Object original);

        /// The first sentinel `channel` supports, or null.
        static Sentinel of(NetworkChannel channel) {
            for (Sentinel sentinel : values()) {
                if (sentinel.optionOf(channel) != null) {
                    return sentinel;
                }
            }
            return null;
        }

        /// The channel's own [SocketOption] object of this name and type, or null.
        @SuppressWarnings("unchecked")
        SocketOption<Object> optionOf(NetworkChannel channel) {
            for (SocketOption<?> option : channel.supportedOptions()) {
                if (option.name().equals(optionName) && option.type() == type) {
                    return (SocketOption<Object>) option;
                }
            }
            return null;
        }

        /// Whether a natively read value equals `expected` (a JDK value of this option).
        boolean matches(int nativeValue, Object expected) {
            return expected instanceof Boolean flag ? (nativeValue != 0) == flag
                    : expected instanceof Integer number && number == nativeValue;
        }

        /// The candidates whose native value currently equals `expected`.
        List<Candidate> holding(List<Candidate> candidates, Object expected) {
            List<Candidate> kept = new ArrayList<>(candidates.size());
            for (Candidate c : candidates) {
                try {
                    if (matches(LinuxNative.getsockoptInt(c.dup(), level(c.family()), option(c.family())), expected)) {
                        kept.add(c);
                    }
                } catch (ErrnoException e) {
                    // cannot be read: cannot be proven
                }
            }
            return kept;
        }
    }

    /// Runs the sentinel over `candidates`.
    ///
    /// @return the channel's location, or null if no single socket followed the sentinel
    private static Location identify(NetworkChannel channel, Sentinel sentinel, List<Candidate> candidates) {
        List<Candidate> following = follow(channel, sentinel, candidates);
        if (following == null) {
            return null;
        }
        Set<Long> inodes = following.stream().map(c -> c.listed().inode()).collect(Collectors.toSet());
        if (inodes.size() != 1) {
            LOG.log(Level.DEBUG, () -> "sentinel " + sentinel + " matched " + inodes.size()
                    + " sockets among " + candidates.size() + " candidates");
            return null;
        }
        // Several fds may share the inode (a duplicate of the channel's socket held elsewhere);
        // the lowest number is most likely the channel's own, and a wrong guess only costs a
        // rediscovery later, because every use re-checks the inode.
        return following.stream().map(Candidate::listed).min(Comparator.comparingInt(Location::fd)).orElseThrow();
    }

    /// Changes the sentinel option through the JDK and back, under the JVM-wide lock.
    ///
    /// @return the candidates whose native value followed in lockstep (original → marker →
    ///         original), or null if none did or the sentinel failed
    private static List<Candidate> follow(NetworkChannel channel, Sentinel sentinel, List<Candidate> candidates) {
        SocketOption<Object> option = sentinel.optionOf(channel);
        SENTINEL_LOCK.lock();
        try {
            Object original = channel.getOption(option);
            Object marker = sentinel.markerFor(original);
            List<Candidate> following = sentinel.holding(candidates, original);
            if (following.isEmpty()) {
                return null;
            }
            channel.setOption(option, marker);
            try {
                following = sentinel.holding(following, marker);
            } finally {
                channel.setOption(option, original);
            }
            following = sentinel.holding(following, original);
            return following.isEmpty() ? null : following;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "sentinel " + sentinel + " failed: " + e);
            return null;
        } finally {
            SENTINEL_LOCK.unlock();
        }
    }

    // ---- /proc/self/fd and borrowed descriptors ------------------------------------------------

    /// The socket descriptors of this process (except duplicates this class holds).
    private static List<Location> listSockets() {
        List<Location> sockets = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC_SELF_FD)) {
            for (Path entry : entries) {
                int fd;
                try {
                    fd = Integer.parseInt(entry.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (BORROWED_FDS.contains(fd)) {
                    continue;
                }
                long inode = socketInode(entry);
                if (inode >= 0) {
                    sockets.add(new Location(fd, inode));
                }
            }
        } catch (IOException | DirectoryIteratorException e) {
            LOG.log(Level.DEBUG, () -> "cannot list " + PROC_SELF_FD + ": " + e);
        }
        return sockets;
    }

    /// The inode of the socket open as `fd`, or -1 if `fd` is not an open socket.
    static long inodeOf(int fd) {
        return socketInode(PROC_SELF_FD.resolve(Integer.toString(fd)));
    }

    static long socketInode(Path link) {
        try {
            String target = Files.readSymbolicLink(link).toString();
            if (target.startsWith(SOCKET_LINK_PREFIX) && target.endsWith("]")) {
                return Long.parseLong(target, SOCKET_LINK_PREFIX.length(), target.length() - 1, 10);
            }
        } catch (IOException | NumberFormatException e) {
            // closed meanwhile, or not a socket
        }
        return -1;
    }

    /// Duplicates `location.fd()` and checks that the duplicate is the socket `location.inode()`.
    ///
    /// @return the duplicate (to [#release(int)]), or -1 if the fd is closed or is now
    ///         another file
    private static int borrow(Location location) {
        int dup;
        try {
            dup = LinuxNative.dupCloexec(location.fd());
        } catch (ErrnoException e) {
            return -1;
        }
        BORROWED_FDS.add(dup);
        boolean verified = false;
        try {
            verified = inodeOf(dup) == location.inode();
        } finally {
            if (!verified) {
                release(dup);
            }
        }
        return verified ? dup : -1;
    }

    private static void release(int dup) {
        BORROWED_FDS.remove(dup);
        try {
            LinuxNative.close(dup);
        } catch (ErrnoException e) {
            LOG.log(Level.DEBUG, () -> "close(" + dup + ") failed: " + e.getMessage());
        }
    }
}
