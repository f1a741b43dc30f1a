package io.quaver.qos2;

import io.quaver.internal.Engine;
import org.junit.jupiter.api.AfterEach;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// Shared plumbing of the qos2 tests: handles opened with or without privilege, loopback
/// sockets, and clean-up that also checks that the JVM-wide engine holds no flow afterwards.
abstract class Qos2TestBase {
    static final String PRIVILEGED = "quaver.privileged";
    static final InetSocketAddress V4_PEER = new InetSocketAddress("127.0.0.1", 40_004);
    static final InetSocketAddress V6_PEER = new InetSocketAddress("::1", 40_006);

    private final List<QosHandle> handles = new ArrayList<>();
    private final List<NetworkChannel> channels = new ArrayList<>();

    @AfterEach
    void closeEverything() throws IOException {
        for (QosHandle h : handles) {
            QOSCloseHandle(h); // a handle closed by the test already reports 6; harmless
        }
        for (NetworkChannel c : channels) {
            c.close();
        }
        assertThat(Engine.embedded().liveFlowCount()).as("flows left in the engine").isZero();
    }

    /// A handle opened with `-Dquaver.privileged` set to `privileged` for the duration of
    /// `QOSCreateHandle` (the property's previous value is restored afterwards).
    QosHandle handle(boolean privileged) {
        String before = System.getProperty(PRIVILEGED);
        System.setProperty(PRIVILEGED, Boolean.toString(privileged));
        try {
            QosHandle[] h = new QosHandle[1];
            assertThat(QOSCreateHandle(new QOS_VERSION(1, 0), h)).as("QOSCreateHandle").isTrue();
            assertThat(h[0]).isNotNull();
            handles.add(h[0]);
            return h[0];
        } finally {
            if (before == null) {
                System.clearProperty(PRIVILEGED);
            } else {
                System.setProperty(PRIVILEGED, before);
            }
        }
    }

    /// An unprivileged handle.
    QosHandle handle() {
        return handle(false);
    }

    <C extends NetworkChannel> C track(C channel) {
        channels.add(channel);
        return channel;
    }

    /// A dual-stack UDP socket (the JDK default), unbound and unconnected.
    DatagramChannel udp() throws IOException {
        return track(DatagramChannel.open());
    }

    /// A UDP socket of one family bound to `bindAddress` port 0.
    DatagramChannel udp(ProtocolFamily family, String bindAddress) throws IOException {
        return track(DatagramChannel.open(family).bind(new InetSocketAddress(bindAddress, 0)));
    }

    /// A UDP socket connected to `peer`.
    DatagramChannel connectedUdp(InetSocketAddress peer) throws IOException {
        return track(DatagramChannel.open().connect(peer));
    }

    /// A connected TCP socket on loopback (`host` 127.0.0.1 or ::1).
    SocketChannel tcp(String host) throws IOException {
        ServerSocketChannel server = track(ServerSocketChannel.open().bind(new InetSocketAddress(host, 0)));
        SocketChannel client = track(SocketChannel.open(server.getLocalAddress()));
        track(server.accept());
        return client;
    }

    static ProtocolFamily inet() {
        return StandardProtocolFamily.INET;
    }

    static ProtocolFamily inet6() {
        return StandardProtocolFamily.INET6;
    }

    /// The DSCP on the socket (IP TOS / IPv6 traffic class >> 2).
    static int dscpOf(NetworkChannel channel) throws IOException {
        return channel.getOption(StandardSocketOptions.IP_TOS) >> 2;
    }

    /// Creates a flow and returns its id, asserting success.
    static int addFlow(QosHandle h, NetworkChannel socket, InetSocketAddress dest, int type, int flags) {
        int[] id = {0};
        boolean ok = QOSAddSocketToFlow(h, socket, dest, type, flags, id);
        assertThat(ok).as("QOSAddSocketToFlow, last error %d", GetLastError()).isTrue();
        assertThat(id[0]).isNotZero();
        return id[0];
    }

    /// A heap buffer of `size` bytes in big-endian order (so that any little-endian result
    /// proves the layer ignores the buffer's order).
    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.BIG_ENDIAN);
    }

    /// A buffer holding one little-endian `DWORD`.
    static ByteBuffer dword(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
    }

    /// A buffer holding one little-endian `UINT64`.
    static ByteBuffer uint64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
    }

    static long readUint64(ByteBuffer b) {
        return b.duplicate().order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    /// Runs a call expected to fail and returns the last error it set.
    static int errorOf(boolean result) {
        assertThat(result).as("call result (last error %d)", GetLastError()).isFalse();
        return GetLastError();
    }

    /// Queries the flow's applied marks and returns them.
    static QOS_PACKET_PRIORITY priority(QosHandle h, int flowId) {
        int[] size = {QOS_PACKET_PRIORITY.SIZE};
        ByteBuffer b = buffer(QOS_PACKET_PRIORITY.SIZE);
        assertThat(QOSQueryFlow(h, flowId, QOSQueryPacketPriority, size, b, 0, null))
                .as("QOSQueryPacketPriority, last error %d", GetLastError()).isTrue();
        assertThat(size[0]).isEqualTo(QOS_PACKET_PRIORITY.SIZE);
        return QOS_PACKET_PRIORITY.read(b);
    }

    /// Whether the flow exists for `h` (a packet-priority query that does not fail with 1168).
    static boolean exists(QosHandle h, int flowId) {
        int[] size = {QOS_PACKET_PRIORITY.SIZE};
        if (QOSQueryFlow(h, flowId, QOSQueryPacketPriority, size, buffer(QOS_PACKET_PRIORITY.SIZE), 0, null)) {
            return true;
        }
        assertThat(GetLastError()).isEqualTo(ERROR_NOT_FOUND);
        return false;
    }
}
