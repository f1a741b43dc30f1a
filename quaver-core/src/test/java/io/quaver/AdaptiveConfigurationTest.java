package io.quaver;

import io.quaver.internal.AdaptiveFlows;
import io.quaver.internal.Engine;
import io.quaver.internal.adaptive.DetectorConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// Per-handle configuration of adaptive flows (issue 5): the congestion detector's thresholds
/// from [QosOptions] (validated: bad values → 87) and the bound on pending notification
/// requests per handle ([QosLimits#maxPendingNotifications()]: excess → 1450).
class AdaptiveConfigurationTest {
    private static final int SINK_PORT = 40_979;
    private static final InetSocketAddress PEER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final AdaptiveFlows adaptive = Engine.embedded().adaptive();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
    }

    private QosSubsystem open(QosOptions options) {
        QosSubsystem s = QosSubsystem.open(options.withPrivileged(false).withSinkPort(SINK_PORT));
        closeables.add(s);
        return s;
    }

    private QosFlow adaptiveFlow(QosSubsystem qos) throws IOException {
        DatagramChannel c = DatagramChannel.open();
        closeables.add(c);
        c.connect(PEER);
        return qos.addFlow(c, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
    }

    private static void assertInvalid(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(QosException.class,
                e -> assertThat(e.error()).as(e.getMessage()).isEqualTo(QosError.INVALID_PARAMETER));
    }

    @Test
    void theDefaultThresholdsAreTheDetectorsDefaults() {
        assertThat(DetectorConfig.of(CongestionThresholds.DEFAULT)).isEqualTo(DetectorConfig.DEFAULT);
        assertThat(QosOptions.defaults().congestionThresholds()).isEqualTo(CongestionThresholds.DEFAULT);
    }

    @Test
    void badThresholdsAreInvalidParameters() {
        CongestionThresholds d = CongestionThresholds.DEFAULT;
        assertInvalid(() -> d.withQueueDelay(Duration.ZERO));
        assertInvalid(() -> d.withQueueDelay(Duration.ofMillis(-5)));
        assertInvalid(() -> d.withQueueDelay(Duration.ofSeconds(11)));
        assertInvalid(() -> d.withQueueDelay(null));
        assertInvalid(() -> d.withDrainedQueue(Duration.ofMillis(61))); // above the queue threshold
        assertInvalid(() -> d.withGradientMinQueue(Duration.ofMillis(-1)));
        assertInvalid(() -> d.withHolds(Duration.ofMillis(-1), Duration.ofMillis(300)));
        assertInvalid(() -> d.withHolds(Duration.ofMillis(10), Duration.ofSeconds(61)));
        assertInvalid(() -> d.withLoss(0, 0));
        assertInvalid(() -> d.withLoss(1.5, 0.02));
        assertInvalid(() -> d.withLoss(0.1, 0.2)); // exit above enter
        assertInvalid(() -> d.withLoss(Double.NaN, 0.02));
        assertInvalid(() -> d.withQueueFloorWindow(Duration.ZERO));
        assertInvalid(() -> QosOptions.defaults().withCongestionThresholds(null));
        // edges that are fine
        assertThat(d.withDrainedQueue(Duration.ofMillis(60)).drainedQueue()).isEqualTo(Duration.ofMillis(60));
        assertThat(d.withLoss(1, 0).lossEnter()).isEqualTo(1.0);
        assertThat(d.withHolds(Duration.ZERO, Duration.ZERO).enterHold()).isZero();
    }

    @Test
    void eachHandlesFlowsFollowItsOwnThresholds() throws IOException {
        CongestionThresholds strict = CongestionThresholds.DEFAULT.withQueueDelay(Duration.ofMillis(25))
                .withDrainedQueue(Duration.ofMillis(5)).withHolds(Duration.ofMillis(5), Duration.ofMillis(100))
                .withLoss(0.05, 0.01);
        QosSubsystem a = open(QosOptions.defaults());
        QosSubsystem b = open(QosOptions.defaults().withCongestionThresholds(strict));
        QosFlow fa = adaptiveFlow(a);
        QosFlow fb = adaptiveFlow(b);
        assertThat(adaptive.detectorConfigOf(fa.id())).isEqualTo(DetectorConfig.DEFAULT);
        DetectorConfig cb = adaptive.detectorConfigOf(fb.id());
        assertThat(cb.queueDelayThresholdNs()).isEqualTo(25_000_000L);
        assertThat(cb.drainedQueueNs()).isEqualTo(5_000_000L);
        assertThat(cb.enterHoldNs()).isEqualTo(5_000_000L);
        assertThat(cb.exitHoldNs()).isEqualTo(100_000_000L);
        assertThat(cb.lossEnterFraction()).isEqualTo(0.05);
        assertThat(cb.lossExitFraction()).isEqualTo(0.01);
        // both paths towards the peer get the path's events
        CompletableFuture<Void> ca = fa.notifyCongested();
        CompletableFuture<Void> cbf = fb.notifyCongested();
        adaptive.forceCongestion(PEER, SINK_PORT, true);
        try {
            assertThat(ca).succeedsWithin(Duration.ofSeconds(5));
            assertThat(cbf).succeedsWithin(Duration.ofSeconds(5));
        } finally {
            adaptive.forceCongestion(PEER, SINK_PORT, null);
        }
    }

    @Test
    void pendingRequestsAreBoundedPerHandle() throws Exception {
        QosLimits d = QosLimits.DEFAULT;
        QosLimits three = new QosLimits(d.maxFlows(), d.maxSocketsPerFlow(), d.maxTrackedClients(), 3,
                d.maxSinkSessions());
        QosSubsystem small = open(QosOptions.defaults().withLimits(three));
        QosSubsystem other = open(QosOptions.defaults().withLimits(three));
        QosFlow f1 = adaptiveFlow(small);
        QosFlow f2 = adaptiveFlow(small);
        CompletableFuture<Void> c1 = f1.notifyCongested();
        CompletableFuture<Long> a1 = f1.notifyAvailable(50_000_000);
        CompletableFuture<Void> c2 = f2.notifyCongested();
        assertThatThrownBy(() -> f2.notifyAvailable(50_000_000)).isInstanceOfSatisfying(QosException.class,
                e -> assertThat(e.error()).as(e.getMessage()).isEqualTo(QosError.NO_SYSTEM_RESOURCES));
        // a request that completes at once holds no slot
        assertThat(f2.notifyUncongested()).succeedsWithin(Duration.ofSeconds(5));
        // another handle has its own bound
        QosFlow g = adaptiveFlow(other);
        CompletableFuture<Void> cg = g.notifyCongested();
        assertThat(cg).isNotDone();
        // cancelling frees a slot
        assertThat(c2.cancel(true)).isTrue();
        CompletableFuture<Long> a2 = f2.notifyAvailable(50_000_000);
        assertThat(a2).isNotDone();
        // removing a flow frees its slots
        f1.close();
        assertThat(c1).failsWithin(5, TimeUnit.SECONDS);
        assertThat(a1).failsWithin(5, TimeUnit.SECONDS);
        CompletableFuture<Void> c3 = f2.notifyCongested();
        assertThat(c3).isNotDone();
        small.close();
        assertThat(c3).failsWithin(5, TimeUnit.SECONDS);
        assertThat(a2).failsWithin(5, TimeUnit.SECONDS);
        other.close();
        assertThat(cg).failsWithin(5, TimeUnit.SECONDS);
    }
}
