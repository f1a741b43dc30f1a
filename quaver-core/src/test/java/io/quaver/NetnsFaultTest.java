package io.quaver;

import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// Local network faults under a tracked client and an adaptive flow (docs/errors.md), on the
/// namespace test bed: the prober's sockets in A, the sink in B. The link taken down → 57
/// (ERROR_ADAP_HDW_ERR) for fresh fundamentals and for the flow's pending notification; the
/// address removed → 59 (ERROR_UNEXP_NET_ERR); nothing hangs; after the link is up again (the
/// address re-added) a re-created handle tracks and measures again.
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NetnsFaultTest {
    private static final long SETTLE_NS = TimeUnit.SECONDS.toNanos(15);
    private NetnsTracking net;
    private NetnsTestBed bed;

    @BeforeEach
    void up() throws Exception {
        net = NetnsTracking.start(NetnsTestBed.builder());
        bed = net.bed;
    }

    @AfterEach
    void down() {
        if (net != null) {
            net.close();
        }
    }

    private QosSubsystem handle() {
        return net.handle();
    }

    private InetSocketAddress client() {
        return net.client();
    }

    private DatagramChannel flowSocket() throws Exception {
        return net.flowSocket();
    }

    /// Tracks the client and measures on an adaptive flow; returns the flow with a
    /// notification pending on it.
    private static CompletableFuture<Void> trackAndMeasure(QosSubsystem qos, QosFlow flow, InetSocketAddress client)
            throws InterruptedException {
        qos.startTrackingClient(client);
        long deadline = System.nanoTime() + SETTLE_NS;
        FlowFundamentals f = null;
        while (f == null && System.nanoTime() < deadline) {
            try {
                f = flow.fundamentals(true);
            } catch (QosException e) {
                Thread.sleep(100);
            }
        }
        assertThat(f).as("a measurement before the fault").isNotNull();
        assertThat(f.bottleneckBps()).isPresent();
        return flow.notifyCongested();
    }

    /// A fresh query fails with `error` within a few seconds (one begun just before the fault
    /// may still complete with what was in flight) and no call hangs.
    private static void assertFreshFailsWith(QosFlow flow, QosError error) {
        long t0 = System.nanoTime();
        QosError seen = TrackingTest.errorOf(() -> flow.fundamentals(true));
        while (seen != error && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(8)) {
            seen = TrackingTest.errorOf(() -> flow.fundamentals(true));
        }
        assertThat(seen).isEqualTo(error);
        assertThat(System.nanoTime() - t0).as("no hang").isLessThan(TimeUnit.SECONDS.toNanos(12));
    }

    private static void assertFailsWith(CompletableFuture<?> pending, QosError error) {
        assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(QosException.class, e -> assertThat(e.error()).isEqualTo(error));
    }

    private void recovers() throws Exception {
        try (QosSubsystem qos = handle(); DatagramChannel ch = flowSocket()) {
            QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
            // the application retries while the neighbour entry and routes come back
            long deadline = System.nanoTime() + SETTLE_NS;
            while (TrackingTest.errorOf(() -> qos.startTrackingClient(client())) != null && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            CompletableFuture<Void> pending = trackAndMeasure(qos, flow, client());
            assertThat(pending).isNotDone();
            qos.stopTrackingClient(client());
        }
    }

    @Test
    void linkDownIs57ThenARecreatedHandleRecoversAfterLinkUp() throws Exception {
        try (QosSubsystem qos = handle(); DatagramChannel ch = flowSocket()) {
            QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
            CompletableFuture<Void> pending = trackAndMeasure(qos, flow, client());
            bed.linkDown(Node.A, Node.B);
            assertFreshFailsWith(flow, QosError.ADAP_HDW_ERR);
            assertFailsWith(pending, QosError.ADAP_HDW_ERR);
            assertThat(TrackingTest.errorOf(() -> flow.fundamentals(false))).isIn(QosError.ADAP_HDW_ERR, null);
            bed.linkUp(Node.A, Node.B);
        }
        recovers();
    }

    @Test
    void addressRemovedIs59ThenARecreatedHandleRecoversAfterItIsBack() throws Exception {
        String dev = bed.interfaceName(Node.A, Node.B);
        String cidr = bed.ipv4(Node.A).getHostAddress() + "/24";
        try (QosSubsystem qos = handle(); DatagramChannel ch = flowSocket()) {
            QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
            CompletableFuture<Void> pending = trackAndMeasure(qos, flow, client());
            bed.exec(Node.A, "ip", "addr", "del", cidr, "dev", dev).orThrow();
            assertFreshFailsWith(flow, QosError.UNEXP_NET_ERR);
            assertFailsWith(pending, QosError.UNEXP_NET_ERR);
            // a new tracking request meets the same fault
            qos.stopTrackingClient(client());
            assertThat(TrackingTest.errorOf(() -> qos.startTrackingClient(client()))).isEqualTo(QosError.UNEXP_NET_ERR);
            bed.exec(Node.A, "ip", "addr", "add", cidr, "dev", dev).orThrow();
        }
        recovers();
    }
}
