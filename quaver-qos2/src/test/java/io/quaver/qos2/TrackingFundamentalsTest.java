package io.quaver.qos2;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.internal.Engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// `QOSStartTrackingClient` / `QOSStopTrackingClient` / `QOSQueryFlow(QOSQueryFlowFundamentals)`
/// against real sinks on loopback: 1232, 1168, 232, 1237, 50 and estimates as they appear
/// (decisions.md items 10, 11, 16, 22).
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrackingFundamentalsTest extends Qos2TestBase {
    private static final InetSocketAddress CLIENT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40_100);
    private final List<AutoCloseable> extra = new ArrayList<>();

    @AfterEach
    void closeExtras() throws Exception {
        for (AutoCloseable c : extra.reversed()) {
            c.close();
        }
    }

    /// A handle whose sinks are reached on `sinkPort` (`-Dquaver.sinkPort`, read at creation;
    /// decisions.md item 22).
    QosHandle handleFor(int sinkPort) {
        String before = System.getProperty("quaver.sinkPort");
        System.setProperty("quaver.sinkPort", Integer.toString(sinkPort));
        try {
            return handle();
        } finally {
            if (before == null) {
                System.clearProperty("quaver.sinkPort");
            } else {
                System.setProperty("quaver.sinkPort", before);
            }
        }
    }

    private QosSink sink() {
        QosSink s = QosSink.start(SinkOptions.defaults().withPort(0));
        extra.add(s);
        return s;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
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

    private static int query(QosHandle h, int flowId, int flags, ByteBuffer out) {
        int[] size = {QOS_FLOW_FUNDAMENTALS.SIZE};
        return QOSQueryFlow(h, flowId, QOSQueryFlowFundamentals, size, out, flags, null) ? 0 : GetLastError();
    }

    @Test
    void startWithoutASinkIsHostUnreachableAndStopOfAnUntrackedClientIsNotFound() throws IOException {
        QosHandle h = handleFor(closedPort());
        assertThat(errorOf(QOSStartTrackingClient(h, CLIENT, 0))).isEqualTo(ERROR_HOST_UNREACHABLE);
        assertThat(errorOf(QOSStopTrackingClient(h, CLIENT, 0))).isEqualTo(ERROR_NOT_FOUND);
    }

    @Test
    void startStopRoundTripWithASinkAndSecondStopIsNotFound() {
        QosSink sink = sink();
        QosHandle h = handleFor(sink.port());
        SetLastError(12345);
        assertThat(QOSStartTrackingClient(h, CLIENT, 0)).isTrue();
        assertThat(QOSStartTrackingClient(h, new InetSocketAddress(CLIENT.getAddress(), 1), 0)).as("idempotent").isTrue();
        assertThat(GetLastError()).as("success leaves the last error").isEqualTo(12345);
        QosHandle other = handleFor(sink.port());
        assertThat(QOSStopTrackingClient(other, CLIENT, 0)).as("any handle may stop").isTrue();
        assertThat(errorOf(QOSStopTrackingClient(h, CLIENT, 0))).isEqualTo(ERROR_NOT_FOUND);
        assertThat(QOSCloseHandle(h)).isTrue();
        assertThat(QOSCloseHandle(other)).isTrue();
    }

    @Test
    void fundamentalsAppearWithTheirSetFlagsAndFreshWorks() throws Exception {
        QosSink sink = sink();
        QosHandle h = handleFor(sink.port());
        assertThat(QOSStartTrackingClient(h, CLIENT, 0)).isTrue();
        int id = addFlow(h, connectedUdp(CLIENT), null, QOSTrafficTypeAudioVideo, 0);
        ByteBuffer out = buffer(QOS_FLOW_FUNDAMENTALS.SIZE);
        assertThat(eventually(() -> query(h, id, 0, out) == 0
                && QOS_FLOW_FUNDAMENTALS.read(out).BottleneckBandwidthSet()
                && QOS_FLOW_FUNDAMENTALS.read(out).AvailableBandwidthSet()
                && QOS_FLOW_FUNDAMENTALS.read(out).RTTSet())).isTrue();
        QOS_FLOW_FUNDAMENTALS f = QOS_FLOW_FUNDAMENTALS.read(out);
        assertThat(f.BottleneckBandwidth()).isPositive();
        assertThat(Long.compareUnsigned(f.AvailableBandwidth(), f.BottleneckBandwidth())).isLessThanOrEqualTo(0);
        assertThat(query(h, id, QOS_QUERYFLOW_FRESH, out)).isZero();
        assertThat(QOS_FLOW_FUNDAMENTALS.read(out).BottleneckBandwidthSet()).isTrue();
        assertThat(QOSStopTrackingClient(h, CLIENT, 0)).isTrue();
        assertThat(query(h, id, 0, out)).as("stopping tracking leaves the flow's estimates").isZero();
        assertThat(QOSCloseHandle(h)).isTrue();
    }

    @Test
    void noDataBeforeAnySampleRetryWhenNothingFreshAndUnreachableWithoutASink() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 16, InetAddress.getLoopbackAddress())) {
            Thread acceptor = Thread.ofVirtual().start(() -> answerHandshakesOnly(silent));
            QosHandle h = handleFor(silent.getLocalPort());
            int id = addFlow(h, connectedUdp(CLIENT), null, QOSTrafficTypeVoice, 0);
            ByteBuffer out = buffer(QOS_FLOW_FUNDAMENTALS.SIZE);
            assertThat(query(h, id, 0, out)).isEqualTo(ERROR_NO_DATA);
            assertThat(query(h, id, QOS_QUERYFLOW_FRESH, out)).isEqualTo(ERROR_RETRY);
            assertThat(QOSCloseHandle(h)).isTrue();
            silent.close();
            acceptor.join();
        }
        QosHandle h = handleFor(closedPort());
        int id = addFlow(h, connectedUdp(CLIENT), null, QOSTrafficTypeVoice, 0);
        ByteBuffer out = buffer(QOS_FLOW_FUNDAMENTALS.SIZE);
        assertThat(eventually(() -> query(h, id, 0, out) == ERROR_HOST_UNREACHABLE)).isTrue();
        int plain = addFlow(h, connectedUdp(CLIENT), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(query(h, plain, 0, out)).isEqualTo(ERROR_NOT_SUPPORTED);
        assertThat(QOSCloseHandle(h)).isTrue();
        assertThat(eventually(() -> Engine.embedded().tracking().entryCount() == 0)).isTrue();
    }

    private static void answerHandshakesOnly(ServerSocket server) {
        List<Socket> open = new ArrayList<>();
        try {
            while (true) {
                Socket s = server.accept();
                open.add(s);
                InputStream in = s.getInputStream();
                in.readNBytes(4);
                OutputStream o = s.getOutputStream();
                o.write(new byte[] {0x1E, 0, 0, 1});
                o.flush();
            }
        } catch (IOException e) {
            for (Socket s : open) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }
}
