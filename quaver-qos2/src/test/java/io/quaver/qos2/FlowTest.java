package io.quaver.qos2;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.HashSet;
import java.util.Set;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// `QOSAddSocketToFlow` and `QOSRemoveSocketFromFlow` on real loopback sockets:
/// decisions.md items 6, 8, 9, 14, 15, 17 and 21.
class FlowTest extends Qos2TestBase {

    // ------------------------------------------------------------------ item 6

    @Test
    void item6_aNonAdaptiveFlowMarksAtOnce() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        assertThat(dscpOf(socket)).isZero();
        int id = addFlow(h, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(socket)).isEqualTo(40);
        assertThat(priority(h, id)).isEqualTo(new QOS_PACKET_PRIORITY(40, 0, 0, 0));
        assertThat(QOSRemoveSocketFromFlow(h, socket, id, 0)).isTrue();
        assertThat(dscpOf(socket)).as("marks restored on removal").isZero();
    }

    @Test
    void item6_anAdaptiveFlowDoesNotMarkBeforeARateIsAdmitted() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeVoice, 0);
        assertThat(dscpOf(socket)).isZero();
        assertThat(priority(h, id).ConformantDSCPValue()).isZero();
    }

    @Test
    void everyTrafficTypeGetsItsDocumentedMark() throws IOException {
        QosHandle h = handle();
        int[] expected = {0, 0x08, 0x28, 0x28, 0x38, 0x38};
        for (int type = QOSTrafficTypeBestEffort; type <= QOSTrafficTypeControl; type++) {
            DatagramChannel socket = connectedUdp(V4_PEER);
            int id = addFlow(h, socket, null, type, QOS_NON_ADAPTIVE_FLOW);
            assertThat(dscpOf(socket)).as("type %d", type).isEqualTo(expected[type]);
            assertThat(priority(h, id).ConformantDSCPValue()).as("type %d", type).isEqualTo(expected[type]);
        }
    }

    // ------------------------------------------------------------------ item 8 (add)

    @Test
    void item8_unknownFlagBitsAndTrafficTypesAreInvalid() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        for (int flags : new int[] {QOS_QUERYFLOW_FRESH, 4, 0x8000_0000, QOS_NON_ADAPTIVE_FLOW | 0x10}) {
            int[] id = {0};
            assertThat(errorOf(QOSAddSocketToFlow(h, socket, null, QOSTrafficTypeVoice, flags, id)))
                    .as("flags %#x", flags).isEqualTo(ERROR_INVALID_PARAMETER);
            assertThat(id[0]).isZero();
        }
        for (int type : new int[] {-1, 6, 0x7FFF_FFFF}) {
            assertThat(errorOf(QOSAddSocketToFlow(h, socket, null, type, QOS_NON_ADAPTIVE_FLOW, new int[1])))
                    .as("type %d", type).isEqualTo(ERROR_INVALID_PARAMETER);
        }
        assertThat(dscpOf(socket)).as("nothing applied").isZero();
    }

    @Test
    void item8_nullOrEmptyArgumentsAreInvalid() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        assertThat(errorOf(QOSAddSocketToFlow(h, socket, null, QOSTrafficTypeVoice, 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSAddSocketToFlow(h, socket, null, QOSTrafficTypeVoice, 0, new int[0])))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSAddSocketToFlow(h, null, V4_PEER, QOSTrafficTypeVoice, 0, new int[1])))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        // a listening socket is not a socket that sends
        ServerSocketChannel server = track(ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0)));
        assertThat(errorOf(QOSAddSocketToFlow(h, server, V4_PEER, QOSTrafficTypeVoice, 0, new int[1])))
                .isEqualTo(ERROR_INVALID_PARAMETER);
    }

    @Test
    void item8_destinationRules() throws IOException {
        QosHandle h = handle();
        // an unconnected socket without DestAddr
        assertThat(errorOf(QOSAddSocketToFlow(h, udp(), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW,
                new int[1]))).isEqualTo(ERROR_INVALID_PARAMETER);
        // a DestAddr that differs from the connected peer (address or port)
        DatagramChannel connected = connectedUdp(V4_PEER);
        assertThat(errorOf(QOSAddSocketToFlow(h, connected, new InetSocketAddress("127.0.0.2", V4_PEER.getPort()),
                QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW, new int[1]))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSAddSocketToFlow(h, connected, new InetSocketAddress("127.0.0.1", 1),
                QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW, new int[1]))).isEqualTo(ERROR_INVALID_PARAMETER);
        // ... while the peer itself is fine
        addFlow(h, connected, V4_PEER, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        // an IPv4-mapped IPv6 address (mixed addressing, qwave.md §2.8)
        Inet6Address mapped = Inet6Address.getByAddress(null,
                new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 127, 0, 0, 1}, -1);
        assertThat(errorOf(QOSAddSocketToFlow(h, udp(), new InetSocketAddress(mapped, 5000), QOSTrafficTypeVoice,
                QOS_NON_ADAPTIVE_FLOW, new int[1]))).isEqualTo(ERROR_INVALID_PARAMETER);
        // no port, or a wildcard address
        assertThat(errorOf(QOSAddSocketToFlow(h, udp(), new InetSocketAddress("127.0.0.1", 0), QOSTrafficTypeVoice,
                QOS_NON_ADAPTIVE_FLOW, new int[1]))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSAddSocketToFlow(h, udp(), new InetSocketAddress("0.0.0.0", 5000), QOSTrafficTypeVoice,
                QOS_NON_ADAPTIVE_FLOW, new int[1]))).isEqualTo(ERROR_INVALID_PARAMETER);
        // an unresolved name cannot be a destination (ERROR_BAD_NET_NAME)
        assertThat(errorOf(QOSAddSocketToFlow(h, udp(), InetSocketAddress.createUnresolved("sink.invalid", 5000),
                QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW, new int[1]))).isEqualTo(ERROR_BAD_NET_NAME);
    }

    @Test
    void item8_joiningNeedsTheNonAdaptiveFlagAndANonAdaptiveFlow() throws IOException {
        QosHandle h = handle();
        int nonAdaptive = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        int adaptive = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        DatagramChannel extra = connectedUdp(V4_PEER);

        int[] id = {nonAdaptive};
        assertThat(errorOf(QOSAddSocketToFlow(h, extra, null, QOSTrafficTypeVoice, 0, id)))
                .as("join without QOS_NON_ADAPTIVE_FLOW").isEqualTo(ERROR_INVALID_PARAMETER);
        id[0] = adaptive;
        assertThat(errorOf(QOSAddSocketToFlow(h, extra, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW, id)))
                .as("join an adaptive flow").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(dscpOf(extra)).isZero();
    }

    @Test
    void joiningAnExistingFlowIgnoresTheTrafficTypeAndKeepsTheId() throws IOException {
        QosHandle h = handle();
        DatagramChannel first = connectedUdp(V4_PEER);
        DatagramChannel second = connectedUdp(V6_PEER);
        int id = addFlow(h, first, null, QOSTrafficTypeBackground, QOS_NON_ADAPTIVE_FLOW);
        int[] join = {id};
        assertThat(QOSAddSocketToFlow(h, second, null, 99, QOS_NON_ADAPTIVE_FLOW, join)).isTrue();
        assertThat(join[0]).isEqualTo(id);
        assertThat(dscpOf(second)).as("the flow's type (Background), not 99").isEqualTo(0x08);
    }

    // ------------------------------------------------------------------ item 9

    @Test
    void item9_unknownFlowIdsAndForeignSocketsAreNotFound() throws IOException {
        QosHandle h = handle();
        DatagramChannel member = connectedUdp(V4_PEER);
        DatagramChannel stranger = connectedUdp(V4_PEER);
        int id = addFlow(h, member, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        int unknown = id + 1000;

        int[] join = {unknown};
        assertThat(errorOf(QOSAddSocketToFlow(h, stranger, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW, join)))
                .isEqualTo(ERROR_NOT_FOUND);
        assertThat(join[0]).isEqualTo(unknown);
        for (int bad : new int[] {0, unknown, -1}) {
            assertThat(errorOf(QOSRemoveSocketFromFlow(h, null, bad, 0))).as("id %d", bad).isEqualTo(ERROR_NOT_FOUND);
            assertThat(errorOf(QOSRemoveSocketFromFlow(h, member, bad, 0))).as("id %d", bad).isEqualTo(ERROR_NOT_FOUND);
        }
        assertThat(errorOf(QOSRemoveSocketFromFlow(h, stranger, id, 0))).as("socket not in the flow")
                .isEqualTo(ERROR_NOT_FOUND);
        assertThat(exists(h, id)).isTrue();
    }

    @Test
    void removeRejectsReservedFlags() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(errorOf(QOSRemoveSocketFromFlow(h, socket, id, 1))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSRemoveSocketFromFlow(h, null, id, QOS_NON_ADAPTIVE_FLOW)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(exists(h, id)).isTrue();
    }

    // ------------------------------------------------------------------ item 14

    @Test
    void item14_flowIdsAreNonZeroUniqueAndBoundToTheirHandle() throws IOException {
        QosHandle a = handle();
        QosHandle b = handle();
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            ids.add(addFlow(i % 2 == 0 ? a : b, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice,
                    QOS_NON_ADAPTIVE_FLOW));
        }
        assertThat(ids).hasSize(8).doesNotContain(0);

        DatagramChannel socket = connectedUdp(V4_PEER);
        int ofA = addFlow(a, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        // b cannot see, change, join or remove a's flow
        assertThat(exists(b, ofA)).isFalse();
        assertThat(errorOf(QOSSetFlow(b, ofA, QOSSetTrafficType, 4, dword(QOSTrafficTypeVoice), 0, null)))
                .isEqualTo(ERROR_NOT_FOUND);
        assertThat(errorOf(QOSNotifyFlow(b, ofA, QOSNotifyCongested, null, null, 0, null))).isEqualTo(ERROR_NOT_FOUND);
        assertThat(errorOf(QOSRemoveSocketFromFlow(b, null, ofA, 0))).isEqualTo(ERROR_NOT_FOUND);
        assertThat(errorOf(QOSAddSocketToFlow(b, connectedUdp(V4_PEER), null, 0, QOS_NON_ADAPTIVE_FLOW,
                new int[] {ofA}))).isEqualTo(ERROR_NOT_FOUND);
        assertThat(dscpOf(socket)).isEqualTo(40);
        assertThat(exists(a, ofA)).isTrue();
    }

    // ------------------------------------------------------------------ item 15

    @Test
    void item15_removingTheLastSocketDestroysTheFlow() throws IOException {
        QosHandle h = handle();
        DatagramChannel one = connectedUdp(V4_PEER);
        DatagramChannel two = connectedUdp(V4_PEER);
        int id = addFlow(h, one, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(QOSAddSocketToFlow(h, two, null, 0, QOS_NON_ADAPTIVE_FLOW, new int[] {id})).isTrue();

        assertThat(QOSRemoveSocketFromFlow(h, one, id, 0)).isTrue();
        assertThat(dscpOf(one)).isZero();
        assertThat(dscpOf(two)).isEqualTo(0x38);
        assertThat(exists(h, id)).isTrue();

        assertThat(QOSRemoveSocketFromFlow(h, two, id, 0)).isTrue();
        assertThat(dscpOf(two)).isZero();
        assertThat(exists(h, id)).isFalse();
    }

    @Test
    void item15_aNullSocketRemovesTheWholeFlow() throws IOException {
        QosHandle h = handle();
        DatagramChannel one = connectedUdp(V4_PEER);
        DatagramChannel two = connectedUdp(V4_PEER);
        int id = addFlow(h, one, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(QOSAddSocketToFlow(h, two, null, 0, QOS_NON_ADAPTIVE_FLOW, new int[] {id})).isTrue();
        assertThat(QOSRemoveSocketFromFlow(h, null, id, 0)).isTrue();
        assertThat(exists(h, id)).isFalse();
        assertThat(dscpOf(one)).isZero();
        assertThat(dscpOf(two)).isZero();
        assertThat(errorOf(QOSRemoveSocketFromFlow(h, null, id, 0))).isEqualTo(ERROR_NOT_FOUND);
    }

    @Test
    void item15_aClosedSocketStaysInItsFlowUntilRemoved() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        socket.close();
        assertThat(exists(h, id)).isTrue();
        assertThat(priority(h, id).ConformantDSCPValue()).isEqualTo(0x38);
        assertThat(QOSRemoveSocketFromFlow(h, socket, id, 0)).isTrue();
        assertThat(exists(h, id)).isFalse();
        // and a closed socket cannot start a flow
        assertThat(errorOf(QOSAddSocketToFlow(h, socket, V4_PEER, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW,
                new int[1]))).isEqualTo(ERROR_INVALID_PARAMETER);
    }

    // ------------------------------------------------------------------ item 17

    @Test
    void item17_ipv4DestinationOnADualStackSocketIsAcceptedAndMarked() throws IOException {
        QosHandle h = handle();
        DatagramChannel unbound = udp(); // dual-stack by default
        addFlow(h, unbound, V4_PEER, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(unbound)).isEqualTo(40);

        DatagramChannel wildcard = udp(inet6(), "::"); // bound to the IPv6 wildcard: still dual-stack
        addFlow(h, wildcard, V4_PEER, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        addFlow(h, wildcard, V6_PEER, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(wildcard)).isEqualTo(0x38);

        DatagramChannel connected = connectedUdp(V4_PEER); // dual-stack socket connected to IPv4
        addFlow(h, connected, null, QOSTrafficTypeControl, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(connected)).isEqualTo(0x38);
    }

    @Test
    void item17_ipv6LoopbackFlowsOnUdpAndTcp() throws IOException {
        QosHandle h = handle();
        DatagramChannel udp = connectedUdp(V6_PEER);
        addFlow(h, udp, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(udp)).isEqualTo(40);

        SocketChannel tcp6 = tcp("::1");
        addFlow(h, tcp6, null, QOSTrafficTypeBackground, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(tcp6)).isEqualTo(0x08);

        SocketChannel tcp4 = tcp("127.0.0.1");
        addFlow(h, tcp4, (InetSocketAddress) tcp4.getRemoteAddress(), QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(tcp4)).isEqualTo(0x38);
    }

    @Test
    void item17_aFamilyTheSocketCannotReachIsInvalid() throws IOException {
        QosHandle h = handle();
        DatagramChannel v4only = udp(inet(), "127.0.0.1");
        assertThat(errorOf(QOSAddSocketToFlow(h, v4only, V6_PEER, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW,
                new int[1]))).as("IPv6 destination on an IPv4-only socket").isEqualTo(ERROR_INVALID_PARAMETER);
        DatagramChannel v6only = udp(inet6(), "::1");
        assertThat(errorOf(QOSAddSocketToFlow(h, v6only, V4_PEER, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW,
                new int[1]))).as("IPv4 destination on an IPv6-only socket").isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(dscpOf(v4only)).isZero();
        assertThat(dscpOf(v6only)).isZero();
        // each accepts its own family
        addFlow(h, v4only, V4_PEER, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        addFlow(h, v6only, V6_PEER, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(v4only)).isEqualTo(0x38);
        assertThat(dscpOf(v6only)).isEqualTo(0x38);
    }

    @Test
    void aTcpSocketMayJoinAFlowBeforeItConnects() throws IOException {
        QosHandle h = handle();
        ServerSocketChannel server = track(ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0)));
        InetSocketAddress peer = (InetSocketAddress) server.getLocalAddress();
        SocketChannel client = track(SocketChannel.open());
        int id = addFlow(h, client, peer, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(client)).isEqualTo(40);
        assertThat(client.connect(peer)).isTrue();
        track(server.accept());
        assertThat(dscpOf(client)).isEqualTo(40);
        assertThat(QOSRemoveSocketFromFlow(h, client, id, 0)).isTrue();
    }

    // ------------------------------------------------------------------ item 21

    @Test
    void item21_aSocketInSeveralFlowsCarriesTheMarksOfTheMostRecent() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = udp();
        InetSocketAddress peerA = new InetSocketAddress("127.0.0.1", 40_101);
        InetSocketAddress peerB = new InetSocketAddress("127.0.0.1", 40_102);
        InetSocketAddress peerC = new InetSocketAddress("::1", 40_103);
        int video = addFlow(h, socket, peerA, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(socket)).isEqualTo(40);
        int voice = addFlow(h, socket, peerB, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(voice).isNotEqualTo(video);
        assertThat(dscpOf(socket)).isEqualTo(0x38);
        // the same unconnected socket joins the video flow for another destination
        assertThat(QOSAddSocketToFlow(h, socket, peerC, 0, QOS_NON_ADAPTIVE_FLOW, new int[] {video})).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(40);
        // leaving the video flow (both destinations) brings the voice marks back
        assertThat(QOSRemoveSocketFromFlow(h, socket, video, 0)).isTrue();
        assertThat(exists(h, video)).isFalse();
        assertThat(dscpOf(socket)).isEqualTo(0x38);
        assertThat(QOSRemoveSocketFromFlow(h, null, voice, 0)).isTrue();
        assertThat(dscpOf(socket)).isZero();
    }
}
