package io.quaver.qos2;

import io.quaver.QosError;
import io.quaver.QosException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// The `OVERLAPPED` plumbing: synchronous completion through an overlapped, pending operations
/// (through the handle's notifier seam, which stands in a controllable future for the
/// notification engine), `QOSCancel`, `QOSCloseHandle`, `GetOverlappedResult`
/// (decisions.md items 2 and 9).
class OverlappedTest extends Qos2TestBase {

    /// A handle whose notifications come from futures the test completes.
    private static final class Pending {
        final QosHandle handle;
        final AtomicInteger requests = new AtomicInteger();
        volatile CompletableFuture<Object> future = new CompletableFuture<>();
        volatile long lastTarget = -1;

        Pending(QosHandle handle) {
            this.handle = handle;
            handle.notifier = (flow, op, target) -> {
                requests.incrementAndGet();
                lastTarget = target;
                return future;
            };
        }
    }

    private int adaptiveFlow(QosHandle h) throws IOException {
        return addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeAudioVideo, 0);
    }

    // ------------------------------------------------------------------ synchronous completion

    @Test
    void aSynchronousQueryCompletesTheOverlappedAndReturnsTrue() throws Exception {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        Overlapped ov = new Overlapped();
        assertThat(ov.isCompleted()).isFalse();
        assertThat(ov.status()).isEqualTo(ERROR_SUCCESS);
        assertThat(ov.toString()).isEqualTo("Overlapped[unused]");

        int[] size = {32};
        ByteBuffer b = buffer(32);
        SetLastError(0xdeadbeef);
        assertThat(QOSQueryFlow(h, id, QOSQueryPacketPriority, size, b, 0, ov)).isTrue();
        assertThat(GetLastError()).isEqualTo(0xdeadbeef);
        assertThat(ov.isCompleted()).isTrue();
        assertThat(ov.await(Duration.ZERO)).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_SUCCESS);
        assertThat(ov.bytesTransferred()).isEqualTo(16);
        assertThat(size[0]).isEqualTo(16);
        assertThat(QOS_PACKET_PRIORITY.read(b).ConformantDSCPValue()).isEqualTo(0x38);

        int[] bytes = {-1};
        assertThat(GetOverlappedResult(h, ov, bytes, false)).isTrue();
        assertThat(bytes[0]).isEqualTo(16);
        assertThat(GetLastError()).isEqualTo(0xdeadbeef);
    }

    @Test
    void aSynchronousSetCompletesTheOverlappedAndTheOverlappedIsReusable() throws Exception {
        QosHandle h = handle();
        var socket = connectedUdp(V4_PEER);
        int id = addFlow(h, socket, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        Overlapped ov = new Overlapped();
        assertThat(QOSSetFlow(h, id, QOSSetTrafficType, 4, dword(QOSTrafficTypeBackground), 0, ov)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(0x08);
        assertThat(ov.isCompleted()).isTrue();
        assertThat(ov.bytesTransferred()).isZero();
        assertThat(QOSSetFlow(h, id, QOSSetTrafficType, 4, dword(QOSTrafficTypeVoice), 0, ov)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(0x38);
        int[] bytes = {-1};
        assertThat(GetOverlappedResult(h, ov, bytes, true)).isTrue();
        assertThat(bytes[0]).isZero();
    }

    @Test
    void aSynchronousFailureLeavesTheOverlappedUntouched() throws Exception {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        Overlapped ov = new Overlapped();
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryOutgoingRate, new int[] {8}, buffer(8), 0, ov)))
                .isEqualTo(ERROR_NO_DATA);
        assertThat(ov.isCompleted()).isFalse();
        assertThat(ov.isPending()).isFalse();
        assertThat(ov.await(Duration.ofMillis(10))).isFalse();
        assertThat(errorOf(GetOverlappedResult(h, ov, new int[1], false))).as("never used")
                .isEqualTo(ERROR_INVALID_PARAMETER);
    }

    // ------------------------------------------------------------------ pending operations

    @Test
    void aPendingNotificationCompletesLaterWithItsResult() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        int[] size = {8};
        ByteBuffer b = uint64(7_000_000L);

        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, size, b, 0, ov))).isEqualTo(ERROR_IO_PENDING);
        assertThat(p.lastTarget).isEqualTo(7_000_000L);
        assertThat(ov.isPending()).isTrue();
        assertThat(ov.isCompleted()).isFalse();
        assertThat(ov.status()).isEqualTo(ERROR_IO_PENDING);
        assertThat(ov.toString()).isEqualTo("Overlapped[pending]");
        assertThat(h.inFlightCount()).isEqualTo(1);
        assertThat(ov.await(Duration.ofMillis(20))).isFalse();
        int[] bytes = {-1};
        assertThat(errorOf(GetOverlappedResult(h, ov, bytes, false))).isEqualTo(ERROR_IO_INCOMPLETE);

        // an overlapped that is still pending cannot start another operation
        assertThat(errorOf(QOSQueryFlow(h, id, QOSQueryPacketPriority, new int[] {16}, buffer(16), 0, ov)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSSetFlow(h, id, QOSSetTrafficType, 4, dword(0), 0, ov)))
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(p.requests.get()).isEqualTo(1);

        p.future.complete(9_500_000L);
        assertThat(ov.await(Duration.ofSeconds(5))).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_SUCCESS);
        assertThat(ov.bytesTransferred()).isEqualTo(8);
        assertThat(size[0]).isEqualTo(8);
        assertThat(readUint64(b)).as("available bandwidth written back").isEqualTo(9_500_000L);
        assertThat(GetOverlappedResult(h, ov, bytes, false)).isTrue();
        assertThat(bytes[0]).isEqualTo(8);
        assertThat(h.inFlightCount()).isZero();
    }

    @Test
    void getOverlappedResultCanWaitForTheCompletion() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, ov))).isEqualTo(ERROR_IO_PENDING);
        Thread.ofVirtual().start(() -> {
            sleep(50);
            p.future.complete(null);
        });
        int[] bytes = {-1};
        assertThat(GetOverlappedResult(h, ov, bytes, true)).isTrue();
        assertThat(bytes[0]).as("congestion notifications write nothing").isZero();
        assertThat(ov.isCompleted()).isTrue();
    }

    @Test
    void aPendingOperationThatFailsCompletesWithItsError() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        ByteBuffer b = uint64(7_000_000L);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, new int[] {8}, b, 0, ov)))
                .isEqualTo(ERROR_IO_PENDING);
        p.future.completeExceptionally(new QosException(QosError.HOST_UNREACHABLE, "the sink went away"));
        assertThat(ov.await(Duration.ofSeconds(5))).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_HOST_UNREACHABLE);
        assertThat(readUint64(b)).as("nothing written on failure").isEqualTo(7_000_000L);
        SetLastError(0);
        int[] bytes = {-1};
        assertThat(errorOf(GetOverlappedResult(h, ov, bytes, false))).isEqualTo(ERROR_HOST_UNREACHABLE);
        assertThat(bytes[0]).isZero();
    }

    @Test
    void aNotificationWhoseConditionAlreadyHoldsCompletesAtOnce() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        p.future.complete(12_000_000L);
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        int[] size = {8};
        ByteBuffer b = uint64(10_000_000L);
        assertThat(QOSNotifyFlow(h, id, QOSNotifyAvailable, size, b, 0, ov)).isTrue();
        assertThat(ov.isCompleted()).isTrue();
        assertThat(ov.bytesTransferred()).isEqualTo(8);
        assertThat(readUint64(b)).isEqualTo(12_000_000L);
        assertThat(h.inFlightCount()).isZero();
    }

    @Test
    void theSynchronousFormBlocksUntilTheConditionHolds() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        int[] size = {8};
        ByteBuffer b = uint64(10_000_000L);
        Thread.ofVirtual().start(() -> {
            sleep(50);
            p.future.complete(11_000_000L);
        });
        assertThat(QOSNotifyFlow(h, id, QOSNotifyAvailable, size, b, 0, null)).isTrue();
        assertThat(readUint64(b)).isEqualTo(11_000_000L);
        assertThat(size[0]).isEqualTo(8);
        assertThat(h.inFlightCount()).isZero();
    }

    // ------------------------------------------------------------------ QOSCancel (items 2, 9)

    @Test
    void item2_cancelCompletesThePendingOperationWithOperationAborted() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        ByteBuffer b = uint64(7_000_000L);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, new int[] {8}, b, 0, ov)))
                .isEqualTo(ERROR_IO_PENDING);

        SetLastError(0xdeadbeef);
        assertThat(QOSCancel(h, ov)).isTrue();
        assertThat(GetLastError()).isEqualTo(0xdeadbeef);
        assertThat(ov.isCompleted()).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_OPERATION_ABORTED);
        assertThat(p.future.isCancelled()).as("cancel = future.cancel").isTrue();
        assertThat(h.inFlightCount()).isZero();
        assertThat(errorOf(GetOverlappedResult(h, ov, new int[1], true))).isEqualTo(ERROR_OPERATION_ABORTED);
        assertThat(readUint64(b)).isEqualTo(7_000_000L);

        // item 9: cancelling it again (already completed) → 1168
        assertThat(errorOf(QOSCancel(h, ov))).isEqualTo(ERROR_NOT_FOUND);
    }

    @Test
    void item9_cancelOfAnUnknownOrCompletedOverlappedIsNotFound() throws Exception {
        QosHandle h = handle();
        assertThat(errorOf(QOSCancel(h, null))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(QOSCancel(h, new Overlapped()))).as("never used").isEqualTo(ERROR_NOT_FOUND);

        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        Overlapped done = new Overlapped();
        assertThat(QOSQueryFlow(h, id, QOSQueryPacketPriority, new int[] {16}, buffer(16), 0, done)).isTrue();
        assertThat(errorOf(QOSCancel(h, done))).as("completed synchronously").isEqualTo(ERROR_NOT_FOUND);

        // pending on another handle: unknown to this one
        QosHandle other = handle();
        Pending p = new Pending(other);
        int otherFlow = adaptiveFlow(other);
        Overlapped foreign = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(other, otherFlow, QOSNotifyCongested, null, null, 0, foreign)))
                .isEqualTo(ERROR_IO_PENDING);
        assertThat(errorOf(QOSCancel(h, foreign))).isEqualTo(ERROR_NOT_FOUND);
        assertThat(foreign.isPending()).isTrue();
        assertThat(errorOf(GetOverlappedResult(h, foreign, new int[1], false))).as("another handle's overlapped")
                .isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(p.future.isDone()).isFalse();
    }

    @Test
    void aResultThatArrivesBeforeTheCancelWins() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyUncongested, null, null, 0, ov))).isEqualTo(ERROR_IO_PENDING);
        p.future.complete(null);
        assertThat(ov.status()).isEqualTo(ERROR_SUCCESS);
        assertThat(errorOf(QOSCancel(h, ov))).isEqualTo(ERROR_NOT_FOUND);
        assertThat(ov.status()).isEqualTo(ERROR_SUCCESS);
    }

    // ------------------------------------------------------------------ QOSCloseHandle (item 2)

    @Test
    void item2_closingTheHandleAbortsEveryPendingOverlapped() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        Overlapped congested = new Overlapped();
        Overlapped available = new Overlapped();
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, congested)))
                .isEqualTo(ERROR_IO_PENDING);
        CompletableFuture<Object> first = p.future;
        p.future = new CompletableFuture<>();
        ByteBuffer b = uint64(7_000_000L);
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyAvailable, new int[] {8}, b, 0, available)))
                .isEqualTo(ERROR_IO_PENDING);
        assertThat(h.inFlightCount()).isEqualTo(2);

        assertThat(QOSCloseHandle(h)).isTrue();
        for (Overlapped ov : new Overlapped[] {congested, available}) {
            assertThat(ov.isCompleted()).isTrue();
            assertThat(ov.status()).isEqualTo(ERROR_OPERATION_ABORTED);
            // the handle is closed, but the overlapped's result stays readable through it
            assertThat(errorOf(GetOverlappedResult(h, ov, new int[1], false))).isEqualTo(ERROR_OPERATION_ABORTED);
        }
        assertThat(first.isCompletedExceptionally()).isTrue();
        assertThat(p.future.isCompletedExceptionally()).isTrue();
        assertThat(h.inFlightCount()).isZero();
        assertThat(readUint64(b)).isEqualTo(7_000_000L);
        // a late result of an aborted operation changes nothing
        assertThat(p.future.complete(1L)).isFalse();
        assertThat(available.status()).isEqualTo(ERROR_OPERATION_ABORTED);
        // and the closed handle can neither cancel nor start anything
        assertThat(errorOf(QOSCancel(h, congested))).isEqualTo(ERROR_INVALID_HANDLE);
        assertThat(errorOf(GetOverlappedResult(h, new Overlapped(), new int[1], false))).isEqualTo(ERROR_INVALID_HANDLE);
    }

    @Test
    void item2_closingTheHandleAbortsASynchronousWaiter() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicBoolean result = new AtomicBoolean(true);
        AtomicInteger error = new AtomicInteger();
        Thread waiter = Thread.ofVirtual().start(() -> {
            waiting.countDown();
            result.set(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, null));
            error.set(GetLastError());
        });
        assertThat(waiting.await(5, TimeUnit.SECONDS)).isTrue();
        while (h.inFlightCount() == 0 && waiter.isAlive()) {
            Thread.sleep(5);
        }
        assertThat(QOSCloseHandle(h)).isTrue();
        waiter.join(5_000);
        assertThat(waiter.isAlive()).isFalse();
        assertThat(result.get()).isFalse();
        assertThat(error.get()).isEqualTo(ERROR_OPERATION_ABORTED);
        assertThat(p.future.isCompletedExceptionally()).isTrue();
    }

    @Test
    void anInterruptedSynchronousWaiterCancelsItsRequest() throws Exception {
        QosHandle h = handle();
        Pending p = new Pending(h);
        int id = adaptiveFlow(h);
        AtomicBoolean result = new AtomicBoolean(true);
        AtomicInteger error = new AtomicInteger();
        AtomicBoolean interrupted = new AtomicBoolean();
        Thread waiter = Thread.ofPlatform().start(() -> {
            result.set(QOSNotifyFlow(h, id, QOSNotifyUncongested, null, null, 0, null));
            error.set(GetLastError());
            interrupted.set(Thread.currentThread().isInterrupted());
        });
        while (h.inFlightCount() == 0 && waiter.isAlive()) {
            Thread.sleep(5);
        }
        waiter.interrupt();
        waiter.join(5_000);
        assertThat(result.get()).isFalse();
        assertThat(error.get()).isEqualTo(ERROR_OPERATION_ABORTED);
        assertThat(interrupted.get()).as("interrupt status kept").isTrue();
        assertThat(p.future.isCancelled()).isTrue();
        assertThat(h.inFlightCount()).isZero();
    }

    @Test
    void aNotificationStartedOnAClosingHandleIsAborted() throws Exception {
        QosHandle h = handle();
        int id = adaptiveFlow(h);
        Overlapped ov = new Overlapped();
        CompletableFuture<Object> future = new CompletableFuture<>();
        // the handle closes between the engine accepting the request and the layer tracking it
        h.notifier = (flow, op, target) -> {
            QOSCloseHandle(h);
            return future;
        };
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, ov))).isEqualTo(ERROR_IO_PENDING);
        assertThat(ov.isCompleted()).isTrue();
        assertThat(ov.status()).isEqualTo(ERROR_OPERATION_ABORTED);
        assertThat(future.isCompletedExceptionally()).isTrue();
    }

    @Test
    void getOverlappedResultArgumentErrors() throws Exception {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        Overlapped ov = new Overlapped();
        assertThat(QOSQueryFlow(h, id, QOSQueryPacketPriority, new int[] {16}, buffer(16), 0, ov)).isTrue();
        assertThat(errorOf(GetOverlappedResult(h, null, new int[1], false))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(GetOverlappedResult(h, ov, null, false))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(GetOverlappedResult(h, ov, new int[0], false))).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(errorOf(GetOverlappedResult(null, ov, new int[1], false))).isEqualTo(ERROR_INVALID_HANDLE);
        QosHandle other = handle();
        assertThat(errorOf(GetOverlappedResult(other, ov, new int[1], false))).isEqualTo(ERROR_INVALID_PARAMETER);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
