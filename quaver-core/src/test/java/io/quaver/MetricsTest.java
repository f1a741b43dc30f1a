package io.quaver;

import io.quaver.internal.AdaptiveFlows;
import io.quaver.internal.Engine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// Every counter of [QosMetrics] moves when its event happens (deltas on the JVM's embedded
/// engine, which other test classes share).
class MetricsTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /// A sink port nothing listens on, private to this class.
    private static final int SINK_PORT = 40_981;
    private static final InetSocketAddress PEER = new InetSocketAddress(LOOPBACK, 9);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final AdaptiveFlows adaptive = Engine.embedded().adaptive();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T later(T c) {
        closeables.add(c);
        return c;
    }

    private QosSubsystem handle(int sinkPort) {
        return later(QosSubsystem.open(QosOptions.defaults().withPrivileged(false).withSinkPort(sinkPort)
                .withTrackingGracePeriod(Duration.ZERO)));
    }

    private DatagramChannel udp(InetSocketAddress to) throws IOException {
        DatagramChannel ch = later(DatagramChannel.open());
        ch.connect(to);
        return ch;
    }

    private static long delta(QosMetrics before, QosMetrics after, ToLongFunction<QosMetrics> f) {
        return f.applyAsLong(after) - f.applyAsLong(before);
    }

    @Test
    void flowsAndSocketsAreCounted() throws IOException {
        QosSubsystem qos = handle(SINK_PORT);
        QosMetrics m0 = qos.metrics();
        QosFlow flow = qos.addFlow(udp(PEER), null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
        flow.addSocket(udp(new InetSocketAddress(LOOPBACK, 10)), null);
        QosMetrics m1 = qos.metrics();
        assertThat(delta(m0, m1, QosMetrics::flowsCreated)).isEqualTo(1);
        assertThat(delta(m0, m1, QosMetrics::flowsActive)).isEqualTo(1);
        assertThat(delta(m0, m1, QosMetrics::socketsAdded)).isEqualTo(2);
        flow.close();
        QosMetrics m2 = qos.metrics();
        assertThat(delta(m1, m2, QosMetrics::flowsRemoved)).isEqualTo(1);
        assertThat(delta(m0, m2, QosMetrics::flowsActive)).isZero();
    }

    @Test
    void shapingDecisionsAndAbortedSendsAreCounted() throws IOException {
        QosSubsystem qos = handle(SINK_PORT);
        DatagramChannel receiver = later(DatagramChannel.open().bind(new InetSocketAddress(LOOPBACK, 0)));
        DatagramChannel ch = udp((InetSocketAddress) receiver.getLocalAddress());
        QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
        flow.setOutgoingRate(OutgoingRate.of(100_000, Shaping.SHAPE_ONLY));
        QosMetrics m0 = qos.metrics();
        List<CompletableFuture<Integer>> sends = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sends.add(flow.sendAsync(ch, ByteBuffer.allocate(1000), null));
        }
        QosMetrics m1 = qos.metrics();
        assertThat(delta(m0, m1, QosMetrics::datagramsSentAtOnce)).isPositive();
        assertThat(delta(m0, m1, QosMetrics::datagramsDelayed)).isPositive();
        assertThat(delta(m0, m1, QosMetrics::datagramsSentAtOnce) + delta(m0, m1, QosMetrics::datagramsDelayed))
                .isEqualTo(20);
        flow.close(); // 20 kB at 100 kbit/s: most are still queued
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).handle((v, e) -> v).join();
        assertThat(delta(m0, qos.metrics(), QosMetrics::sendsAborted)).isPositive();

        QosFlow marking = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
        marking.setOutgoingRate(OutgoingRate.of(100_000, Shaping.USE_NON_CONFORMANT_MARKINGS));
        QosMetrics m2 = qos.metrics();
        for (int i = 0; i < 20; i++) {
            marking.send(ByteBuffer.allocate(1000));
        }
        assertThat(delta(m2, qos.metrics(), QosMetrics::datagramsNonConformant)).isPositive();
    }

    @Test
    void admissionsAndNotificationsAreCounted() throws Exception {
        QosSubsystem qos = handle(SINK_PORT);
        QosFlow flow = qos.addFlow(udp(PEER), null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        QosMetrics m0 = qos.metrics();
        assertThatThrownBy(() -> flow.setOutgoingRate(OutgoingRate.of(1_000_000, Shaping.SHAPE_AND_MARK)))
                .isInstanceOf(QosException.class); // no estimates yet
        adaptive.injectEstimates(PEER, SINK_PORT, 100_000_000, 50_000_000);
        flow.setOutgoingRate(OutgoingRate.of(1_000_000, Shaping.SHAPE_AND_MARK));
        QosMetrics m1 = qos.metrics();
        assertThat(delta(m0, m1, QosMetrics::admissionsRefused)).isEqualTo(1);
        assertThat(delta(m0, m1, QosMetrics::admissionsAccepted)).isEqualTo(1);

        CompletableFuture<Void> congested = flow.notifyCongested();
        adaptive.forceCongestion(PEER, SINK_PORT, true);
        congested.get(5, TimeUnit.SECONDS);
        CompletableFuture<Void> uncongested = flow.notifyUncongested();
        adaptive.forceCongestion(PEER, SINK_PORT, false);
        uncongested.get(5, TimeUnit.SECONDS);
        CompletableFuture<Long> available = flow.notifyAvailable(2_000_000);
        adaptive.injectAvailable(PEER, SINK_PORT, System.nanoTime(), 40_000_000);
        available.get(5, TimeUnit.SECONDS);
        QosMetrics m2 = qos.metrics();
        assertThat(delta(m1, m2, QosMetrics::notificationsCongested)).isEqualTo(1);
        assertThat(delta(m1, m2, QosMetrics::notificationsUncongested)).isEqualTo(1);
        assertThat(delta(m1, m2, QosMetrics::notificationsAvailable)).isEqualTo(1);

        CompletableFuture<Void> pending = flow.notifyCongested();
        flow.close();
        assertThat(pending).isCompletedExceptionally();
        assertThat(delta(m2, qos.metrics(), QosMetrics::notificationsCancelled)).isEqualTo(1);
    }

    @Test
    void probesEstimatesAndTrackedClientsAreCounted() throws Exception {
        QosSink sink = later(QosSink.start(SinkOptions.defaults().withPort(0)));
        QosSubsystem qos = handle(sink.port());
        InetSocketAddress client = new InetSocketAddress(LOOPBACK, 5004);
        QosMetrics m0 = qos.metrics();
        qos.startTrackingClient(client);
        qos.addFlow(udp(client), null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        assertThat(delta(m0, qos.metrics(), QosMetrics::trackedClients)).isEqualTo(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        QosMetrics m1 = qos.metrics();
        while (System.nanoTime() < deadline && (delta(m0, m1, QosMetrics::estimatesProduced) == 0
                || delta(m0, m1, QosMetrics::probePacketsSent) == 0)) {
            Thread.sleep(50);
            m1 = qos.metrics();
        }
        assertThat(delta(m0, m1, QosMetrics::probePacketsSent)).isPositive();
        assertThat(delta(m0, m1, QosMetrics::probeBytesSent))
                .isGreaterThanOrEqualTo(28 * delta(m0, m1, QosMetrics::probePacketsSent));
        assertThat(delta(m0, m1, QosMetrics::estimatesProduced)).isPositive();
        qos.stopTrackingClient(client);
        assertThat(delta(m0, qos.metrics(), QosMetrics::trackedClients)).isZero();
    }

    @Test
    void everyValueHasOneMeterAndAClosedHandleRefuses() {
        assertThat(QosMetrics.meters()).hasSize(QosMetrics.class.getRecordComponents().length);
        assertThat(QosMetrics.meters()).allSatisfy(m -> assertThat(m.name()).startsWith("quaver."));
        QosSubsystem qos = handle(SINK_PORT);
        qos.close();
        assertThatThrownBy(qos::metrics).isInstanceOfSatisfying(QosException.class,
                e -> assertThat(e.error()).isEqualTo(QosError.INVALID_HANDLE));
    }
}
