package io.quaver.internal.platform;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/// The Linux platform's operations on real loopback sockets.
@EnabledOnOs(OS.LINUX)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LinuxPlatformTest {
    private static final int ONE_MIB = 1 << 20;

    private final LinuxPlatform platform = LinuxPlatform.create();
    private TestSockets sockets;

    @BeforeEach
    void open() {
        sockets = new TestSockets();
    }

    @AfterEach
    void closeAll() {
        sockets.close();
    }

    /// `preciseTimers` sets the calling thread's timer slack to 1 ns (read back from
    /// `/proc/<tid>/timerslack_ns`), and only the calling thread's.
    @Test
    void preciseTimersSetTheCallingThreadsTimerSlackToOneNanosecond() throws Exception {
        long[] slack = new long[3];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                slack[0] = timerSlackNs();
                assertThat(platform.preciseTimers()).isTrue();
                slack[1] = timerSlackNs();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        t.join();
        slack[2] = timerSlackNs();
        assertThat(slack[0]).as("before").isGreaterThan(1);
        assertThat(slack[1]).as("after").isEqualTo(1);
        assertThat(slack[2]).as("another thread").isGreaterThan(1);
    }

    private static long timerSlackNs() throws IOException {
        String self = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self")).toString();
        String tid = self.substring(self.lastIndexOf('/') + 1);
        return Long.parseLong(java.nio.file.Files.readString(java.nio.file.Path.of("/proc", tid, "timerslack_ns")).trim());
    }

    /// One channel of each kind: default and IPv4 datagram, both ends of a loopback connection.
    private List<NetworkChannel> channelsOfEveryKind() throws IOException {
        SocketChannel[] pair = sockets.connect(sockets.server(), null);
        return List.of(sockets.datagram(null), sockets.datagram(StandardProtocolFamily.INET), pair[0], pair[1]);
    }

    @Test
    void isNamedLinuxFfm() {
        assertThat(platform.name()).isEqualTo("linux-ffm");
    }

    // ---- privileges ----------------------------------------------------------------------------

    @Test
    void privilegeComesFromEffectiveUidZeroOrCapNetAdmin() {
        String header = "Name:\tjava\nUmask:\t0022\nState:\tR (running)\n";
        assertThat(LinuxPlatform.isPrivileged(header + "Uid:\t0\t0\t0\t0\nCapEff:\t0000000000000000\n")).isTrue();
        // Real uid 0 but effective 1000: not privileged.
        assertThat(LinuxPlatform.isPrivileged(header + "Uid:\t0\t1000\t1000\t1000\nCapEff:\t0000000000000000\n"))
                .isFalse();
        assertThat(LinuxPlatform.isPrivileged(header + "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000001000\n"))
                .as("CAP_NET_ADMIN is bit 12").isTrue();
        assertThat(LinuxPlatform.isPrivileged(header + "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000002000\n"))
                .as("CAP_NET_RAW (bit 13) alone").isFalse();
        assertThat(LinuxPlatform.isPrivileged(header + "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t000001ffffffffff\n"))
                .isTrue();
        assertThat(LinuxPlatform.isPrivileged("garbage\nCapEff:\tnot-hex\n")).isFalse();
    }

    @Test
    void privilegeOfThisProcess() throws IOException {
        // /proc/self belongs to the process's effective uid: an independent reading of it.
        int effectiveUid = (Integer) Files.getAttribute(Path.of("/proc/self/"), "unix:uid");
        DatagramChannel channel = sockets.datagram(null);
        if (effectiveUid == 0) {
            assertThat(platform.isPrivileged()).isTrue();
        }
        if (platform.isPrivileged()) {
            // Priorities above 6 need CAP_NET_ADMIN (or CAP_NET_RAW).
            assertThat(platform.setPriority(channel, 7)).isTrue();
            assertThat(platform.priority(channel)).hasValue(7);
        }
    }

    // ---- describe ------------------------------------------------------------------------------

    @Test
    void socketFactsAgreeWithDescribeAndPriorityFromOneLookup() throws IOException {
        ServerSocketChannel server = sockets.server();
        SocketChannel[] pair = sockets.connect(server, null);
        DatagramChannel bound = sockets.datagram(null);
        bound.bind(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0));
        for (NetworkChannel channel : List.of(pair[0], pair[1], server, bound, sockets.datagram(null),
                sockets.datagram(StandardProtocolFamily.INET))) {
            assertThat(platform.setPriority(channel, 3)).isTrue();
            platform.finder().forget(channel);
            Platform.SocketFacts facts = platform.socketFacts(channel);
            assertThat(facts.info()).as("info of %s", channel).isEqualTo(platform.describe(channel));
            assertThat(facts.priority()).as("priority of %s", channel).hasValue(3);
        }
        DatagramChannel closed = sockets.datagram(null);
        closed.close();
        Platform.SocketFacts none = platform.socketFacts(closed);
        assertThat(none.info().family()).isEqualTo(SocketInfo.Family.UNKNOWN);
        assertThat(none.priority()).isEmpty();
    }

    @Test
    void describesFamilyAndTypeOfEachChannelKind() throws IOException {
        SocketInfo.Family defaultFamily = TestSockets.ipv6Available() ? SocketInfo.Family.INET6 : SocketInfo.Family.INET;
        ServerSocketChannel server = sockets.server();
        SocketChannel[] defaultPair = sockets.connect(server, null);
        SocketChannel[] inetPair = sockets.connect(server, StandardProtocolFamily.INET);

        assertThat(platform.describe(sockets.datagram(StandardProtocolFamily.INET)))
                .isEqualTo(new SocketInfo(SocketInfo.Family.INET, false, false));
        assertThat(platform.describe(sockets.datagram(null))).isEqualTo(new SocketInfo(defaultFamily, false, false));
        assertThat(platform.describe(defaultPair[0])).isEqualTo(new SocketInfo(defaultFamily, false, true));
        assertThat(platform.describe(inetPair[0])).isEqualTo(new SocketInfo(SocketInfo.Family.INET, false, true));
        // A listening channel of the JDK's default family.
        assertThat(platform.describe(server)).isEqualTo(new SocketInfo(defaultFamily, false, true));
        assertThat(platform.describe(sockets.datagram(null)).acceptsIpv4()).isTrue();
    }

    // ---- ttl -----------------------------------------------------------------------------------

    @Test
    void ttlRoundTripsOnIpv4AndIpv6DatagramSocketsAndMinusOneRestoresTheDefault() throws IOException {
        List<DatagramChannel> channels = TestSockets.ipv6Available()
                ? List.of(sockets.datagram(StandardProtocolFamily.INET), sockets.datagram(StandardProtocolFamily.INET6),
                sockets.datagram(null))
                : List.of(sockets.datagram(StandardProtocolFamily.INET));
        for (DatagramChannel channel : channels) {
            int defaultTtl = platform.ttl(channel).orElseThrow();
            assertThat(defaultTtl).as("default of %s", channel).isBetween(1, 255);
            assertThat(platform.setTtl(channel, 1)).isTrue();
            assertThat(platform.ttl(channel)).hasValue(1);
            assertThat(platform.setTtl(channel, 200)).isTrue();
            assertThat(platform.ttl(channel)).hasValue(200);
            assertThat(platform.setTtl(channel, -1)).isTrue();
            assertThat(platform.ttl(channel)).hasValue(defaultTtl);
            assertThat(platform.setTtl(channel, 0)).as("0 is out of range").isFalse();
            assertThat(platform.setTtl(channel, 256)).isFalse();
        }
    }

    @Test
    void ttlOneKeepsADatagramOnTheLinkButItStillReachesALoopbackPeer() throws IOException {
        DatagramChannel rx = sockets.datagram(StandardProtocolFamily.INET);
        rx.bind(new InetSocketAddress("127.0.0.1", 0));
        DatagramChannel tx = sockets.datagram(StandardProtocolFamily.INET);
        tx.connect(rx.getLocalAddress());
        assertThat(platform.setTtl(tx, 1)).isTrue();
        tx.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        ByteBuffer in = ByteBuffer.allocate(16);
        rx.configureBlocking(true);
        assertThat(rx.receive(in)).isNotNull();
        assertThat(in.position()).isEqualTo(3);
    }

    @Test
    void ttlOfAClosedChannelIsUnavailable() throws IOException {
        DatagramChannel channel = sockets.datagram(StandardProtocolFamily.INET);
        channel.close();
        assertThat(platform.setTtl(channel, 1)).isFalse();
        assertThat(platform.ttl(channel)).isEmpty();
    }

    // ---- priority ------------------------------------------------------------------------------

    @Test
    void priorityRoundTripsOnEveryChannelKind() throws IOException {
        for (NetworkChannel channel : channelsOfEveryKind()) {
            assertThat(platform.priority(channel)).as("default priority of %s", channel).hasValue(0);
            for (int priority = 0; priority <= 6; priority++) {
                assertThat(platform.setPriority(channel, priority)).as("set %d on %s", priority, channel).isTrue();
                assertThat(platform.priority(channel)).as("read back from %s", channel).hasValue(priority);
            }
        }
    }

    /// The kernel's `rt_tos2priority`: `ip_tos2prio[(tos & 0x1E) >> 1]`.
    @ParameterizedTest(name = "TOS {0} → priority {1}")
    @CsvSource({"0x10, 6", "0x08, 2", "0xB8, 4", "0x88, 2", "0x04, 0"})
    void settingTosThroughTheJdkRewritesThePrioritySoPriorityMustBeSetAfterTos(String tosHex, int priorityFromTos)
            throws IOException {
        int tos = Integer.decode(tosHex);
        for (NetworkChannel channel : channelsOfEveryKind()) {
            // Wrong order: priority first, then TOS, loses the priority.
            assertThat(platform.setPriority(channel, 5)).isTrue();
            channel.setOption(StandardSocketOptions.IP_TOS, tos);
            assertThat(platform.priority(channel)).as("priority of %s after a new TOS", channel).hasValue(priorityFromTos);

            // Right order: TOS first, then priority; both stick.
            assertThat(platform.setPriority(channel, 3)).isTrue();
            assertThat(platform.priority(channel)).hasValue(3);
            assertThat(channel.getOption(StandardSocketOptions.IP_TOS)).isEqualTo(tos);

            // Re-setting the *same* TOS leaves the priority alone (the kernel only rewrites on change).
            channel.setOption(StandardSocketOptions.IP_TOS, tos);
            assertThat(platform.priority(channel)).hasValue(3);
            channel.setOption(StandardSocketOptions.IP_TOS, 0);
        }
    }

    // ---- pacing --------------------------------------------------------------------------------

    @Test
    void maxPacingRateRoundTripsIncludingRatesAbove32BitsAndUnlimited() throws IOException {
        for (NetworkChannel channel : channelsOfEveryKind()) {
            assertThat(platform.maxPacingRate(channel)).as("default of %s", channel).hasValue(-1);
            for (long bytesPerSecond : new long[] {1_000_000, 12_500_000_000L, 0xFFFF_FFFEL, 0xFFFF_FFFFL, -1}) {
                assertThat(platform.setMaxPacingRate(channel, bytesPerSecond)).as("set %d", bytesPerSecond).isTrue();
                assertThat(platform.maxPacingRate(channel)).as("read %d back", bytesPerSecond).hasValue(bytesPerSecond);
            }
            assertThat(platform.setMaxPacingRate(channel, -2)).as("below -1 is rejected").isFalse();
            assertThat(platform.maxPacingRate(channel)).hasValue(-1);
        }
    }

    // ---- tcp_info ------------------------------------------------------------------------------

    /// Sends `bytes` from `pair[0]` to `pair[1]` and waits until the sender saw them acknowledged.
    private TcpInfo transfer(SocketChannel[] pair, int bytes) throws Exception {
        Thread reader = Thread.ofVirtual().start(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            long received = 0;
            try {
                while (received < bytes) {
                    buffer.clear();
                    int n = pair[1].read(buffer);
                    if (n < 0) {
                        return;
                    }
                    received += n;
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        ByteBuffer data = ByteBuffer.allocate(bytes);
        while (data.hasRemaining()) {
            pair[0].write(data);
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        TcpInfo info;
        do {
            info = platform.tcpInfo(pair[0]).orElseThrow();
        } while (info.bytesAcked() < bytes && System.nanoTime() < deadline);
        return info;
    }

    @Test
    void tcpInfoOfALoopbackConnectionAfterATransfer() throws Exception {
        SocketChannel[] pair = sockets.connect(sockets.server(), null);

        TcpInfo info = transfer(pair, ONE_MIB);

        // tcpi_bytes_acked also counts the SYN, acknowledged as one byte.
        assertThat(info.bytesAcked()).isBetween((long) ONE_MIB, ONE_MIB + 1L);
        assertThat(info.rttUs()).as("smoothed RTT, µs").isPositive().isLessThan(1_000_000);
        assertThat(info.minRttUs()).as("min RTT, µs").isPositive().isLessThan(1_000_000);
        assertThat(info.rttVarUs()).isNotNegative().isLessThan(1_000_000);
        assertThat(info.sndMss()).as("MSS on loopback (MTU 65536)").isBetween(536, 65_535);
        assertThat(info.sndCwnd()).isPositive();
        assertThat(info.lost()).isZero();
        assertThat(info.totalRetrans()).isNotNegative();
        assertThat(info.deliveryRateBps()).as("bytes/s × 8").isPositive();
        assertThat(info.deliveryRateBps() % 8).as("delivery rate converted from bytes/s").isZero();
        assertThat(info.pacingRateBps()).isPositive();
        assertThat(info.pacingRateBps() % 8).as("pacing rate converted from bytes/s").isZero();

        // The receiving side sent no data.
        assertThat(platform.tcpInfo(pair[1]).orElseThrow().bytesAcked()).isZero();
    }

    @Test
    void tcpInfoPacingRateIsCappedByMaxPacingRateInBitsPerSecond() throws Exception {
        SocketChannel[] pair = sockets.connect(sockets.server(), null);
        transfer(pair, ONE_MIB);
        assertThat(platform.tcpInfo(pair[0]).orElseThrow().pacingRateBps()).isGreaterThan(8_000_000);

        assertThat(platform.setMaxPacingRate(pair[0], 1_000_000)).isTrue();

        // Setting SO_MAX_PACING_RATE clamps the current pacing rate at once: 1,000,000 B/s = 8 Mbit/s.
        assertThat(platform.tcpInfo(pair[0]).orElseThrow().pacingRateBps()).isEqualTo(8_000_000);
    }

    @Test
    void tcpInfoMarksASmallWriteOnAnIdleConnectionAsApplicationLimited() throws Exception {
        SocketChannel[] pair = sockets.connect(sockets.server(), null);

        TcpInfo info = transfer(pair, 100);

        assertThat(info.bytesAcked()).isEqualTo(101); // 100 bytes and the SYN
        assertThat(info.appLimited()).isTrue();
    }

    @Test
    void tcpInfoIsEmptyForAnUnconnectedChannel() throws IOException {
        assertThat(platform.tcpInfo(sockets.track(SocketChannel.open()))).isEmpty();
    }

    @Test
    void tcpInfoDecodingConvertsUnitsAndReadsTheAppLimitedBit() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(LinuxAbi.TCP_INFO_BUFFER_SIZE, Long.BYTES);
            info.set(JAVA_BYTE, LinuxAbi.TCPI_APP_LIMITED_BYTE, (byte) 0b0000_0111); // app-limited + fastopen bits
            info.set(JAVA_INT, LinuxAbi.TCPI_RTT, 1_250);
            info.set(JAVA_INT, LinuxAbi.TCPI_RTTVAR, 300);
            info.set(JAVA_INT, LinuxAbi.TCPI_MIN_RTT, 0xFFFF_FFF0); // u32 above Integer.MAX_VALUE
            info.set(JAVA_LONG, LinuxAbi.TCPI_DELIVERY_RATE, 125_000_000L); // 1 Gbit/s
            info.set(JAVA_LONG, LinuxAbi.TCPI_PACING_RATE, -1L); // ~0: unlimited
            info.set(JAVA_INT, LinuxAbi.TCPI_SND_CWND, 42);
            info.set(JAVA_INT, LinuxAbi.TCPI_SND_MSS, 1448);
            info.set(JAVA_INT, LinuxAbi.TCPI_LOST, 3);
            info.set(JAVA_INT, LinuxAbi.TCPI_TOTAL_RETRANS, -1); // u32 max saturates to int max
            info.set(JAVA_LONG, LinuxAbi.TCPI_BYTES_ACKED, 9_000_000_000L);

            assertThat(LinuxPlatform.parseTcpInfo(info)).isEqualTo(new TcpInfo(1_250, 300, 0xFFFF_FFF0L,
                    1_000_000_000L, -1, 42, 1448, 3, Integer.MAX_VALUE, 9_000_000_000L, true));

            info.set(JAVA_BYTE, LinuxAbi.TCPI_APP_LIMITED_BYTE, (byte) 0b0000_0110); // fastopen bits only
            assertThat(LinuxPlatform.parseTcpInfo(info).appLimited()).isFalse();
        }
        assertThat(LinuxPlatform.bitsPerSecond(Long.MAX_VALUE / 8 + 1)).isEqualTo(Long.MAX_VALUE);
        assertThat(LinuxPlatform.bitsPerSecond(Long.MIN_VALUE)).as("≥ 2^63 B/s").isEqualTo(Long.MAX_VALUE);
        assertThat(LinuxPlatform.bitsPerSecond(0)).isZero();
    }

    // ---- closed and unknown channels -----------------------------------------------------------

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aClosedChannelYieldsFalseOrEmptyAndNeverThrows(boolean usedBeforeClosing) throws IOException {
        SocketChannel[] pair = sockets.connect(sockets.server(), null);
        DatagramChannel datagram = sockets.datagram(null);
        for (NetworkChannel channel : List.of(pair[0], datagram)) {
            if (usedBeforeClosing) {
                assertThat(platform.setPriority(channel, 2)).isTrue(); // the location is now cached
            }
            channel.close();
            assertThatCode(() -> {
                assertThat(platform.setPriority(channel, 4)).isFalse();
                assertThat(platform.priority(channel)).isEmpty();
                assertThat(platform.setMaxPacingRate(channel, 1_000)).isFalse();
                assertThat(platform.maxPacingRate(channel)).isEmpty();
                assertThat(platform.describe(channel)).isEqualTo(
                        new SocketInfo(SocketInfo.Family.UNKNOWN, false, channel instanceof SocketChannel));
            }).doesNotThrowAnyException();
        }
        assertThat(platform.tcpInfo(pair[0])).isEmpty();
    }

    @Test
    void aChannelWhoseSocketCannotBeFoundYieldsFalseOrEmpty() {
        NetworkChannel foreign = new UnbackedChannel();
        assertThat(platform.setPriority(foreign, 4)).isFalse();
        assertThat(platform.priority(foreign)).isEmpty();
        assertThat(platform.setMaxPacingRate(foreign, 1_000)).isFalse();
        assertThat(platform.maxPacingRate(foreign)).isEmpty();
        assertThat(platform.describe(foreign)).isEqualTo(new SocketInfo(SocketInfo.Family.UNKNOWN, false, false));
    }

    @Test
    void aCallTheKernelRefusesIsReportedAsNotApplied() throws IOException {
        DatagramChannel channel = sockets.datagram(null);
        if (!platform.isPrivileged()) {
            assertThat(platform.setPriority(channel, 7)).isFalse(); // EPERM
        }
        // SO_PRIORITY is an option of the socket, not of TCP: a bad level is refused by any kernel.
        Optional<Integer> refused = platform.finder().withSocket(channel,
                fd -> LinuxNative.getsockoptInt(fd, LinuxAbi.IPPROTO_TCP, LinuxAbi.SO_PRIORITY));
        assertThat(refused).isEmpty();
        assertThat(platform.priority(channel)).hasValue(0);
    }

    /// A channel that reports an address no socket of this process has.
    private static final class UnbackedChannel implements NetworkChannel {
        @Override
        public NetworkChannel bind(SocketAddress local) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> NetworkChannel setOption(SocketOption<T> name, T value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> T getOption(SocketOption<T> name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Set<SocketOption<?>> supportedOptions() {
            return Set.of(StandardSocketOptions.SO_REUSEADDR);
        }

        @Override
        public SocketAddress getLocalAddress() {
            return new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 1);
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
