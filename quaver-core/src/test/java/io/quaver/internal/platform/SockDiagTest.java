package io.quaver.internal.platform;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.assertj.core.api.Assertions.assertThat;

import io.quaver.internal.platform.SocketFdFinder.Location;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/// The exact narrowing by `NETLINK_SOCK_DIAG`, and the fd index's probing of free numbers.
@EnabledOnOs(OS.LINUX)
class SockDiagTest {
    private static final int MESSAGE_BYTES = LinuxAbi.NLMSGHDR_SIZE + LinuxAbi.INET_DIAG_REQ_V2_SIZE;
    private static final long ID = LinuxAbi.NLMSGHDR_SIZE + LinuxAbi.INET_DIAG_REQ_ID_OFFSET;

    private final TestSockets sockets = new TestSockets();

    @AfterEach
    void closeAll() {
        sockets.close();
    }

    @Test
    void encodesAnExactTcpRequestWithTheLocalEndAsSource() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(MESSAGE_BYTES);
            SockDiag.encodeRequest(m, 7, LinuxAbi.AF_INET, LinuxAbi.SOCK_STREAM,
                    new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 0x1234),
                    new InetSocketAddress(InetAddress.ofLiteral("10.1.2.3"), 0x5678));
            assertThat(m.get(JAVA_INT, 0)).isEqualTo(72);
            assertThat(m.get(JAVA_SHORT, 4)).isEqualTo((short) 20);
            assertThat(m.get(JAVA_SHORT, 6)).isEqualTo((short) 1);
            assertThat(m.get(JAVA_INT, 8)).isEqualTo(7);
            assertThat(m.get(JAVA_INT, 12)).isZero();
            assertThat(m.get(JAVA_BYTE, 16)).isEqualTo((byte) 2);
            assertThat(m.get(JAVA_BYTE, 17)).isEqualTo((byte) 6);
            assertThat(m.get(JAVA_INT, 20)).isEqualTo(-1);
            assertThat(bytes(m, ID, 2)).containsExactly(0x12, 0x34);
            assertThat(bytes(m, ID + 2, 2)).containsExactly(0x56, 0x78);
            assertThat(bytes(m, ID + 4, 16)).containsExactly(127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            assertThat(bytes(m, ID + 20, 16)).containsExactly(10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            assertThat(m.get(JAVA_INT, ID + 36)).as("any interface").isZero();
            assertThat(m.get(JAVA_INT, ID + 40)).isEqualTo(-1);
            assertThat(m.get(JAVA_INT, ID + 44)).isEqualTo(-1);
        }
    }

    @Test
    void encodesAnUnconnectedUdpRequestWithTheLocalEndAsDestinationAndMappedAddresses() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(MESSAGE_BYTES);
            SockDiag.encodeRequest(m, 1, LinuxAbi.AF_INET6, LinuxAbi.SOCK_DGRAM,
                    new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 0xA1B2), null);
            assertThat(m.get(JAVA_BYTE, 16)).isEqualTo((byte) 10);
            assertThat(m.get(JAVA_BYTE, 17)).isEqualTo((byte) 17);
            assertThat(bytes(m, ID, 2)).as("source port: the (absent) remote end").containsExactly(0, 0);
            assertThat(bytes(m, ID + 2, 2)).containsExactly(0xA1, 0xB2);
            assertThat(bytes(m, ID + 4, 16)).containsOnly(0);
            assertThat(bytes(m, ID + 20, 16)).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1);

            SockDiag.encodeRequest(m, 2, LinuxAbi.AF_INET6, LinuxAbi.SOCK_DGRAM,
                    new InetSocketAddress(InetAddress.ofLiteral("0.0.0.0"), 9), null);
            assertThat(bytes(m, ID + 20, 16)).as("the IPv4 wildcard is the IPv6 wildcard").containsOnly(0);
        }
    }

    @Test
    void decodesTheInodeOfAMatchingReplyOnly() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment reply = arena.allocate(256);
            int length = LinuxAbi.NLMSGHDR_SIZE + LinuxAbi.INET_DIAG_MSG_SIZE;
            reply.set(JAVA_INT, 0, length);
            reply.set(JAVA_SHORT, 4, (short) LinuxAbi.SOCK_DIAG_BY_FAMILY);
            reply.set(JAVA_INT, 8, 3);
            reply.set(JAVA_INT, LinuxAbi.NLMSGHDR_SIZE + 68, 0xF000_0001);
            assertThat(SockDiag.decodeInode(reply, length, 3)).isEqualTo(0xF000_0001L);
            assertThat(SockDiag.decodeInode(reply, length, 4)).as("another request's reply").isEqualTo(-1);
            assertThat(SockDiag.decodeInode(reply, length - 1, 3)).as("truncated").isEqualTo(-1);
            assertThat(SockDiag.decodeInode(reply, 8, 3)).isEqualTo(-1);
            reply.set(JAVA_SHORT, 4, (short) LinuxAbi.NLMSG_ERROR);
            reply.set(JAVA_INT, 0, 36);
            reply.set(JAVA_INT, LinuxAbi.NLMSGHDR_SIZE, -2); // -ENOENT
            assertThat(SockDiag.decodeInode(reply, 36, 3)).isEqualTo(-1);
        }
    }

    @Test
    void kernelNamesBoundAndConnectedDatagramSocketsOfBothFamilies() throws IOException {
        DatagramChannel dualStackLoopback = bound(sockets.datagram(null), TestSockets.IPV4_LOOPBACK);
        DatagramChannel ipv4Loopback = bound(sockets.datagram(StandardProtocolFamily.INET), TestSockets.IPV4_LOOPBACK);
        DatagramChannel ipv4Wildcard = sockets.datagram(StandardProtocolFamily.INET).bind(null);
        DatagramChannel dualStackWildcard = sockets.datagram(null).bind(null);
        DatagramChannel connected = bound(sockets.datagram(null), TestSockets.IPV4_LOOPBACK);
        connected.connect(ipv4Loopback.getLocalAddress());
        for (DatagramChannel channel : List.of(dualStackLoopback, ipv4Loopback, ipv4Wildcard, dualStackWildcard,
                connected)) {
            assertThat(diag(channel, LinuxAbi.SOCK_DGRAM)).as("%s", channel).containsExactly(inode(channel));
        }
        if (TestSockets.ipv6Available()) {
            DatagramChannel ipv6 = bound(sockets.datagram(StandardProtocolFamily.INET6), TestSockets.IPV6_LOOPBACK);
            assertThat(diag(ipv6, LinuxAbi.SOCK_DGRAM)).containsExactly(inode(ipv6));
        }
    }

    @Test
    void kernelNamesAListenerAndBothEndsOfAConnection() throws IOException {
        ServerSocketChannel server = sockets.server();
        SocketChannel[] pair = sockets.connect(server, null);
        assertThat(SockDiag.inodes(LinuxAbi.SOCK_STREAM, (InetSocketAddress) server.getLocalAddress(), null))
                .containsExactly(inode(server));
        for (SocketChannel end : pair) {
            assertThat(diag(end, LinuxAbi.SOCK_STREAM)).as("%s", end).containsExactly(inode(end));
        }
    }

    @Test
    void kernelNamesNothingForAPortNobodyHolds() throws IOException {
        DatagramChannel channel = bound(sockets.datagram(StandardProtocolFamily.INET), TestSockets.IPV4_LOOPBACK);
        InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
        channel.close();
        assertThat(SockDiag.inodes(LinuxAbi.SOCK_DGRAM, local, null)).isEmpty();
        assertThat(SockDiag.inodes(LinuxAbi.SOCK_STREAM, local, null)).isEmpty();
    }

    @Test
    void aSocketOpenedAfterIndexingIsLocatedWithoutListingTheDescriptors() throws IOException {
        for (int i = 0; i < 50; i++) {
            sockets.datagram(null);
        }
        DatagramChannel indexed = sockets.datagram(null);
        assertThat(ProcNetSockets.locate(Set.of(inode(indexed)), Set.of())).hasSize(1); // indexes everything
        int located = 0;
        for (int round = 0; round < 10; round++) {
            DatagramChannel fresh = sockets.datagram(null);
            long inode = inode(fresh);
            long listingsBefore = ProcNetSockets.listings();
            List<Location> found = ProcNetSockets.locate(Set.of(inode), Set.of());
            assertThat(found).hasSize(1);
            assertThat(SocketFdFinder.inodeOf(found.getFirst().fd())).isEqualTo(inode);
            if (ProcNetSockets.listings() == listingsBefore) {
                located++;
            }
        }
        // The JVM may open a file of its own between two sockets now and then; the probe budget
        // covers that, and a miss only costs a listing.
        assertThat(located).as("rounds located by probing free numbers alone").isGreaterThanOrEqualTo(8);
    }

    private static DatagramChannel bound(DatagramChannel channel, InetAddress address) throws IOException {
        return channel.bind(new InetSocketAddress(address, 0));
    }

    private static Set<Long> diag(NetworkChannel channel, int socketType) throws IOException {
        InetSocketAddress remote = switch (channel) {
            case DatagramChannel c -> (InetSocketAddress) c.getRemoteAddress();
            case SocketChannel c -> (InetSocketAddress) c.getRemoteAddress();
            default -> null;
        };
        return SockDiag.inodes(socketType, (InetSocketAddress) channel.getLocalAddress(), remote);
    }

    private static long inode(NetworkChannel channel) {
        return new SocketFdFinder().withSocket(channel, SocketFdFinder::inodeOf).orElseThrow();
    }

    private static int[] bytes(MemorySegment m, long offset, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = Byte.toUnsignedInt(m.get(JAVA_BYTE, offset + i));
        }
        return out;
    }
}
