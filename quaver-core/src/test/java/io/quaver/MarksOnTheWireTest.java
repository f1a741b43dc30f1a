package io.quaver;

import io.quaver.testkit.Availability;
import io.quaver.testkit.CapturedPacket;
import io.quaver.testkit.PacketCapture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/// Marks on the wire: packets captured on loopback with tcpdump carry DSCP << 2 for each of
/// the six traffic types on IPv4, IPv6 and a dual-stack socket sending to an IPv4 peer, and
/// carry no mark once the flow is removed or the handle closed.
class MarksOnTheWireTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /// How a sender socket is opened and where it sends.
    enum Stack {
        IPV4(StandardProtocolFamily.INET, "127.0.0.1"),
        IPV6(StandardProtocolFamily.INET6, "::1"),
        DUAL_STACK_TO_IPV4(null, "127.0.0.1");

        final StandardProtocolFamily family;
        final String receiver;

        Stack(StandardProtocolFamily family, String receiver) {
            this.family = family;
            this.receiver = receiver;
        }

        DatagramChannel open() throws IOException {
            return family == null ? DatagramChannel.open() : DatagramChannel.open(family);
        }
    }

    @BeforeAll
    static void needsCapture() {
        Availability capture = PacketCapture.availability();
        assumeTrue(capture.ok(), () -> "packet capture unavailable, marks on the wire not checked: " + capture.reason());
    }

    @ParameterizedTest
    @EnumSource(Stack.class)
    void everyTrafficTypeCarriesItsDscpAndNoMarkAfterwards(Stack stack) throws Exception {
        InetAddress receiverAddress = InetAddress.getByName(stack.receiver);
        try (DatagramChannel receiver = DatagramChannel.open(
                receiverAddress.getAddress().length == 4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6)) {
            receiver.bind(new InetSocketAddress(receiverAddress, 0));
            int port = ((InetSocketAddress) receiver.getLocalAddress()).getPort();
            Map<TrafficType, DatagramChannel> senders = new LinkedHashMap<>();
            List<DatagramChannel> all = new ArrayList<>();
            try (PacketCapture capture = PacketCapture.builder().interfaceName("lo")
                    .filter("udp and dst port " + port).start();
                 QosSubsystem qos = QosSubsystem.open()) {
                Map<TrafficType, QosFlow> flows = new LinkedHashMap<>();
                for (TrafficType type : TrafficType.values()) {
                    DatagramChannel s = stack.open();
                    all.add(s);
                    s.connect(new InetSocketAddress(receiverAddress, port));
                    senders.put(type, s);
                    flows.put(type, qos.addFlow(s, null, type, FlowMode.NON_ADAPTIVE));
                }
                for (DatagramChannel s : senders.values()) {
                    send(s, 3);
                }
                List<CapturedPacket> marked = capture.await(p -> true, 3 * senders.size(), WAIT);
                for (var e : senders.entrySet()) {
                    int srcPort = ((InetSocketAddress) e.getValue().getLocalAddress()).getPort();
                    int expected = MarkingPolicy.QWAVE_DEFAULT.marks(e.getKey()).dscp() << 2;
                    assertThat(marked).filteredOn(p -> p.sourcePort() == srcPort)
                            .as("%s on %s", e.getKey(), stack).hasSize(3)
                            .allSatisfy(p -> {
                                assertThat(p.trafficClass()).as(p.text()).isEqualTo(expected);
                                assertThat(p.ipVersion()).isEqualTo(receiverAddress.getAddress().length == 4 ? 4 : 6);
                            });
                }
                // Remove half of the flows one way, close the handle for the rest.
                flows.get(TrafficType.VOICE).close();
                flows.get(TrafficType.BACKGROUND).removeSocket(senders.get(TrafficType.BACKGROUND));
                qos.close();
                int before = capture.packets().size();
                for (DatagramChannel s : senders.values()) {
                    send(s, 2);
                }
                List<CapturedPacket> after = capture.await(p -> true, before + 2 * senders.size(), WAIT);
                assertThat(after.subList(before, after.size())).hasSize(2 * senders.size())
                        .allSatisfy(p -> assertThat(p.trafficClass()).as(p.text()).isZero());
            } finally {
                for (DatagramChannel s : all) {
                    s.close();
                }
            }
        }
    }

    @Test
    void tcpSegmentsCarryTheFlowsMarks() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0))) {
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            try (PacketCapture capture = PacketCapture.builder().interfaceName("lo")
                    .filter("tcp and dst port " + port + " and greater 60").start();
                 QosSubsystem qos = QosSubsystem.open();
                 SocketChannel client = SocketChannel.open()) {
                QosFlow flow = qos.addFlow(client, new InetSocketAddress(lo, port), TrafficType.AUDIO_VIDEO,
                        FlowMode.NON_ADAPTIVE);
                client.connect(new InetSocketAddress(lo, port));
                try (SocketChannel server = listener.accept()) {
                    client.write(ByteBuffer.wrap(new byte[200]));
                    List<CapturedPacket> data = capture.await(p -> p.payloadLengthBytes() > 0 || p.ipLengthBytes() > 100,
                            1, WAIT);
                    assertThat(data).isNotEmpty().allSatisfy(p -> assertThat(p.trafficClass()).as(p.text()).isEqualTo(0xA0));
                    flow.close();
                    int before = capture.packets().size();
                    client.write(ByteBuffer.wrap(new byte[200]));
                    List<CapturedPacket> after = capture.await(p -> true, before + 1, WAIT);
                    assertThat(after.getLast().trafficClass()).as(after.getLast().text()).isZero();
                    server.read(ByteBuffer.allocate(1024));
                }
            }
        }
    }

    private static void send(DatagramChannel s, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            s.write(ByteBuffer.wrap(new byte[64]));
        }
    }
}
