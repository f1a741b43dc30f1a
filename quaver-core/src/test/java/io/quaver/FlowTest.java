package io.quaver;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// Flow semantics through the Java API (decisions.md §2 items 6, 8, 9, 14, 15, 17, 18, 19, 21, 24),
/// with the marks read back from the JDK sockets. Marks on the wire are checked by
/// [MarksOnTheWireTest].
class FlowTest {
    private static final InetAddress LOOPBACK4 = InetAddress.getLoopbackAddress();
    private final List<NetworkChannel> channels = new ArrayList<>();
    private QosSubsystem qos;

    @BeforeEach
    void open() {
        qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false));
    }

    @AfterEach
    void close() throws IOException {
        qos.close();
        for (NetworkChannel c : channels) {
            c.close();
        }
    }

    private <T extends NetworkChannel> T track(T channel) {
        channels.add(channel);
        return channel;
    }

    private DatagramChannel connectedUdp(InetAddress to) throws IOException {
        DatagramChannel c = track(DatagramChannel.open());
        c.connect(new InetSocketAddress(to, 9));
        return c;
    }

    private static int tos(NetworkChannel c) throws IOException {
        return c.getOption(StandardSocketOptions.IP_TOS);
    }

    private static void assertError(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, QosError error) {
        assertThatThrownBy(call).isInstanceOfSatisfying(QosException.class, e -> {
            assertThat(e.error()).as(e.getMessage()).isEqualTo(error);
            assertThat(e.getMessage()).isNotBlank();
        });
    }

    @ParameterizedTest
    @EnumSource(TrafficType.class)
    void nonAdaptiveFlowMarksAtOnceWithItsTypesDscpAndRestoresOnRemoval(TrafficType type) throws IOException {
        DatagramChannel socket = connectedUdp(LOOPBACK4);
        socket.setOption(StandardSocketOptions.IP_TOS, 0x01); // the application's own ECN bits
        QosFlow flow = qos.addFlow(socket, null, type, FlowMode.NON_ADAPTIVE);
        int dscp = MarkingPolicy.QWAVE_DEFAULT.marks(type).dscp();
        assertThat(tos(socket)).isEqualTo(type == TrafficType.BEST_EFFORT ? 0x01 : (dscp << 2) | 0x01);
        assertThat(flow.packetPriority()).isEqualTo(new PacketPriority(dscp, 0, 0, 0));
        assertThat(flow.id()).isNotZero();
        flow.close();
        assertThat(tos(socket)).isEqualTo(0x01);
        assertThat(flow.isLive()).isFalse();
        flow.close(); // idempotent
    }

    @Test
    void removingAFlowRestoresTheSocketsOwnPriorityThatLinuxRewroteWithTheTos() throws IOException {
        var platform = io.quaver.internal.platform.Platform.current();
        DatagramChannel socket = connectedUdp(LOOPBACK4);
        org.junit.jupiter.api.Assumptions.assumeTrue(platform.setPriority(socket, 3),
                () -> "SO_PRIORITY not settable on platform " + platform.name());
        QosFlow flow = qos.addFlow(socket, null, TrafficType.BACKGROUND, FlowMode.NON_ADAPTIVE);
        // Non-adaptive flows never tag 802.1p: the priority stays the socket's own.
        assertThat(platform.priority(socket)).hasValue(3);
        assertThat(flow.packetPriority().conformantL2()).isZero();
        flow.close();
        assertThat(tos(socket)).isZero();
        assertThat(platform.priority(socket)).hasValue(3);
    }

    @Test
    void documentedMarkTable() {
        MarkingPolicy p = MarkingPolicy.QWAVE_DEFAULT;
        assertThat(p.marks(TrafficType.BEST_EFFORT)).isEqualTo(new Marks(0, 0));
        assertThat(p.marks(TrafficType.BACKGROUND)).isEqualTo(new Marks(0x08, 2));
        assertThat(p.marks(TrafficType.EXCELLENT_EFFORT)).isEqualTo(new Marks(0x28, 5));
        assertThat(p.marks(TrafficType.AUDIO_VIDEO)).isEqualTo(new Marks(0x28, 5));
        assertThat(p.marks(TrafficType.VOICE)).isEqualTo(new Marks(0x38, 7));
        assertThat(p.marks(TrafficType.CONTROL)).isEqualTo(new Marks(0x38, 7));
        assertThat(p.nonConformant()).isEqualTo(Marks.NONE);
    }

    @Test
    void administratorPolicyOverridesTheTable() throws IOException {
        MarkingPolicy custom = MarkingPolicy.QWAVE_DEFAULT.with(TrafficType.VOICE, new Marks(46, 6));
        try (QosSubsystem admin = QosSubsystem.open(QosOptions.defaults().withMarkingPolicy(custom))) {
            DatagramChannel socket = connectedUdp(LOOPBACK4);
            QosFlow flow = admin.addFlow(socket, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            assertThat(tos(socket)).isEqualTo(46 << 2);
            assertThat(flow.packetPriority().conformantDscp()).isEqualTo(46);
        }
    }

    @Test
    void adaptiveFlowIsNotMarkedBeforeARateIsAdmitted() throws IOException {
        DatagramChannel socket = connectedUdp(LOOPBACK4);
        QosFlow flow = qos.addFlow(socket, null, TrafficType.VOICE, FlowMode.ADAPTIVE);
        assertThat(tos(socket)).isZero();
        assertThat(flow.packetPriority()).isEqualTo(new PacketPriority(0, 0, 0, 0));
        assertThat(flow.info().mode()).isEqualTo(FlowMode.ADAPTIVE);
    }

    @Test
    void closingTheHandleRemovesItsFlowsAndRestoresMarks() throws IOException {
        DatagramChannel a = connectedUdp(LOOPBACK4);
        DatagramChannel b = connectedUdp(LOOPBACK4);
        qos.addFlow(a, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        qos.addFlow(b, null, TrafficType.BACKGROUND, FlowMode.NON_ADAPTIVE);
        assertThat(tos(a)).isEqualTo(0xE0);
        assertThat(tos(b)).isEqualTo(0x20);
        qos.close();
        assertThat(tos(a)).isZero();
        assertThat(tos(b)).isZero();
    }

    @Test
    void destinationRules() throws IOException {
        DatagramChannel unconnected = track(DatagramChannel.open());
        assertError(() -> qos.addFlow(unconnected, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        assertError(() -> qos.addFlow(unconnected, new InetSocketAddress(LOOPBACK4, 0), TrafficType.VOICE,
                FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        assertError(() -> qos.addFlow(unconnected, new InetSocketAddress("0.0.0.0", 5000), TrafficType.VOICE,
                FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        assertError(() -> qos.addFlow(unconnected, InetSocketAddress.createUnresolved("no-such-host.invalid", 5000),
                TrafficType.VOICE, FlowMode.NON_ADAPTIVE), QosError.BAD_NET_NAME);
        InetAddress mapped = Inet6Address.getByAddress(null,
                new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 127, 0, 0, 1}, -1);
        assertThat(mapped).isInstanceOf(Inet6Address.class);
        assertError(() -> qos.addFlow(unconnected, new InetSocketAddress(mapped, 5000), TrafficType.VOICE,
                FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        QosFlow ok = qos.addFlow(unconnected, new InetSocketAddress(LOOPBACK4, 5000), TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertThat(ok.info().members()).singleElement()
                .satisfies(m -> assertThat(m.destination()).isEqualTo(new InetSocketAddress(LOOPBACK4, 5000)));

        DatagramChannel connected = connectedUdp(LOOPBACK4);
        assertError(() -> qos.addFlow(connected, new InetSocketAddress(LOOPBACK4, 10), TrafficType.VOICE,
                FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        QosFlow same = qos.addFlow(connected, new InetSocketAddress(LOOPBACK4, 9), TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertThat(same.isLive()).isTrue();
    }

    @Test
    void socketRules() throws IOException {
        assertError(() -> qos.addFlow(null, new InetSocketAddress(LOOPBACK4, 9), TrafficType.VOICE,
                FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        ServerSocketChannel listener = track(ServerSocketChannel.open());
        assertError(() -> qos.addFlow(listener, new InetSocketAddress(LOOPBACK4, 9), TrafficType.VOICE,
                FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        DatagramChannel closed = DatagramChannel.open();
        closed.close();
        assertError(() -> qos.addFlow(closed, new InetSocketAddress(LOOPBACK4, 9), TrafficType.VOICE,
                FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        DatagramChannel socket = connectedUdp(LOOPBACK4);
        assertError(() -> qos.addFlow(socket, null, null, FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        assertError(() -> qos.addFlow(socket, null, TrafficType.VOICE, null), QosError.INVALID_PARAMETER);
    }

    @Test
    void tcpSocketMayJoinBeforeItsConnectionCompletesAndIsMarked() throws IOException {
        ServerSocketChannel listener = track(ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK4, 0)));
        InetSocketAddress peer = (InetSocketAddress) listener.getLocalAddress();
        SocketChannel tcp = track(SocketChannel.open());
        assertError(() -> qos.addFlow(tcp, null, TrafficType.CONTROL, FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        QosFlow flow = qos.addFlow(tcp, peer, TrafficType.CONTROL, FlowMode.NON_ADAPTIVE);
        assertThat(tos(tcp)).isEqualTo(0xE0);
        tcp.connect(peer);
        track(listener.accept());
        assertThat(tos(tcp)).isEqualTo(0xE0);
        assertThat(flow.info().members()).singleElement().satisfies(m -> assertThat(m.protocol()).isEqualTo("tcp"));
        flow.close();
        assertThat(tos(tcp)).isZero();
    }

    @Test
    void ipv6AndDualStackSocketsAreMarked() throws IOException {
        DatagramChannel v6 = connectedUdp(InetAddress.getByName("::1"));
        DatagramChannel dual = track(DatagramChannel.open()); // dual-stack by default
        dual.connect(new InetSocketAddress(LOOPBACK4, 9));
        qos.addFlow(v6, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
        qos.addFlow(dual, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertThat(tos(v6)).isEqualTo(0xA0);
        assertThat(tos(dual)).isEqualTo(0xE0);
    }

    @Test
    void familyMismatchIsRejected() throws IOException {
        DatagramChannel v4only = track(DatagramChannel.open(StandardProtocolFamily.INET));
        assertError(() -> qos.addFlow(v4only, new InetSocketAddress(InetAddress.getByName("::1"), 9), TrafficType.VOICE,
                FlowMode.NON_ADAPTIVE), QosError.INVALID_PARAMETER);
        DatagramChannel dual = track(DatagramChannel.open(StandardProtocolFamily.INET6));
        QosFlow toV4 = qos.addFlow(dual, new InetSocketAddress(LOOPBACK4, 9), TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertThat(toV4.isLive()).isTrue();
    }

    @Test
    void nonAdaptiveFlowHoldsSeveralSocketsAndDiesWithItsLastOne() throws IOException {
        DatagramChannel a = connectedUdp(LOOPBACK4);
        DatagramChannel b = connectedUdp(LOOPBACK4);
        DatagramChannel stranger = connectedUdp(LOOPBACK4);
        QosFlow flow = qos.addFlow(a, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        flow.addSocket(b, null);
        flow.addSocket(b, null); // again: no-op
        assertThat(flow.info().members()).hasSize(2);
        assertThat(tos(b)).isEqualTo(0xE0);
        assertError(() -> flow.removeSocket(stranger), QosError.NOT_FOUND);
        flow.removeSocket(a);
        assertThat(tos(a)).isZero();
        assertThat(flow.isLive()).isTrue();
        flow.removeSocket(b);
        assertThat(tos(b)).isZero();
        assertThat(flow.isLive()).isFalse();
        assertError(() -> flow.removeSocket(b), QosError.NOT_FOUND);
        assertError(() -> qos.flow(flow.id()), QosError.NOT_FOUND);
    }

    @Test
    void adaptiveFlowTakesNoMoreSockets() throws IOException {
        DatagramChannel a = connectedUdp(LOOPBACK4);
        DatagramChannel b = connectedUdp(LOOPBACK4);
        QosFlow flow = qos.addFlow(a, null, TrafficType.VOICE, FlowMode.ADAPTIVE);
        assertError(() -> flow.addSocket(b, null), QosError.INVALID_PARAMETER);
    }

    @Test
    void unconnectedSocketServesSeveralDestinationsAndCarriesTheMostRecentFlowsMarks() throws IOException {
        DatagramChannel socket = track(DatagramChannel.open());
        InetSocketAddress d1 = new InetSocketAddress(LOOPBACK4, 5001);
        InetSocketAddress d2 = new InetSocketAddress(LOOPBACK4, 5002);
        QosFlow voice = qos.addFlow(socket, d1, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        QosFlow background = qos.addFlow(socket, d2, TrafficType.BACKGROUND, FlowMode.NON_ADAPTIVE);
        assertThat(tos(socket)).isEqualTo(0x20);
        background.close();
        assertThat(tos(socket)).isEqualTo(0xE0);
        voice.addSocket(socket, d2); // the same socket, a second destination of one flow
        assertThat(voice.info().members()).hasSize(2);
        voice.close();
        assertThat(tos(socket)).isZero();
    }

    @Test
    void trafficTypeAndExplicitDscp() throws IOException {
        DatagramChannel socket = connectedUdp(LOOPBACK4);
        QosFlow flow = qos.addFlow(socket, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
        assertThat(tos(socket)).isZero();
        flow.setTrafficType(TrafficType.AUDIO_VIDEO);
        assertThat(tos(socket)).isEqualTo(0xA0);
        assertError(() -> flow.setTrafficType(null), QosError.INVALID_PARAMETER);
        assertError(() -> flow.setOutgoingDscp(46), QosError.ACCESS_DENIED); // unprivileged handle
        try (QosSubsystem admin = QosSubsystem.open(QosOptions.defaults().withPrivileged(true))) {
            DatagramChannel s2 = connectedUdp(LOOPBACK4);
            QosFlow f2 = admin.addFlow(s2, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            assertError(() -> f2.setOutgoingDscp(64), QosError.INVALID_PARAMETER);
            assertError(() -> f2.setOutgoingDscp(-1), QosError.INVALID_PARAMETER);
            f2.setOutgoingDscp(46);
            assertThat(tos(s2)).isEqualTo(46 << 2);
            assertThat(f2.packetPriority().conformantDscp()).isEqualTo(46);
            assertThat(f2.info().explicitDscp()).isEqualTo(46);
            f2.setOutgoingDscp(0);
            assertThat(tos(s2)).isZero();
            f2.setTrafficType(TrafficType.VOICE); // undoes the explicit DSCP
            assertThat(tos(s2)).isEqualTo(0xE0);
            assertThat(f2.info().explicitDscp()).isEqualTo(-1);
            DatagramChannel s3 = connectedUdp(LOOPBACK4);
            QosFlow adaptive = admin.addFlow(s3, null, TrafficType.VOICE, FlowMode.ADAPTIVE);
            assertError(() -> adaptive.setOutgoingDscp(46), QosError.NOT_SUPPORTED);
        }
    }

    @Test
    void flowIdsBelongToTheirHandle() throws IOException {
        DatagramChannel socket = connectedUdp(LOOPBACK4);
        QosFlow flow = qos.addFlow(socket, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        try (QosSubsystem other = QosSubsystem.open()) {
            assertError(() -> other.flow(flow.id()), QosError.NOT_FOUND);
            assertError(() -> other.flow(0), QosError.NOT_FOUND);
        }
        assertThat(qos.flow(flow.id()).id()).isEqualTo(flow.id());
    }

    @Test
    void flowIdsAreUniqueAndNeverZero() throws IOException {
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            DatagramChannel socket = connectedUdp(LOOPBACK4);
            ids.add(qos.addFlow(socket, null, TrafficType.values()[i % 6], FlowMode.NON_ADAPTIVE).id());
        }
        assertThat(ids).hasSize(200).doesNotContain(0);
    }

    @Test
    void enumerationListsEveryFlowOfTheSubsystem() throws IOException {
        try (QosSubsystem admin = QosSubsystem.open(QosOptions.defaults().withPrivileged(true));
             QosSubsystem other = QosSubsystem.open()) {
            QosFlow mine = admin.addFlow(connectedUdp(LOOPBACK4), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            QosFlow theirs = other.addFlow(connectedUdp(LOOPBACK4), null, TrafficType.BACKGROUND, FlowMode.ADAPTIVE);
            List<FlowInfo> all = admin.enumerateFlows();
            assertThat(all).extracting(FlowInfo::flowId).contains(mine.id(), theirs.id());
            FlowInfo info = all.stream().filter(f -> f.flowId() == theirs.id()).findFirst().orElseThrow();
            assertThat(info.mode()).isEqualTo(FlowMode.ADAPTIVE);
            assertThat(info.trafficType()).isEqualTo(TrafficType.BACKGROUND);
            other.close();
            assertThat(admin.enumerateFlows()).extracting(FlowInfo::flowId).doesNotContain(theirs.id());
        }
    }

    @Test
    void socketClosedWhileInAFlowStaysUntilRemoved() throws IOException {
        DatagramChannel socket = connectedUdp(LOOPBACK4);
        QosFlow flow = qos.addFlow(socket, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        socket.close();
        assertThat(flow.isLive()).isTrue();
        assertThat(flow.info().members()).singleElement().satisfies(m -> assertThat(m.open()).isFalse());
        flow.setTrafficType(TrafficType.BACKGROUND); // nothing to mark, no failure
        flow.removeSocket(socket);
        assertThat(flow.isLive()).isFalse();
    }

    @Test
    void flowLimitGivesNoSystemResources() throws IOException {
        int live = io.quaver.internal.Engine.embedded().liveFlowCount();
        QosLimits limits = new QosLimits(live + 2, 2, 10, 10, 10);
        try (QosSubsystem limited = QosSubsystem.open(QosOptions.defaults().withLimits(limits))) {
            QosFlow f = limited.addFlow(connectedUdp(LOOPBACK4), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            limited.addFlow(connectedUdp(LOOPBACK4), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            assertError(() -> limited.addFlow(connectedUdp(LOOPBACK4), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE),
                    QosError.NO_SYSTEM_RESOURCES);
            f.addSocket(connectedUdp(LOOPBACK4), null);
            assertError(() -> f.addSocket(connectedUdp(LOOPBACK4), null), QosError.NO_SYSTEM_RESOURCES);
        }
    }

    @Test
    void featuresOfLaterWorkValidateThenReportNotSupported() throws IOException {
        QosFlow nonAdaptive = qos.addFlow(connectedUdp(LOOPBACK4), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertError(() -> nonAdaptive.fundamentals(false), QosError.NOT_SUPPORTED);
        assertError(nonAdaptive::notifyCongested, QosError.NOT_SUPPORTED);
        assertError(nonAdaptive::outgoingRate, QosError.NO_DATA);
        assertError(() -> nonAdaptive.setOutgoingRate(null), QosError.INVALID_PARAMETER);
        assertError(() -> qos.startTrackingClient(null), QosError.INVALID_PARAMETER);
        assertError(() -> qos.startTrackingClient(new InetSocketAddress("0.0.0.0", 0)), QosError.INVALID_PARAMETER);
        assertError(() -> qos.stopTrackingClient(new InetSocketAddress(LOOPBACK4, 0)), QosError.NOT_FOUND);
    }
}
