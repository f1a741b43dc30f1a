package io.quaver.internal.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/// Kernel receive timestamps on real loopback sockets: a datagram read long after it arrived
/// keeps its arrival time. Tolerances are generous (a loaded 2-core machine); the benchmarks
/// hold the tight figures.
@EnabledOnOs(OS.LINUX)
class KernelReceiveTimestampsTest {
    private static final long MS = 1_000_000L;
    private static final long RECEIVER_SLEEP_MS = 200;

    /// The kernel switches receive timestamping on from a work queue when the first socket asks
    /// for it (and off when the last one closes), so a datagram sent at once may carry none
    /// (it is then stamped when read: the fallback). The prober's and the sink's first
    /// datagrams come milliseconds after their sockets ask.
    private static void letTheKernelSwitchTimestampingOn() throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(50);
    }

    private static Platform linux() {
        Platform platform = Platform.current();
        Assumptions.assumeTrue(platform instanceof LinuxPlatform,
                "the Linux FFM platform is not available in this JVM (" + platform.name() + ")");
        return platform;
    }

    @Test
    void aDatagramReadLateKeepsItsArrivalTime() throws Exception {
        Platform platform = linux();
        try (DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             DatagramChannel tx = DatagramChannel.open();
             ReceiveTimestamps stamps = platform.receiveTimestamps(rx)) {
            assertThat(stamps.kernelTimestamps()).isTrue();
            letTheKernelSwitchTimestampingOn();
            // the socket's very first datagram: its timestamping was switched on up front
            long sentNs = System.nanoTime();
            tx.send(ByteBuffer.wrap(new byte[] {1}), rx.getLocalAddress());
            TimeUnit.MILLISECONDS.sleep(RECEIVER_SLEEP_MS);

            ByteBuffer buffer = ByteBuffer.allocate(64);
            assertThat(rx.receive(buffer)).isNotNull();
            long userNs = System.nanoTime();
            long arrivedNs = stamps.receivedNs(userNs);

            assertThat(userNs - arrivedNs).as("kernel timestamp before the user-space reading")
                    .isGreaterThanOrEqualTo(150 * MS);
            assertThat(arrivedNs - sentNs).as("arrival after the send")
                    .isBetween(-1 * MS, 100 * MS);
        }
    }

    @Test
    void eachQueuedDatagramHasItsOwnArrivalTime() throws Exception {
        Platform platform = linux();
        try (DatagramChannel rx = DatagramChannel.open(StandardProtocolFamily.INET)
                .bind(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0));
             DatagramChannel tx = DatagramChannel.open(StandardProtocolFamily.INET);
             ReceiveTimestamps stamps = platform.receiveTimestamps(rx)) {
            letTheKernelSwitchTimestampingOn();
            long[] sentNs = new long[3];
            for (int i = 0; i < sentNs.length; i++) {
                if (i > 0) {
                    TimeUnit.MILLISECONDS.sleep(100);
                }
                sentNs[i] = System.nanoTime();
                tx.send(ByteBuffer.wrap(new byte[] {(byte) i}), rx.getLocalAddress());
            }
            long[] arrivedNs = receiveAll(rx, stamps, sentNs.length);
            for (int i = 0; i < sentNs.length; i++) {
                assertThat(arrivedNs[i] - sentNs[i]).as("datagram %d: arrival after its send", i)
                        .isBetween(-1 * MS, 60 * MS);
            }
            // the three were read back to back, but arrived ~100 ms apart
            assertThat(arrivedNs[2] - arrivedNs[0]).isGreaterThanOrEqualTo(150 * MS);
        }
    }

    @Test
    void worksOnDualStackIpv6Sockets() throws Exception {
        Platform platform = linux();
        Assumptions.assumeTrue(TestSockets.ipv6Available(), "IPv6 loopback is not available");
        try (DatagramChannel rx = DatagramChannel.open(StandardProtocolFamily.INET6)
                .bind(new InetSocketAddress(TestSockets.IPV6_LOOPBACK, 0));
             DatagramChannel tx = DatagramChannel.open(StandardProtocolFamily.INET6);
             ReceiveTimestamps stamps = platform.receiveTimestamps(rx)) {
            letTheKernelSwitchTimestampingOn();
            long sentNs = System.nanoTime();
            tx.send(ByteBuffer.wrap(new byte[] {0}), rx.getLocalAddress());
            TimeUnit.MILLISECONDS.sleep(RECEIVER_SLEEP_MS);
            long arrivedNs = receiveAll(rx, stamps, 1)[0];
            assertThat(System.nanoTime() - arrivedNs).isGreaterThanOrEqualTo(150 * MS);
            assertThat(arrivedNs - sentNs).isBetween(-1 * MS, 100 * MS);
        }
    }

    @Test
    void closingReleasesTheDescriptorAndFallsBackToTheCallersReading() throws Exception {
        Platform platform = linux();
        try (DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            long before = socketCount();
            ReceiveTimestamps stamps = platform.receiveTimestamps(rx);
            assertThat(socketCount()).as("its own descriptor of the socket").isEqualTo(before + 1);
            stamps.close();
            stamps.close(); // idempotent
            assertThat(socketCount()).isEqualTo(before);
            assertThat(stamps.kernelTimestamps()).isFalse();
            assertThat(stamps.receivedNs(12_345)).isEqualTo(12_345);
        }
    }

    @Test
    void aClosedChannelLetsGoOfTheSocket() throws Exception {
        Platform platform = linux();
        DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        int port = ((InetSocketAddress) rx.getLocalAddress()).getPort();
        ReceiveTimestamps stamps = platform.receiveTimestamps(rx);
        try {
            rx.close();
            assertThat(stamps.receivedNs(777)).isEqualTo(777);
            assertThat(stamps.kernelTimestamps()).isFalse();
            // the port is free again: no descriptor of the old socket is left
            try (DatagramChannel again = DatagramChannel.open()
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                assertThat(again.isOpen()).isTrue();
            }
        } finally {
            stamps.close();
        }
    }

    @Test
    void thePortablePlatformAnswersTheCallersReading() throws IOException {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ReceiveTimestamps stamps = PortablePlatform.INSTANCE.receiveTimestamps(ch);
            assertThat(stamps.kernelTimestamps()).isFalse();
            assertThat(stamps.receivedNs(5_000)).isEqualTo(5_000);
            stamps.close();
        }
    }

    private static long[] receiveAll(DatagramChannel rx, ReceiveTimestamps stamps, int count) throws IOException {
        long[] arrivedNs = new long[count];
        ByteBuffer buffer = ByteBuffer.allocate(64);
        for (int i = 0; i < count; i++) {
            buffer.clear();
            assertThat(rx.receive(buffer)).isNotNull();
            arrivedNs[buffer.get(0)] = stamps.receivedNs(System.nanoTime());
        }
        return arrivedNs;
    }

    private static long socketCount() throws IOException {
        try (var entries = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return entries.filter(p -> SocketFdFinder.socketInode(p) >= 0).count();
        }
    }
}
