package io.quaver.internal.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.quaver.internal.platform.SocketFdFinder.Discovery;
import io.quaver.internal.platform.SocketFdFinder.Location;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/// Finding a JDK channel's descriptor among many look-alike sockets.
///
/// Ground truth does not come from the finder: [#assertIdentifies] writes a distinct
/// `SO_SNDBUF` *through the descriptor found* and reads it back *through the JDK channel*, and
/// checks that none of the ~50 decoys (each with its own `SO_SNDBUF`) changed.
@EnabledOnOs(OS.LINUX)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SocketFdFinderTest {
    private final SocketFdFinder finder = new SocketFdFinder();
    private TestSockets sockets;
    private int nextMarkerBytes = 100_000;

    @BeforeEach
    void openDecoys() throws IOException {
        sockets = new TestSockets();
        sockets.openStandardDecoys();
        assertThat(sockets.decoyCount()).isGreaterThanOrEqualTo(50);
    }

    @AfterEach
    void closeAll() {
        sockets.close();
    }

    private static ProtocolFamily family(String name) {
        return name.equals("default") ? null : StandardProtocolFamily.valueOf(name);
    }

    /// Writes a fresh `SO_SNDBUF` through the descriptor the finder lends, and checks that the JDK
    /// channel (and no decoy) sees it.
    ///
    /// @return the inode of the channel's socket
    private long assertIdentifies(NetworkChannel channel) throws IOException {
        int markerBytes = nextMarkerBytes;
        nextMarkerBytes += 64;
        Optional<Long> inode = finder.withSocket(channel, fd -> {
            LinuxNative.setsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_SNDBUF, markerBytes);
            return SocketFdFinder.inodeOf(fd);
        });
        assertThat(inode).as("a descriptor was found for %s", channel).isPresent();
        assertThat(channel.getOption(StandardSocketOptions.SO_SNDBUF))
                .as("SO_SNDBUF written through the found descriptor, read through the channel")
                .isEqualTo(markerBytes); // the kernel stores it doubled; the JDK halves what it reads
        assertThat(sockets.changedDecoys()).as("decoys whose SO_SNDBUF changed").isEmpty();
        return inode.get();
    }

    /// A fresh discovery agrees with `inode`, and one without the kernel's exact lookup (which
    /// usually leaves a single candidate) had to tell at least `minCandidates` apart.
    private Discovery assertDiscovers(NetworkChannel channel, long inode, int minCandidates) {
        Optional<Discovery> exact = finder.discover(channel);
        assertThat(exact).isPresent();
        assertThat(exact.get().location().inode()).isEqualTo(inode);
        Optional<Discovery> discovery = new SocketFdFinder(false).discover(channel);
        assertThat(discovery).isPresent();
        assertThat(discovery.get().location().inode()).isEqualTo(inode);
        assertThat(discovery.get().candidates()).as("sockets left after address pruning")
                .isGreaterThanOrEqualTo(minCandidates);
        return discovery.get();
    }

    @Test
    void theKernelsExactLookupLeavesOneCandidateForAUniquelyBoundSocketOrConnection() throws IOException {
        DatagramChannel datagram = sockets.datagram(null);
        datagram.bind(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0));
        SocketChannel[] pair = sockets.connect(sockets.server(), null);
        for (NetworkChannel channel : List.of(datagram, pair[0], pair[1])) {
            long inode = assertIdentifies(channel);
            Optional<Discovery> discovery = finder.discover(channel);
            assertThat(discovery).isPresent();
            assertThat(discovery.get().location().inode()).isEqualTo(inode);
            assertThat(discovery.get().candidates()).as("sockets the sentinel examined for %s", channel).isEqualTo(1);
        }
    }

    // ---- datagram channels ---------------------------------------------------------------------

    @Test
    void unboundChannelsOpenedInARowAreFoundNextToEachOtherWithoutProbingEveryNumber() throws IOException {
        List<DatagramChannel> row = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            row.add(sockets.datagram(null)); // unbound: in none of the kernel's tables
        }
        long scansBefore = SocketFdFinder.rawScans();
        for (DatagramChannel channel : row) {
            assertIdentifies(channel); // also checks that no decoy (16 of them unbound) changed
        }
        assertThat(SocketFdFinder.rawScans() - scansBefore)
                .as("lookups that probed every descriptor number (the first may: no earlier hit to start from)")
                .isLessThanOrEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "INET"})
    void findsUnboundDatagramChannelAmongUnboundDecoys(String familyName) throws IOException {
        DatagramChannel target = sockets.datagram(family(familyName));
        assertThat(target.getLocalAddress()).isNull();

        long inode = assertIdentifies(target);

        // 16 unbound datagram decoys look exactly alike: only the sentinel can tell them apart.
        assertDiscovers(target, inode, 17);
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "INET"})
    void findsDatagramChannelBoundToAPortSharedWithDecoys(String familyName) throws IOException {
        InetSocketAddress shared = (InetSocketAddress) sockets.decoy(
                sockets.datagramSharing(StandardProtocolFamily.INET, new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0)))
                .getLocalAddress();
        for (int i = 0; i < 3; i++) {
            sockets.decoy(sockets.datagramSharing(i % 2 == 0 ? null : StandardProtocolFamily.INET, shared));
        }
        DatagramChannel target = sockets.datagramSharing(family(familyName), shared);
        assertThat(target.getLocalAddress()).isEqualTo(shared); // dual-stack: reported as IPv4

        long inode = assertIdentifies(target);
        assertDiscovers(target, inode, 5);
    }

    @Test
    void findsDatagramChannelBoundToIpv6Loopback() throws IOException {
        Assumptions.assumeTrue(TestSockets.ipv6Available(), "IPv6 is not available in this JVM");
        InetSocketAddress shared = (InetSocketAddress) sockets.decoy(
                sockets.datagramSharing(null, new InetSocketAddress(TestSockets.IPV6_LOOPBACK, 0))).getLocalAddress();
        sockets.decoy(sockets.datagramSharing(null, shared));
        DatagramChannel target = sockets.datagramSharing(null, shared);

        long inode = assertIdentifies(target);
        assertDiscovers(target, inode, 3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "INET"})
    void findsDatagramChannelBoundToTheWildcard(String familyName) throws IOException {
        // A dual-stack channel bound to 0.0.0.0 is reported as [::], an INET one as 0.0.0.0.
        DatagramChannel target = sockets.datagram(family(familyName));
        target.bind(new InetSocketAddress("0.0.0.0", 0));
        // A decoy on the same port, bound to a specific address, matches the lenient pruning.
        int port = ((InetSocketAddress) target.getLocalAddress()).getPort();
        target.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        sockets.decoy(sockets.datagramSharing(StandardProtocolFamily.INET, new InetSocketAddress(TestSockets.IPV4_LOOPBACK, port)));

        long inode = assertIdentifies(target);
        assertDiscovers(target, inode, 2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "INET"})
    void findsConnectedDatagramChannelEvenWithATwinOfTheSameFourTuple(String familyName) throws IOException {
        DatagramChannel peer = sockets.decoy(sockets.datagram(StandardProtocolFamily.INET));
        peer.bind(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0));
        InetSocketAddress shared = (InetSocketAddress) sockets.decoy(
                sockets.datagramSharing(StandardProtocolFamily.INET, new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0)))
                .getLocalAddress();
        // The twin: same local address, connected to the same peer.
        sockets.decoy(sockets.datagramSharing(StandardProtocolFamily.INET, shared)).connect(peer.getLocalAddress());
        DatagramChannel target = sockets.datagramSharing(family(familyName), shared);
        target.connect(peer.getLocalAddress());
        assertThat(target.getRemoteAddress()).isEqualTo(peer.getLocalAddress());

        long inode = assertIdentifies(target);
        assertDiscovers(target, inode, 2);
    }

    // ---- stream channels -----------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"default", "INET"})
    void findsBothEndsOfALoopbackConnectionAmongOtherConnectionsToTheSameServer(String familyName) throws IOException {
        ServerSocketChannel server = sockets.server();
        for (int i = 0; i < 3; i++) {
            for (SocketChannel end : sockets.connect(server, null)) {
                sockets.decoy(end);
            }
        }
        SocketChannel[] pair = sockets.connect(server, family(familyName));

        long clientInode = assertIdentifies(pair[0]);
        long acceptedInode = assertIdentifies(pair[1]);

        assertThat(clientInode).isNotEqualTo(acceptedInode);
        assertDiscovers(pair[0], clientInode, 1);
        assertDiscovers(pair[1], acceptedInode, 1);
    }

    @Test
    void findsAConnectionOverIpv6Loopback() throws IOException {
        Assumptions.assumeTrue(TestSockets.ipv6Available(), "IPv6 is not available in this JVM");
        ServerSocketChannel server = sockets.track(ServerSocketChannel.open());
        server.bind(new InetSocketAddress(TestSockets.IPV6_LOOPBACK, 0));
        SocketChannel[] pair = sockets.connect(server, null);

        assertThat(assertIdentifies(pair[0])).isNotEqualTo(assertIdentifies(pair[1]));
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "INET"})
    void findsUnconnectedUnboundSocketChannel(String familyName) throws IOException {
        SocketChannel target = sockets.track(familyName.equals("default") ? SocketChannel.open()
                : SocketChannel.open(StandardProtocolFamily.INET));

        long inode = assertIdentifies(target);
        assertDiscovers(target, inode, 9); // eight unbound stream decoys
    }

    @Test
    void findsUnconnectedSocketChannelBoundToAPortSharedWithDecoys() throws IOException {
        SocketChannel first = sockets.decoy(sockets.track(SocketChannel.open(StandardProtocolFamily.INET)));
        first.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        first.bind(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0));
        SocketChannel target = sockets.track(SocketChannel.open());
        target.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        target.bind(first.getLocalAddress());

        long inode = assertIdentifies(target);
        assertDiscovers(target, inode, 2);
    }

    @Test
    void findsAsynchronousSocketChannel() throws Exception {
        ServerSocketChannel server = sockets.server();
        AsynchronousSocketChannel target = sockets.track(AsynchronousSocketChannel.open());
        target.connect(server.getLocalAddress()).get(10, TimeUnit.SECONDS);
        sockets.track(server.accept());

        long inode = assertIdentifies(target);
        assertDiscovers(target, inode, 1);
    }

    @Test
    void findsListeningServerSocketChannel() throws IOException {
        ServerSocketChannel target = sockets.server();
        // No SO_SNDBUF on a listening channel: compare with the accepted side's local address.
        Optional<InetSocketAddress> local = finder.withSocket(target, fd -> LinuxNative.getsockname(fd).address());
        assertThat(local).contains((InetSocketAddress) target.getLocalAddress());
        assertThat(finder.discover(target)).isPresent();
    }

    // ---- failure modes -------------------------------------------------------------------------

    @Test
    void closedChannelYieldsNothing() throws IOException {
        DatagramChannel neverLookedUp = sockets.datagram(null);
        neverLookedUp.close();
        DatagramChannel cached = sockets.datagram(null);
        assertIdentifies(cached);
        cached.close();
        // A new socket is likely to reuse the closed one's descriptor number.
        DatagramChannel successor = sockets.decoy(sockets.datagram(null));

        assertThat(finder.withSocket(neverLookedUp, SocketFdFinder::inodeOf)).isEmpty();
        assertThat(finder.withSocket(cached, SocketFdFinder::inodeOf)).isEmpty();
        assertThat(finder.discover(cached)).isEmpty();
        assertThat(successor.isOpen()).isTrue();
        assertThat(sockets.changedDecoys()).isEmpty();
    }

    @Test
    void staleCachedLocationsAreDetectedAndReplaced() throws IOException {
        DatagramChannel target = sockets.datagram(null);
        DatagramChannel other = sockets.decoy(sockets.datagram(null));
        long targetInode = assertIdentifies(target);
        Location otherLocation = finder.discover(other).orElseThrow().location();
        Location targetLocation = finder.discover(target).orElseThrow().location();

        // The fd number of another socket, claimed to be the target's socket.
        finder.remember(target, new Location(otherLocation.fd(), targetInode));
        assertThat(assertIdentifies(target)).isEqualTo(targetInode);
        // The right number with the wrong inode (as after the number was reused).
        finder.remember(target, new Location(targetLocation.fd(), otherLocation.inode()));
        assertThat(assertIdentifies(target)).isEqualTo(targetInode);
        // A number that is not open at all.
        finder.remember(target, new Location(1_000_000, targetInode));
        assertThat(assertIdentifies(target)).isEqualTo(targetInode);
    }

    @Test
    void aChannelWithoutASocketIsNotFound() {
        ForeignChannel foreign = new ForeignChannel(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 1));
        assertThat(finder.withSocket(foreign, SocketFdFinder::inodeOf)).isEmpty();
        assertThat(finder.discover(foreign)).isEmpty();
        assertThat(foreign.setOptionCalls).as("sentinel attempts on a channel no socket matched").isZero();
    }

    @Test
    void descriptorsAreNeitherLeakedNorKept() throws IOException {
        DatagramChannel datagram = sockets.datagram(null);
        SocketChannel[] pair = sockets.connect(sockets.server(), null);
        DatagramChannel closed = sockets.datagram(null);
        closed.close();
        ForeignChannel foreign = new ForeignChannel(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 1));
        List<NetworkChannel> channels = List.of(datagram, pair[0], pair[1], closed, foreign);
        Runnable workload = () -> {
            for (NetworkChannel channel : channels) {
                finder.withSocket(channel, SocketFdFinder::inodeOf);
                finder.discover(channel);
                finder.forget(channel);
                finder.withSocket(channel, fd -> LinuxNative.getsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_TYPE));
                // a failing system call inside the action
                finder.withSocket(channel, fd -> LinuxNative.getsockoptInt(fd, LinuxAbi.SOL_SOCKET, -1));
            }
        };
        workload.run(); // warm up: load every class before counting
        long fdsBefore = TestSockets.openFdCount();

        for (int i = 0; i < 40; i++) {
            workload.run();
        }

        assertThat(TestSockets.openFdCount()).as("open descriptors after 1,000 lookups").isEqualTo(fdsBefore);
        long inode = assertIdentifies(datagram);
        datagram.close();
        assertThat(TestSockets.openSocketInodes()).as("sockets still open after the channel closed")
                .doesNotContain(inode);
    }

    // ---- concurrency ---------------------------------------------------------------------------

    @Test
    void fourThreadsFindTheirOwnChannelsConcurrently() throws Exception {
        int threads = 4;
        int operationsPerThread = 500;
        InetSocketAddress shared = (InetSocketAddress) sockets.decoy(
                sockets.datagramSharing(StandardProtocolFamily.INET, new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0)))
                .getLocalAddress();
        ServerSocketChannel server = sockets.server();
        List<List<NetworkChannel>> channelsByThread = new ArrayList<>();
        List<List<Long>> inodesByThread = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            // Every thread's channels look like the other threads' channels.
            List<NetworkChannel> channels = List.of(sockets.datagram(null),
                    sockets.datagramSharing(StandardProtocolFamily.INET, shared),
                    sockets.connect(server, null)[0], sockets.track(SocketChannel.open()));
            List<Long> inodes = new ArrayList<>();
            for (NetworkChannel channel : channels) {
                inodes.add(assertIdentifies(channel));
            }
            channelsByThread.add(channels);
            inodesByThread.add(inodes);
        }
        assertThat(inodesByThread.stream().flatMap(List::stream).distinct().count()).isEqualTo(4L * threads);

        Queue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger operations = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    List<NetworkChannel> channels = channelsByThread.get(thread);
                    for (int i = 0; i < operationsPerThread; i++) {
                        int which = i % channels.size();
                        NetworkChannel channel = channels.get(which);
                        long expected = inodesByThread.get(thread).get(which);
                        String failure = switch (i % 4) {
                            case 0 -> {
                                Optional<Discovery> d = finder.discover(channel);
                                yield d.isPresent() && d.get().location().inode() == expected ? null
                                        : "discover gave " + d;
                            }
                            case 1 -> {
                                Optional<Long> inode = finder.withSocket(channel, SocketFdFinder::inodeOf);
                                yield inode.isPresent() && inode.get() == expected ? null : "withSocket gave " + inode;
                            }
                            case 2 -> {
                                // Ground truth through the JDK, against the descriptor found.
                                channel.setOption(StandardSocketOptions.SO_SNDBUF, 16_384 + 64 * (thread * 64 + i % 64));
                                int viaJdk = channel.getOption(StandardSocketOptions.SO_SNDBUF);
                                Optional<Integer> viaFd = finder.withSocket(channel,
                                        fd -> LinuxNative.getsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_SNDBUF));
                                // The kernel reports twice the value set; the JDK halves it.
                                yield viaFd.isPresent() && viaFd.get() == 2 * viaJdk ? null
                                        : "SO_SNDBUF via JDK " + viaJdk + ", via fd " + viaFd;
                            }
                            default -> {
                                finder.forget(channel); // the next withSocket rediscovers
                                yield null;
                            }
                        };
                        if (failure != null) {
                            failures.add("thread " + thread + " op " + i + " on " + channel + ": " + failure);
                        }
                        operations.incrementAndGet();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(100, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(failures).isEmpty();
        assertThat(operations.get()).isEqualTo(threads * operationsPerThread);
        assertThat(sockets.changedDecoys()).isEmpty();
    }

    /// A [NetworkChannel] that is not backed by any socket of this process.
    private static final class ForeignChannel implements NetworkChannel {
        private final InetSocketAddress local;
        private boolean reuseAddress;
        int setOptionCalls;

        ForeignChannel(InetSocketAddress local) {
            this.local = local;
        }

        @Override
        public NetworkChannel bind(SocketAddress address) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> NetworkChannel setOption(SocketOption<T> name, T value) {
            setOptionCalls++;
            reuseAddress = (Boolean) value;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T getOption(SocketOption<T> name) {
            return (T) Boolean.valueOf(reuseAddress);
        }

        @Override
        public Set<SocketOption<?>> supportedOptions() {
            return Set.of(StandardSocketOptions.SO_REUSEADDR);
        }

        @Override
        public SocketAddress getLocalAddress() {
            return local;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
