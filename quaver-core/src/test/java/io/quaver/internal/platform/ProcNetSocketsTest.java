package io.quaver.internal.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.quaver.internal.platform.SocketFdFinder.Location;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/// The narrowing [SocketFdFinder] uses for bound channels: socket tables and the fd index.
@EnabledOnOs(OS.LINUX)
class ProcNetSocketsTest {
    private final TestSockets sockets = new TestSockets();

    @AfterEach
    void closeAll() {
        sockets.close();
    }

    @Test
    void parsesTableLinesOfBothFamilies() {
        String tcp = "   3: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 "
                + "0000000000000000 20 4 30 10 -1";
        String udp6 = "  512: 0000000000000000FFFF00000100007F:A1B2 00000000000000000000000000000000:0000 07 "
                + "00000000:00000000 00:00000000 00000000  1000        0 777 2 0000000000000000 0";
        assertThat(ProcNetSockets.inodeIfPorts(tcp, 0x1F90, 0xC350)).isEqualTo(4242);
        assertThat(ProcNetSockets.inodeIfPorts(tcp, 0x1F90, 0)).isEqualTo(-1);
        assertThat(ProcNetSockets.inodeIfPorts(tcp, 0x1F91, 0xC350)).isEqualTo(-1);
        assertThat(ProcNetSockets.inodeIfPorts(udp6, 0xA1B2, 0)).isEqualTo(777);
        assertThat(ProcNetSockets.inodeIfPorts("garbage", 1, 0)).isEqualTo(-1);
        assertThat(ProcNetSockets.inodeIfPorts("", 1, 0)).isEqualTo(-1);
        assertThat(ProcNetSockets.inodeIfPorts("  sl  local_address rem_address   st", 1, 0)).isEqualTo(-1);
    }

    @Test
    void tablesNameTheSocketsOfAPortPair() throws IOException {
        ServerSocketChannel server = sockets.server();
        SocketChannel[] pair = sockets.connect(server, null);
        DatagramChannel datagram = sockets.datagram(null);
        datagram.bind(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0));
        int serverPort = ((InetSocketAddress) server.getLocalAddress()).getPort();
        int clientPort = ((InetSocketAddress) pair[0].getLocalAddress()).getPort();
        long listener = inode(server);
        long client = inode(pair[0]);
        long accepted = inode(pair[1]);

        assertThat(ProcNetSockets.inodes(LinuxAbi.SOCK_STREAM, serverPort, 0)).containsExactly(listener);
        assertThat(ProcNetSockets.inodes(LinuxAbi.SOCK_STREAM, serverPort, clientPort)).containsExactly(accepted);
        assertThat(ProcNetSockets.inodes(LinuxAbi.SOCK_STREAM, clientPort, serverPort)).containsExactly(client);
        int udpPort = ((InetSocketAddress) datagram.getLocalAddress()).getPort();
        assertThat(ProcNetSockets.inodes(LinuxAbi.SOCK_DGRAM, udpPort, 0)).containsExactly(inode(datagram));
        assertThat(ProcNetSockets.inodes(0, udpPort, 0)).contains(inode(datagram));
    }

    @Test
    void locatesSocketsWhoseNumbersWereReusedSinceIndexed() throws IOException {
        for (int round = 0; round < 20; round++) {
            DatagramChannel first = sockets.datagram(null);
            long firstInode = inode(first);
            List<Location> located = ProcNetSockets.locate(Set.of(firstInode), Set.of());
            assertThat(located).hasSize(1);
            assertThat(SocketFdFinder.inodeOf(located.getFirst().fd())).isEqualTo(firstInode);
            first.close();

            DatagramChannel second = sockets.datagram(null); // usually takes first's number
            long secondInode = inode(second);
            located = ProcNetSockets.locate(Set.of(secondInode, firstInode), Set.of());
            assertThat(located).as("the closed socket is not found, the new one is").hasSize(1);
            assertThat(located.getFirst().inode()).isEqualTo(secondInode);
            assertThat(SocketFdFinder.inodeOf(located.getFirst().fd())).isEqualTo(secondInode);
        }
    }

    @Test
    void locateSkipsTheGivenNumbers() throws IOException {
        DatagramChannel channel = sockets.datagram(null);
        long inode = inode(channel);
        Location location = ProcNetSockets.locate(Set.of(inode), Set.of()).getFirst();
        assertThat(ProcNetSockets.locate(Set.of(inode), Set.of(location.fd()))).isEmpty();
    }

    private static long inode(java.nio.channels.NetworkChannel channel) {
        return new SocketFdFinder().withSocket(channel, SocketFdFinder::inodeOf).orElseThrow();
    }
}
