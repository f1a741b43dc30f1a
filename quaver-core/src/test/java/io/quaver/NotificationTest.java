package io.quaver;

import io.quaver.internal.AdaptiveFlows;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// `QOSNotifyFlow` through the Java API (issue 5; decisions.md items 2, 8, 9, 10, 13): one
/// pending request per type, immediate completion of a condition that holds, one-shot
/// completions, 995 on cancel / removal / close, 87 and 50. The path's congestion state and
/// available bandwidth are driven through [AdaptiveFlows]' test seams, so nothing here depends
/// on timing (no sink answers: the detector itself never fires).
class NotificationTest extends AdaptiveSeamFixture {
    private static final int SINK_PORT = 40_977;

    NotificationTest() {
        super(SINK_PORT);
    }

    private QosFlow adaptiveFlow() throws IOException {
        return qos.addFlow(socket(PEER), null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
    }

    private void congestion(Boolean congested) {
        adaptive.forceCongestion(PEER, SINK_PORT, congested);
    }

    private static void assertAborted(CompletableFuture<?> f) {
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(QosException.class,
                        e -> assertThat(e.error()).isEqualTo(QosError.OPERATION_ABORTED));
    }

    @Test
    void congestedIsPendingUntilTheTransitionThenOneShot() throws Exception {
        QosFlow flow = adaptiveFlow();
        CompletableFuture<Void> congested = flow.notifyCongested();
        assertThat(congested).isNotDone();
        assertError(flow::notifyCongested, QosError.ALREADY_EXISTS);
        congestion(true);
        congested.get(5, TimeUnit.SECONDS);
        // the condition holds now: a new request completes at once
        assertThat(flow.notifyCongested()).isCompleted();
        CompletableFuture<Void> uncongested = flow.notifyUncongested();
        assertThat(uncongested).isNotDone();
        congestion(false);
        uncongested.get(5, TimeUnit.SECONDS);
        // one-shot: a Congested request made now waits for the next congestion
        CompletableFuture<Void> again = flow.notifyCongested();
        assertThat(again).isNotDone();
        congestion(true);
        again.get(5, TimeUnit.SECONDS);
        congestion(null);
    }

    @Test
    void uncongestedCompletesAtOnceOnAQuietPath() throws Exception {
        QosFlow flow = adaptiveFlow();
        assertThat(flow.notifyUncongested()).isCompleted();
        assertThat(flow.notifyUncongested()).as("one-shot: no slot held").isCompleted();
    }

    @Test
    void cancellingTheFutureFreesTheSlot() throws Exception {
        QosFlow flow = adaptiveFlow();
        CompletableFuture<Void> congested = flow.notifyCongested();
        assertThat(congested.cancel(true)).isTrue();
        assertThatThrownBy(congested::join).isInstanceOf(CancellationException.class);
        CompletableFuture<Void> next = flow.notifyCongested();
        assertThat(next).isNotDone();
        congestion(true);
        next.get(5, TimeUnit.SECONDS);
        congestion(null);
    }

    @Test
    void removingTheFlowAbortsItsRequestsWith995() throws Exception {
        QosFlow flow = adaptiveFlow();
        CompletableFuture<Void> congested = flow.notifyCongested();
        CompletableFuture<Long> available = flow.notifyAvailable(1_000_000);
        flow.close();
        assertAborted(congested);
        assertAborted(available);
        assertThat(adaptive.pendingCount()).isZero();
    }

    @Test
    void closingTheHandleAbortsPendingRequestsWith995() throws Exception {
        QosFlow flow = adaptiveFlow();
        CompletableFuture<Void> congested = flow.notifyCongested();
        CompletableFuture<Long> available = flow.notifyAvailable(1_000_000);
        qos.close();
        assertAborted(congested);
        assertAborted(available);
    }

    @Test
    void nonAdaptiveFlowsAreNotSupported() throws IOException {
        QosFlow flow = qos.addFlow(socket(PEER), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertError(flow::notifyCongested, QosError.NOT_SUPPORTED);
        assertError(flow::notifyUncongested, QosError.NOT_SUPPORTED);
        assertError(() -> flow.notifyAvailable(1_000_000), QosError.NOT_SUPPORTED);
    }

    @Test
    void unknownFlowsAreNotFound() throws IOException {
        QosFlow flow = adaptiveFlow();
        int id = flow.id();
        flow.close();
        assertError(() -> qos.flow(id).notifyCongested(), QosError.NOT_FOUND);
    }

    @Test
    void availableTargetMustBeAboveTheAdmittedRate() throws IOException {
        QosFlow flow = adaptiveFlow();
        assertError(() -> flow.notifyAvailable(0), QosError.INVALID_PARAMETER);
        adaptive.injectEstimates(PEER, SINK_PORT, 100_000_000, 100_000_000);
        flow.setOutgoingRate(OutgoingRate.of(1_000_000, Shaping.SHAPE_AND_MARK));
        assertError(() -> flow.notifyAvailable(1_000_000), QosError.INVALID_PARAMETER);
        assertError(() -> flow.notifyAvailable(500_000), QosError.INVALID_PARAMETER);
        CompletableFuture<Long> ok = flow.notifyAvailable(1_000_001);
        assertThat(ok).isNotDone();
        assertError(() -> flow.notifyAvailable(2_000_000), QosError.ALREADY_EXISTS);
        ok.cancel(true);
    }

    @Test
    void availableStaysPendingWhileTheHeadroomIsShort() throws Exception {
        QosFlow flow = adaptiveFlow();
        adaptive.injectEstimates(PEER, SINK_PORT, 100_000_000, 100_000_000);
        flow.setOutgoingRate(OutgoingRate.of(1_000_000, Shaping.SHAPE_AND_MARK));
        CompletableFuture<Long> available = flow.notifyAvailable(5_000_000);
        long now = System.nanoTime();
        adaptive.injectAvailable(PEER, SINK_PORT, now - 600_000_000L, 2_000_000);
        adaptive.injectAvailable(PEER, SINK_PORT, now, 2_000_000);
        assertThat(available).as("2 + 1 Mbit/s cannot carry 5 Mbit/s").isNotDone();
        available.cancel(true);
    }

    @Test
    void availableThatAlreadyHoldsCompletesAtOnceWithTheBandwidth() throws Exception {
        QosFlow flow = adaptiveFlow();
        long now = System.nanoTime();
        adaptive.injectAvailable(PEER, SINK_PORT, now - 600_000_000L, 10_000_000);
        adaptive.injectAvailable(PEER, SINK_PORT, now, 10_000_000);
        CompletableFuture<Long> available = flow.notifyAvailable(5_000_000);
        assertThat(available.get(5, TimeUnit.SECONDS)).isEqualTo(10_000_000L);
        // while the path is congested nothing is available
        congestion(true);
        CompletableFuture<Long> blocked = flow.notifyAvailable(5_000_000);
        assertThat(blocked).isNotDone();
        congestion(null);
        blocked.cancel(true);
    }

    @Test
    void pendingAvailableCompletesWhenTheEstimatesAllowIt() throws Exception {
        QosFlow flow = adaptiveFlow();
        CompletableFuture<Long> available = flow.notifyAvailable(5_000_000);
        assertThat(available).isNotDone();
        long now = System.nanoTime();
        adaptive.injectAvailable(PEER, SINK_PORT, now - 600_000_000L, 8_000_000);
        adaptive.injectAvailable(PEER, SINK_PORT, now, 8_000_000);
        assertThat(available.get(5, TimeUnit.SECONDS)).isEqualTo(8_000_000L);
    }
}
