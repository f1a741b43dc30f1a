package io.quaver;

import io.quaver.internal.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// Faults on loopback (docs/errors.md): the sink killed in the middle of a measurement, and
/// the application closing a socket that is in a flow. Nothing hangs, pending operations
/// complete, and a re-created handle (and a restarted sink) recovers.
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class FaultTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static QosSubsystem handle(int sinkPort) {
        return QosSubsystem.open(QosOptions.defaults().withPrivileged(false).withSinkPort(sinkPort)
                .withTrackingGracePeriod(Duration.ZERO));
    }

    private static FlowFundamentals measured(QosFlow flow) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            try {
                return flow.fundamentals(true);
            } catch (QosException e) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("no measurement within 15 s");
    }

    @Test
    void sinkKilledInTheMiddleOfAMeasurementIs1232AndARestartedSinkWithANewHandleRecovers() throws Exception {
        QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(LOOPBACK).withPort(0));
        int port = sink.port();
        InetSocketAddress client = new InetSocketAddress(LOOPBACK, 0);
        try (QosSubsystem qos = handle(port);
             DatagramChannel ch = DatagramChannel.open().connect(new InetSocketAddress(LOOPBACK, 40_100))) {
            qos.startTrackingClient(client);
            QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
            assertThat(measured(flow).bottleneckBps()).isPresent();
            CompletableFuture<Void> pending = flow.notifyCongested();
            // a fresh measurement under way when the sink dies
            CompletableFuture<QosError> fresh = CompletableFuture.supplyAsync(() -> TrackingTest.errorOf(() -> flow.fundamentals(true)));
            sink.close();
            long t0 = System.nanoTime();
            QosError first = fresh.get(10, TimeUnit.SECONDS);
            assertThat(first).as("the fresh query under way").isIn(null, QosError.HOST_UNREACHABLE, QosError.RETRY);
            QosError next = TrackingTest.errorOf(() -> flow.fundamentals(true));
            for (int i = 0; i < 5 && next != QosError.HOST_UNREACHABLE; i++) {
                next = TrackingTest.errorOf(() -> flow.fundamentals(true));
            }
            assertThat(next).isEqualTo(QosError.HOST_UNREACHABLE);
            assertThat(System.nanoTime() - t0).as("no hang").isLessThan(TimeUnit.SECONDS.toNanos(30));
            assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(QosException.class,
                            e -> assertThat(e.error()).isEqualTo(QosError.HOST_UNREACHABLE));
            qos.stopTrackingClient(client);
            assertThat(TrackingTest.errorOf(() -> qos.startTrackingClient(client))).isEqualTo(QosError.HOST_UNREACHABLE);
        }
        // recovery: the sink back on its port, a new handle
        try (QosSink again = QosSink.start(SinkOptions.defaults().withBindAddress(LOOPBACK).withPort(port));
             QosSubsystem qos = handle(port);
             DatagramChannel ch = DatagramChannel.open().connect(new InetSocketAddress(LOOPBACK, 40_101))) {
            qos.startTrackingClient(client);
            QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
            assertThat(measured(flow).bottleneckBps()).isPresent();
            qos.stopTrackingClient(client);
            assertThat(again.stats().packetPairTrains()).isPositive();
        }
        assertThat(TrackingTest.eventually(() -> Engine.embedded().tracking().entryCount() == 0)).isTrue();
    }

    @Test
    void aSocketClosedByTheApplicationWhileInAFlowFailsItsSendsWith1117AndTheFlowCanBeRemoved() throws Exception {
        try (QosSubsystem qos = handle(0);
             DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
            DatagramChannel ch = DatagramChannel.open().connect(rx.getLocalAddress());
            QosFlow flow = qos.addFlow(ch, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
            flow.setOutgoingRate(OutgoingRate.of(100_000, Shaping.SHAPE_ONLY)); // sends queue up
            List<CompletableFuture<Integer>> sends = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                sends.add(flow.sendAsync(null, ByteBuffer.allocate(1_000), null));
            }
            ch.close();
            int failed = 0;
            for (CompletableFuture<Integer> f : sends) {
                try {
                    assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(1_000); // left before the close
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOfSatisfying(QosException.class, q -> {
                        assertThat(q.error()).isEqualTo(QosError.IO_DEVICE);
                        assertThat(q.getMessage()).contains("socket is closed");
                    });
                    failed++;
                }
            }
            assertThat(failed).as("queued sends complete, exceptionally").isPositive();
            assertThatThrownBy(() -> flow.send(ByteBuffer.allocate(10))).isInstanceOfSatisfying(QosException.class,
                    q -> assertThat(q.error()).isEqualTo(QosError.IO_DEVICE));
            assertThat(flow.info().members()).singleElement().satisfies(m -> assertThat(m.open()).isFalse());
            flow.removeSocket(ch);
            assertThat(flow.isLive()).isFalse();
            assertThat(TrackingTest.errorOf(() -> flow.send(ByteBuffer.allocate(10)))).isEqualTo(QosError.NOT_FOUND);
            // a new socket, a new flow
            try (DatagramChannel fresh = DatagramChannel.open().connect(rx.getLocalAddress())) {
                QosFlow again = qos.addFlow(fresh, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
                assertThat(again.send(ByteBuffer.allocate(10))).isEqualTo(10);
                again.close();
            }
        }
    }
}
