package io.quaver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quaver.testkit.NetnsTestBed.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/// Packet capture tests: they need tcpdump and the right to capture (root in CI), and skip with the
/// reason only where [PacketCapture#availability()] says that is missing.
@ExtendWith(NoLeaksExtension.class)
class PacketCaptureTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @BeforeEach
    void requireCapture() {
        Availability a = PacketCapture.availability();
        assumeTrue(a.ok(), a.reason());
    }

    private static DatagramChannel sender(StandardProtocolFamily family, int tos) throws Exception {
        DatagramChannel ch = family == null ? DatagramChannel.open() : DatagramChannel.open(family);
        ch.setOption(StandardSocketOptions.IP_TOS, tos);
        return ch;
    }

    @Test
    void capturesTosAndTrafficClassOnLoopback() throws Exception {
        try (var rx4 = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress("127.0.0.1", 0));
                var rx6 = DatagramChannel.open(StandardProtocolFamily.INET6).bind(new InetSocketAddress("::1", 0));
                var v4 = sender(StandardProtocolFamily.INET, 0xA0);
                var v6 = sender(StandardProtocolFamily.INET6, 0xB8);
                var dual = sender(null, 0x88)) {
            v4.bind(new InetSocketAddress("127.0.0.1", 0));
            v6.bind(new InetSocketAddress("::1", 0));
            dual.bind(new InetSocketAddress(0)); // dual-stack wildcard: sends IPv4 as a mapped address
            var to4 = (InetSocketAddress) rx4.getLocalAddress();
            var to6 = (InetSocketAddress) rx6.getLocalAddress();
            try (var cap = PacketCapture.start("lo", "udp and (dst port " + to4.getPort() + " or dst port "
                    + to6.getPort() + ")")) {
                v4.send(ByteBuffer.wrap("ipv4".getBytes()), to4);
                v6.send(ByteBuffer.wrap("ipv6!".getBytes()), to6);
                dual.send(ByteBuffer.wrap("dual-stack".getBytes()), to4);

                CapturedPacket p4 = cap.await(p -> p.sourcePort() == port(v4), 1, TIMEOUT).getFirst();
                CapturedPacket p6 = cap.await(p -> p.sourcePort() == port(v6), 1, TIMEOUT).getFirst();
                CapturedPacket pd = cap.await(p -> p.sourcePort() == port(dual), 1, TIMEOUT).getFirst();
                System.out.printf("captured:%n%s%n%s%n%s%n", p4.text(), p6.text(), pd.text());

                assertThat(p4.ipVersion()).isEqualTo(4);
                assertThat(p4.trafficClass()).isEqualTo(0xA0);
                assertThat(p4.destination()).isEqualTo(InetAddress.ofLiteral("127.0.0.1"));
                assertThat(p4.destinationPort()).isEqualTo(to4.getPort());
                assertThat(p4.ipLengthBytes()).isEqualTo(20 + 8 + 4);
                assertThat(p4.payloadLengthBytes()).isEqualTo(4);

                assertThat(p6.ipVersion()).isEqualTo(6);
                assertThat(p6.trafficClass()).isEqualTo(0xB8);
                assertThat(p6.dscp()).isEqualTo(46); // EF
                assertThat(p6.source()).isEqualTo(InetAddress.ofLiteral("::1"));
                assertThat(p6.ipLengthBytes()).isEqualTo(40 + 8 + 5);

                // From a dual-stack (AF_INET6) socket, IP_TOS must reach the IPv4 header as well.
                assertThat(pd.ipVersion()).isEqualTo(4);
                assertThat(pd.trafficClass()).isEqualTo(0x88);
                assertThat(pd.payloadLengthBytes()).isEqualTo(10);
                assertThat(cap.packets()).hasSize(3);
            }
        }
    }

    @Test
    void awaitTimesOutWithWhatWasSeen() throws Exception {
        try (var cap = PacketCapture.start("lo", "udp port 9")) {
            assertThat(cap.isRunning()).isTrue();
            assertThat(cap.stderr()).contains("listening on lo");
            assertThatThrownBy(() -> cap.await(p -> true, 1, Duration.ofMillis(100)))
                    .isInstanceOf(TimeoutException.class).hasMessageContaining("0 of 1");
        }
    }

    @Test
    void badFilterFailsToStart() {
        assertThatThrownBy(() -> PacketCapture.start("lo", "this is not a filter"))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("tcpdump");
    }

    @Test
    void capturesInsideANamespace() throws Exception {
        Availability netns = NetnsTestBed.availability();
        assumeTrue(netns.ok(), netns.reason());
        try (var bed = NetnsTestBed.builder().build();
                var rx = bed.inNamespace(Node.B, () -> DatagramChannel.open(StandardProtocolFamily.INET)
                        .bind(new InetSocketAddress(bed.ipv4(Node.B), 0)));
                var tx = bed.inNamespace(Node.A, () -> sender(StandardProtocolFamily.INET, 0x2E << 2));
                var cap = bed.capture(Node.B, Node.A, "udp")) {
            tx.send(ByteBuffer.wrap("hello b".getBytes()), rx.getLocalAddress());
            CapturedPacket p = cap.await(CapturedPacket::isUdp, 1, TIMEOUT).getFirst();
            assertThat(p.source()).isEqualTo(bed.ipv4(Node.A));
            assertThat(p.destination()).isEqualTo(bed.ipv4(Node.B));
            assertThat(p.dscp()).isEqualTo(0x2E);
            assertThat(cap.command()).contains("netns", bed.namespace(Node.B), "to-a");
        }
    }

    private static int port(DatagramChannel ch) {
        try {
            return ((InetSocketAddress) ch.getLocalAddress()).getPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
