package io.quaver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quaver.internal.Engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// Client tracking and flow fundamentals through the Java API (decisions.md items 10, 11, 16,
/// 23, 24), against real sinks on loopback.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrackingTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
        assertThat(eventually(() -> Engine.embedded().tracking().entryCount() == 0))
                .as("path state left in the registry").isTrue();
        assertThat(eventually(() -> proberThreads() == 0)).as("prober threads left").isTrue();
    }

    static long proberThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("quaver-prober-") && t.isAlive()).count();
    }

    static boolean eventually(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    private <T extends AutoCloseable> T later(T c) {
        closeables.add(c);
        return c;
    }

    private QosSink sink() {
        return later(QosSink.start(SinkOptions.defaults().withPort(0)));
    }

    private QosSubsystem handle(int sinkPort, Duration grace) {
        return later(QosSubsystem.open(QosOptions.defaults().withPrivileged(false).withSinkPort(sinkPort)
                .withTrackingGracePeriod(grace)));
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
            return s.getLocalPort();
        }
    }

    private static void assertError(ThrowingCallable call, QosError error) {
        assertThatThrownBy(call).isInstanceOfSatisfying(QosException.class, e -> assertThat(e.error()).isEqualTo(error));
    }

    private static InetSocketAddress client(int port) {
        return new InetSocketAddress(LOOPBACK, port);
    }

    private DatagramChannel connectedUdp(InetSocketAddress to) throws IOException {
        DatagramChannel ch = later(DatagramChannel.open());
        ch.connect(to);
        return ch;
    }

    @Test
    void startIsIdempotentPerHandleStopEndsItAndAStopOfAnUntrackedClientIsNotFound() {
        QosSink sink = sink();
        QosSubsystem qos = handle(sink.port(), Duration.ZERO);
        qos.startTrackingClient(client(5004));
        qos.startTrackingClient(client(6000)); // the port is ignored: the same client
        assertThat(Engine.embedded().tracking().trackedCount()).isEqualTo(1);
        qos.stopTrackingClient(client(0));
        assertError(() -> qos.stopTrackingClient(client(0)), QosError.NOT_FOUND);
        assertThat(Engine.embedded().tracking().trackedCount()).isZero();
    }

    @Test
    void anIpv4MappedAddressIsTheIpv4Client() throws Exception {
        QosSink sink = sink();
        QosSubsystem qos = handle(sink.port(), Duration.ZERO);
        qos.startTrackingClient(client(1234));
        InetAddress mapped = Inet6Address.getByAddress(null,
                new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 127, 0, 0, 1}, -1);
        qos.stopTrackingClient(new InetSocketAddress(mapped, 9));
        assertError(() -> qos.stopTrackingClient(client(1234)), QosError.NOT_FOUND);
    }

    @Test
    void noSinkAnsweringIsHostUnreachableAndLeavesNothingTracked() throws IOException {
        QosSubsystem qos = handle(closedPort(), Duration.ZERO);
        long t0 = System.nanoTime();
        assertError(() -> qos.startTrackingClient(client(0)), QosError.HOST_UNREACHABLE);
        assertThat(System.nanoTime() - t0).as("fails within the handshake attempts").isLessThan(2_500_000_000L);
        assertThat(Engine.embedded().tracking().trackedCount()).isZero();
        assertError(() -> qos.stopTrackingClient(client(0)), QosError.NOT_FOUND);
    }

    @Test
    void anyHandleMayStopAndStoppingNeverTouchesFlows() throws Exception {
        QosSink sink = sink();
        QosSubsystem a = handle(sink.port(), Duration.ZERO);
        QosSubsystem b = handle(sink.port(), Duration.ZERO);
        QosFlow flow = a.addFlow(connectedUdp(client(40_010)), null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        a.startTrackingClient(client(0));
        b.stopTrackingClient(client(0));
        assertThat(flow.isLive()).isTrue();
        assertThat(eventually(() -> hasAll(flow))).as("the flow's estimates go on").isTrue();
        flow.close();
    }

    private static boolean hasAll(QosFlow flow) {
        try {
            FlowFundamentals f = flow.fundamentals(false);
            return f.bottleneckBps().isPresent() && f.availableBps().isPresent() && f.rttUs().isPresent();
        } catch (QosException e) {
            return false;
        }
    }

    @Test
    void estimatesAreSharedBetweenTrackingAndFlowsAndTheRouteCheckAllowsPriorityTagging() throws Exception {
        QosSink sink = sink();
        QosSubsystem qos = handle(sink.port(), Duration.ZERO);
        qos.startTrackingClient(client(0));
        var prober = Engine.embedded().tracking().prober(LOOPBACK, sink.port()).orElseThrow();
        assertThat(eventually(() -> prober.estimates().bottleneckBps().isPresent()
                && prober.prioritySupported() != null)).isTrue();
        // a flow to the tracked client finds the estimates already there: no NO_DATA phase
        QosFlow flow = qos.addFlow(connectedUdp(client(40_060)), null, TrafficType.VOICE, FlowMode.ADAPTIVE);
        assertThat(flow.fundamentals(false).bottleneckBps()).isPresent();
        assertThat(Engine.embedded().tracking().prober(LOOPBACK, sink.port())).containsSame(prober);
        QosFlow other = qos.addFlow(connectedUdp(client(40_061)), null, TrafficType.VOICE, FlowMode.ADAPTIVE);
        assertThat(other.fundamentals(false).bottleneckBps()).isEqualTo(flow.fundamentals(false).bottleneckBps());
        // loopback passes the route check, so adaptive flows to the client may carry 802.1p
        assertThat(prober.prioritySupported()).isTrue();
        assertThat(eventually(() -> Engine.embedded().pathVerifiedForL2(flow.id()))).isTrue();
        qos.stopTrackingClient(client(0));
    }

    @Test
    void trackingOutlivesAClosedHandleForTheGracePeriodOnly() throws Exception {
        QosSink sink = sink();
        QosSubsystem other = handle(sink.port(), Duration.ZERO);

        QosSubsystem a = handle(sink.port(), Duration.ofSeconds(30));
        a.startTrackingClient(client(0));
        a.close();
        assertThat(Engine.embedded().tracking().trackedCount()).isEqualTo(1);
        other.stopTrackingClient(client(0)); // still tracked within the grace period

        QosSubsystem b = handle(sink.port(), Duration.ofMillis(200));
        b.startTrackingClient(client(0));
        b.close();
        assertThat(eventually(() -> Engine.embedded().tracking().trackedCount() == 0)).isTrue();
        assertError(() -> other.stopTrackingClient(client(0)), QosError.NOT_FOUND);
    }

    @Test
    void aProbeSocketThatCannotBeOpenedIsAnIoDeviceError() throws Exception {
        QosSink sink = sink();
        QosSubsystem qos = handle(sink.port(), Duration.ZERO);
        Engine.embedded().tracking().setSocketFactory(new io.quaver.internal.probe.ProbeSockets() {
            @Override
            public SocketChannel openControl(java.net.ProtocolFamily family) throws IOException {
                throw new IOException("no sockets today");
            }

            @Override
            public DatagramChannel openDatagram(java.net.ProtocolFamily family) throws IOException {
                throw new IOException("no sockets today");
            }
        });
        try {
            assertError(() -> qos.startTrackingClient(client(0)), QosError.IO_DEVICE);
            QosFlow flow = qos.addFlow(connectedUdp(client(40_050)), null, TrafficType.VOICE, FlowMode.ADAPTIVE);
            assertError(() -> flow.fundamentals(false), QosError.IO_DEVICE);
            flow.close();
        } finally {
            Engine.embedded().tracking().setSocketFactory(null);
        }
    }

    @Test
    void theTrackedClientLimitIsNoSystemResources() {
        QosSink sink = sink();
        QosSubsystem qos = later(QosSubsystem.open(QosOptions.defaults().withPrivileged(false)
                .withSinkPort(sink.port()).withTrackingGracePeriod(Duration.ZERO)
                .withLimits(new QosLimits(100, 10, 1, 10, 10))));
        qos.startTrackingClient(client(0));
        assertError(() -> qos.startTrackingClient(new InetSocketAddress("127.0.0.2", 0)), QosError.NO_SYSTEM_RESOURCES);
        qos.startTrackingClient(client(0)); // the one tracked may still be started again
    }

    @Test
    void anOffLinkClientIsNotSupportedAndItsFlowsExperimentsAreForbiddenByPolicy() throws Exception {
        // 198.18.0.0/15 is not attached here (the test beds use it inside their own namespaces);
        // nothing is sent: only a UDP connect asks the kernel for a route.
        InetSocketAddress offLink = new InetSocketAddress("198.18.200.1", 5004);
        QosSubsystem qos = handle(2177, Duration.ZERO);
        assertError(() -> qos.startTrackingClient(offLink), QosError.NOT_SUPPORTED);
        QosFlow flow = qos.addFlow(connectedUdp(offLink), null, TrafficType.VOICE, FlowMode.ADAPTIVE);
        assertError(() -> flow.fundamentals(false), QosError.ACCESS_DISABLED_BY_POLICY);
        assertThat(Engine.embedded().tracking().entryCount()).isZero();
    }

    @Test
    void fundamentalsAreNoDataFirstThenAppearFreshOnDemandAndNotSupportedOnNonAdaptiveFlows() throws Exception {
        try (SilentSink silent = later(new SilentSink())) {
            QosSubsystem qos = handle(silent.port(), Duration.ZERO);
            QosFlow flow = qos.addFlow(connectedUdp(client(40_020)), null, TrafficType.VOICE, FlowMode.ADAPTIVE);
            // The sink answers the handshake but never measures: nothing, ever.
            assertError(() -> flow.fundamentals(false), QosError.NO_DATA);
            long t0 = System.nanoTime();
            assertError(() -> flow.fundamentals(true), QosError.RETRY);
            assertThat(System.nanoTime() - t0).isGreaterThan(2_000_000_000L);
        }
        QosSink sink = sink();
        QosSubsystem qos = handle(sink.port(), Duration.ZERO);
        QosFlow flow = qos.addFlow(connectedUdp(client(40_030)), null, TrafficType.VOICE, FlowMode.ADAPTIVE);
        assertThat(eventually(() -> hasAll(flow))).isTrue();
        FlowFundamentals f = flow.fundamentals(false);
        assertThat(f.source()).isEqualTo(FlowFundamentals.Source.PROBING);
        assertThat(f.bottleneckBps().getAsLong()).isPositive();
        assertThat(f.availableBps().getAsLong()).isBetween(0L, f.bottleneckBps().getAsLong());
        FlowFundamentals fresh = flow.fundamentals(true);
        assertThat(fresh.bottleneckBps()).isPresent();
        assertThat(fresh.rttUs()).isPresent();

        QosFlow plain = qos.addFlow(connectedUdp(client(40_031)), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertError(() -> plain.fundamentals(false), QosError.NOT_SUPPORTED);
        assertError(() -> plain.fundamentals(true), QosError.NOT_SUPPORTED);
    }

    @Test
    void anAdaptiveUdpFlowToAHostWithoutASinkIsUnreachableButATcpFlowFallsBackToTcpInfo() throws Exception {
        QosSubsystem qos = handle(closedPort(), Duration.ZERO);
        QosFlow udpFlow = qos.addFlow(connectedUdp(client(40_040)), null, TrafficType.VOICE, FlowMode.ADAPTIVE);
        assertThat(eventually(() -> errorOf(() -> udpFlow.fundamentals(false)) == QosError.HOST_UNREACHABLE)).isTrue();

        ServerSocketChannel server = later(ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0)));
        SocketChannel tcp = later(SocketChannel.open(server.getLocalAddress()));
        SocketChannel peer = later(server.accept());
        ByteBuffer data = ByteBuffer.allocate(256 * 1024);
        tcp.write(data);
        ByteBuffer sinkBuf = ByteBuffer.allocate(64 * 1024);
        for (long read = 0; read < data.capacity(); ) {
            sinkBuf.clear();
            read += peer.read(sinkBuf);
        }
        QosFlow tcpFlow = qos.addFlow(tcp, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        assertThat(eventually(() -> {
            try {
                return tcpFlow.fundamentals(false).source() == FlowFundamentals.Source.TCP_INFO;
            } catch (QosException e) {
                return false;
            }
        })).isTrue();
        FlowFundamentals f = tcpFlow.fundamentals(false);
        assertThat(f.rttUs()).isPresent();
    }

    static QosError errorOf(ThrowingCallable call) {
        try {
            call.call();
            return null;
        } catch (QosException e) {
            return e.error();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /// A "sink" that completes every handshake and then says nothing: no summaries, no
    /// probegap reflections (its UDP port is not even open).
    static final class SilentSink implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 16, LOOPBACK);
        private final List<Socket> sockets = new ArrayList<>();
        private final Thread acceptor = Thread.ofVirtual().name("silent-sink").start(this::run);

        SilentSink() throws IOException {
        }

        int port() {
            return server.getLocalPort();
        }

        private void run() {
            try {
                while (true) {
                    Socket s = server.accept();
                    synchronized (sockets) {
                        sockets.add(s);
                    }
                    InputStream in = s.getInputStream();
                    in.readNBytes(4);
                    OutputStream out = s.getOutputStream();
                    out.write(new byte[] {0x1E, 0, 0, 1});
                    out.flush();
                }
            } catch (IOException e) {
                // closed
            }
        }

        @Override
        public void close() throws Exception {
            server.close();
            synchronized (sockets) {
                for (Socket s : sockets) {
                    s.close();
                }
            }
            acceptor.join();
        }
    }
}
