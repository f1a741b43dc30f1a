package io.quaver.qos2;

import io.quaver.internal.AdaptiveFlows;
import io.quaver.internal.Engine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// `QOSNotifyFlow` / `QOSCancel` through the qos2 layer with the engine's notifications
/// (issue 5): 997 then completion, 183, 995 on cancel and on close, 87, 50, 1168 for an
/// unknown overlapped, the available bandwidth written into `Buffer`. The path is driven
/// through [AdaptiveFlows]' test seams (no sink answers on loopback here).
class NotifyFlowTest extends Qos2TestBase {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private final AdaptiveFlows adaptive = Engine.embedded().adaptive();

    private static int sinkPort() {
        return Integer.getInteger("quaver.sinkPort", 2177);
    }

    private void congestion(Boolean congested) {
        adaptive.forceCongestion(V4_PEER, sinkPort(), congested);
    }

    @AfterEach
    void release() {
        try {
            congestion(null);
        } catch (IllegalStateException ignored) {
            // no flow left towards the peer
        }
    }

    private int adaptiveFlow(QosHandle h) throws IOException {
        return addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeAudioVideo, 0);
    }

    @Test
    void congestedCompletesTheOverlappedAndASecondRequestIsAlreadyExists() throws Exception {
        QosHandle h = handle();
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, ov))).isEqualTo(ERROR_IO_PENDING);
        assertThat(ov.isPending()).isTrue();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, new Overlapped())))
                .isEqualTo(ERROR_ALREADY_EXISTS);
        congestion(true);
        assertThat(ov.await(WAIT)).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_SUCCESS);
        int[] bytes = {-1};
        assertThat(GetOverlappedResult(h, ov, bytes, false)).isTrue();
        assertThat(bytes[0]).isZero();
        // a condition that holds completes at once, synchronously too
        assertThat(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, null)).isTrue();
        Overlapped now = new Overlapped();
        assertThat(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, now)).isTrue();
        assertThat(now.isCompleted()).isTrue();
    }

    @Test
    void cancelCompletesWith995AndAnUnknownOverlappedIsNotFound() throws Exception {
        QosHandle h = handle();
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, ov))).isEqualTo(ERROR_IO_PENDING);
        assertThat(QOSCancel(h, ov)).isTrue();
        assertThat(ov.await(WAIT)).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_OPERATION_ABORTED);
        int[] bytes = {0};
        assertThat(errorOf(GetOverlappedResult(h, ov, bytes, false))).isEqualTo(ERROR_OPERATION_ABORTED);
        assertThat(errorOf(QOSCancel(h, ov))).as("already completed").isEqualTo(ERROR_NOT_FOUND);
        assertThat(errorOf(QOSCancel(h, new Overlapped()))).as("never used").isEqualTo(ERROR_NOT_FOUND);
        // the slot is free again
        Overlapped next = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, next))).isEqualTo(ERROR_IO_PENDING);
        assertThat(QOSCancel(h, next)).isTrue();
    }

    @Test
    void closingTheHandleCompletesPendingRequestsWith995() throws Exception {
        QosHandle h = handle();
        int id = adaptiveFlow(h);
        Overlapped congested = new Overlapped();
        Overlapped available = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, congested)))
                .isEqualTo(ERROR_IO_PENDING);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, new int[] {8}, uint64(50_000_000), 0, available)))
                .isEqualTo(ERROR_IO_PENDING);
        assertThat(QOSCloseHandle(h)).isTrue();
        assertThat(congested.await(WAIT)).isTrue();
        assertThat(available.await(WAIT)).isTrue();
        assertThat(congested.status()).isEqualTo(ERROR_OPERATION_ABORTED);
        assertThat(available.status()).isEqualTo(ERROR_OPERATION_ABORTED);
    }

    @Test
    void removingTheFlowCompletesPendingRequestsWith995() throws Exception {
        QosHandle h = handle();
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, ov))).isEqualTo(ERROR_IO_PENDING);
        assertThat(QOSRemoveSocketFromFlow(h, null, id, 0)).isTrue();
        assertThat(ov.await(WAIT)).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_OPERATION_ABORTED);
    }

    @Test
    void availableWritesTheAvailableBandwidthAndRejectsATargetAtTheAdmittedRate() throws Exception {
        QosHandle h = handle();
        int id = adaptiveFlow(h);
        adaptive.injectEstimates(V4_PEER, sinkPort(), 100_000_000, 100_000_000);
        ByteBuffer rate = buffer(QOS_FLOWRATE_OUTGOING.SIZE);
        new QOS_FLOWRATE_OUTGOING(1_000_000, QOSShapeAndMark, QOSFlowRateNotApplicable).write(rate);
        assertThat(QOSSetFlow(h, id, QOSSetOutgoingRate, QOS_FLOWRATE_OUTGOING.SIZE, rate, 0, null)).isTrue();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, new int[] {8}, uint64(1_000_000), 0, null)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        int[] size = {8};
        ByteBuffer target = uint64(4_000_000);
        Overlapped ov = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, size, target, 0, ov))).isEqualTo(ERROR_IO_PENDING);
        long now = System.nanoTime();
        adaptive.injectAvailable(V4_PEER, sinkPort(), now - 600_000_000L, 9_000_000);
        adaptive.injectAvailable(V4_PEER, sinkPort(), now, 9_000_000);
        assertThat(ov.await(WAIT)).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_SUCCESS);
        int[] bytes = {0};
        assertThat(GetOverlappedResult(h, ov, bytes, false)).isTrue();
        assertThat(bytes[0]).isEqualTo(8);
        assertThat(size[0]).isEqualTo(8);
        assertThat(readUint64(target)).isEqualTo(9_000_000L);
    }

    /// The synchronous form (`Overlapped == NULL`) on its own thread: its result and last error.
    private static CompletableFuture<int[]> notifyOnAnotherThread(QosHandle h, int id, int operation) {
        CompletableFuture<int[]> call = new CompletableFuture<>();
        Thread.ofPlatform().name("sync-notify").daemon().start(() -> {
            boolean ok = QOSNotifyFlow(h, id, operation, null, null, 0, null);
            call.complete(new int[] {ok ? 1 : 0, ok ? ERROR_SUCCESS : GetLastError()});
        });
        return call;
    }

    @Test
    void synchronousNotifyBlocksUntilTheConditionHoldsThenReturnsTrue() throws Exception {
        QosHandle h = handle();
        int id = adaptiveFlow(h);
        CompletableFuture<int[]> call = notifyOnAnotherThread(h, id, QOSNotifyCongested);
        Thread.sleep(400);
        assertThat(call).as("blocked while the path is not congested").isNotDone();
        assertThat(h.inFlightCount()).as("the waiting call is tracked by the handle").isEqualTo(1);
        congestion(true);
        int[] result = call.get(5, TimeUnit.SECONDS);
        assertThat(result[0]).as("returned TRUE (last error %d)", result[1]).isEqualTo(1);
        assertThat(h.inFlightCount()).isZero();
        // one-shot: Uncongested now blocks until the congestion ends
        CompletableFuture<int[]> back = notifyOnAnotherThread(h, id, QOSNotifyUncongested);
        Thread.sleep(200);
        assertThat(back).isNotDone();
        congestion(false);
        assertThat(back.get(5, TimeUnit.SECONDS)[0]).isEqualTo(1);
    }

    @Test
    void closingTheHandleFromAnotherThreadUnblocksASynchronousNotifyWith995() throws Exception {
        QosHandle h = handle();
        int id = adaptiveFlow(h);
        CompletableFuture<int[]> call = notifyOnAnotherThread(h, id, QOSNotifyCongested);
        Thread.sleep(400);
        assertThat(call).isNotDone();
        assertThat(QOSCloseHandle(h)).isTrue();
        int[] result = call.get(5, TimeUnit.SECONDS);
        assertThat(result[0]).as("returned FALSE").isZero();
        assertThat(result[1]).isEqualTo(ERROR_OPERATION_ABORTED);
    }

    @Test
    void nonAdaptiveFlowsAreNotSupported() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, new Overlapped())))
                .isEqualTo(ERROR_NOT_SUPPORTED);
    }
}
