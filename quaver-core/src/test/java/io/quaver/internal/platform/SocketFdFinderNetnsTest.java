package io.quaver.internal.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;

import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// Sockets opened in another network namespace are in none of the calling thread's kernel
/// tables: the finder probes descriptor numbers, and finds the next socket opened in a row
/// next to the last one, without probing every number again.
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SocketFdFinderNetnsTest {
    private static NetnsTestBed bed;

    @BeforeAll
    static void namespaces() throws Exception {
        Availability a = NetnsTestBed.availability();
        assumeTrue(a.ok(), () -> "sockets of another namespace not tested: " + a.reason());
        bed = NetnsTestBed.builder().ipv6(false).build();
    }

    @AfterAll
    static void close() throws Exception {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void socketsOpenedInARowInAnotherNamespaceAreFoundNextToEachOther() throws Exception {
        int count = 40;
        List<DatagramChannel> channels = bed.inNamespace(Node.A, () -> {
            List<DatagramChannel> l = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                l.add(DatagramChannel.open().connect(new InetSocketAddress(bed.ipv4(Node.B), 7000 + i)));
            }
            return l;
        });
        // look-alikes in this namespace: same type, bound, connected to the same ports
        List<DatagramChannel> decoys = new ArrayList<>();
        try {
            for (int i = 0; i < 10; i++) {
                decoys.add(DatagramChannel.open().connect(new InetSocketAddress("127.0.0.1", 7000 + i)));
            }
            SocketFdFinder finder = new SocketFdFinder();
            long scansBefore = SocketFdFinder.rawScans();
            int marker = 150_000;
            for (DatagramChannel ch : channels) {
                int bytes = marker;
                marker += 64;
                Optional<Long> inode = finder.withSocket(ch, fd -> {
                    LinuxNative.setsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_SNDBUF, bytes);
                    return SocketFdFinder.inodeOf(fd);
                });
                assertThat(inode).as("a descriptor was found for %s", ch.getLocalAddress()).isPresent();
                assertThat(ch.getOption(StandardSocketOptions.SO_SNDBUF))
                        .as("SO_SNDBUF written through the found descriptor, read through the channel").isEqualTo(bytes);
            }
            for (DatagramChannel d : decoys) {
                assertThat(d.getOption(StandardSocketOptions.SO_SNDBUF)).as("a decoy's SO_SNDBUF").isLessThan(150_000);
            }
            assertThat(SocketFdFinder.rawScans() - scansBefore)
                    .as("lookups that probed every descriptor number (the first may: no earlier hit to start from)")
                    .isLessThanOrEqualTo(1);
        } finally {
            for (DatagramChannel c : channels) {
                c.close();
            }
            for (DatagramChannel d : decoys) {
                d.close();
            }
        }
    }
}
