package io.quaver.internal;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosOptions;
import io.quaver.QosVersion;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.internal.platform.Platform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/// Admission runs without the engine's lock: a slow admission of one flow blocks no other
/// operation; a flow removed meanwhile fails with `NOT_FOUND` and has no contract; a rate
/// admitted to another flow towards the same address meanwhile makes the admission decide again.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdmissionOutsideLockTest {
    private static final InetSocketAddress PEER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
    private static final int SINK_PORT = 40_981;

    private final Engine engine = new Engine(Platform.current());
    /// Threads of its own: the common pool may have a single one on a small machine.
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch gate = new CountDownLatch(1);
    /// (flow id, others' admitted bits/s) of every admission decision, in order.
    private final List<long[]> decisions = new CopyOnWriteArrayList<>();
    private EmbeddedSession session;
    private DatagramChannel s1;
    private DatagramChannel s2;

    @BeforeEach
    void open() throws IOException {
        session = EmbeddedSession.open(engine, QosVersion.V1_0,
                QosOptions.defaults().withPrivileged(false).withSinkPort(SINK_PORT));
        s1 = DatagramChannel.open().connect(PEER);
        s2 = DatagramChannel.open().connect(PEER);
    }

    @AfterEach
    void close() throws IOException, InterruptedException {
        gate.countDown();
        threads.shutdown();
        assertThat(threads.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
        session.close();
        s1.close();
        s2.close();
        assertThat(engine.liveFlowCount()).isZero();
    }

    /// Admits everything; the first decision about `slowFlow` waits at the gate.
    private void admitWithGateFor(int slowFlow) {
        engine.setAdmission((flowId, mode, destination, rate, others) -> {
            decisions.add(new long[] {flowId, others});
            if (flowId == slowFlow && entered.getCount() > 0) {
                entered.countDown();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
    }

    private CompletableFuture<Void> setRateAsync(int flowId, long bps) {
        return CompletableFuture.runAsync(() -> session.setOutgoingRate(flowId,
                OutgoingRate.of(bps, Shaping.SHAPE_AND_MARK)), threads);
    }

    @Test
    void aFlowRemovedDuringItsAdmissionFailsWithNotFoundAndOthersGoOn() throws Exception {
        int flow = session.addFlow(s1, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        admitWithGateFor(flow);
        CompletableFuture<Void> setter = setRateAsync(flow, 1_000_000);
        assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
        CompletableFuture.runAsync(() -> {
            int other = session.addFlow(s2, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            session.setOutgoingRate(other, OutgoingRate.of(500_000, Shaping.USE_NON_CONFORMANT_MARKINGS));
            session.remove(other, null);
            session.remove(flow, null);
        }, threads).get(20, TimeUnit.SECONDS);
        assertThat(setter).isNotDone();
        gate.countDown();
        assertThat(setter).failsWithin(20, TimeUnit.SECONDS).withThrowableThat().havingRootCause()
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.error()).isEqualTo(QosError.NOT_FOUND));
        assertThat(engine.metrics().admissionsAccepted()).isZero();
    }

    @Test
    void aRateAdmittedToAnotherFlowMeanwhileIsCountedInASecondDecision() throws Exception {
        int first = session.addFlow(s1, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        int second = session.addFlow(s2, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        admitWithGateFor(first);
        CompletableFuture<Void> setter = setRateAsync(first, 2_000_000);
        assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
        setRateAsync(second, 3_000_000).get(20, TimeUnit.SECONDS);
        gate.countDown();
        setter.get(20, TimeUnit.SECONDS);
        List<long[]> ofFirst = decisions.stream().filter(d -> d[0] == first).toList();
        assertThat(ofFirst).hasSize(2);
        assertThat(ofFirst.get(0)[1]).isZero();
        assertThat(ofFirst.get(1)[1]).as("the second flow's rate counts").isPositive();
        assertThat(engine.metrics().admissionsAccepted()).isEqualTo(2);
        assertThat(session.outgoingRate(first).bandwidthBps()).isEqualTo(2_000_000);
    }
}
