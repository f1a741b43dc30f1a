package io.quaver.qos2;

import io.quaver.QosError;
import io.quaver.QosException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ReadOnlyBufferException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// No exception escapes a qos2 function: QosExceptions become their codes, everything else a
/// documented code (decisions.md item 24 for allocation failures).
class ErrorMappingTest extends Qos2TestBase {

    @Test
    void exceptionsMapToWin32Codes() {
        for (QosError e : QosError.values()) {
            assertThat(codeOf(new QosException(e, "x"))).isEqualTo(e.code());
        }
        assertThat(codeOf(new OutOfMemoryError())).isEqualTo(ERROR_NOT_ENOUGH_MEMORY);
        assertThat(codeOf(new CancellationException())).isEqualTo(ERROR_OPERATION_ABORTED);
        assertThat(codeOf(new SecurityException())).isEqualTo(ERROR_ACCESS_DENIED);
        assertThat(codeOf(new UnsupportedOperationException())).isEqualTo(ERROR_NOT_SUPPORTED);
        assertThat(codeOf(new ReadOnlyBufferException())).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(codeOf(new UncheckedIOException(new IOException("engine socket")))).isEqualTo(ERROR_IO_DEVICE);
        assertThat(codeOf(new IllegalArgumentException())).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(codeOf(new IllegalStateException())).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(codeOf(new NullPointerException())).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(codeOf(new ClassCastException())).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(codeOf(new IndexOutOfBoundsException())).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(codeOf(new ArithmeticException())).isEqualTo(ERROR_GEN_FAILURE);
        // wrappers of futures are unwrapped
        assertThat(codeOf(new CompletionException(new QosException(QosError.RETRY, "x")))).isEqualTo(ERROR_RETRY);
        assertThat(codeOf(new ExecutionException(new OutOfMemoryError()))).isEqualTo(ERROR_NOT_ENOUGH_MEMORY);
    }

    @Test
    void anAllocationFailureBelowTheLayerIsNotEnoughMemory() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        h.notifier = (flow, op, target) -> {
            throw new OutOfMemoryError("simulated");
        };
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, null)))
                .isEqualTo(ERROR_NOT_ENOUGH_MEMORY);
    }

    @Test
    void anUnexpectedRuntimeExceptionIsAGeneralFailure() throws IOException {
        QosHandle h = handle();
        int id = addFlow(h, connectedUdp(V4_PEER), null, QOSTrafficTypeVoice, 0);
        h.notifier = (flow, op, target) -> {
            throw new ArithmeticException("bug");
        };
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, new Overlapped())))
                .isEqualTo(ERROR_GEN_FAILURE);
        h.notifier = (flow, op, target) -> null;
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, null)))
                .as("no future from the engine").isEqualTo(ERROR_GEN_FAILURE);
        h.notifier = (flow, op, target) -> CompletableFuture.failedFuture(new UncheckedIOException(new IOException("x")));
        assertThat(errorOf(QOSNotifyFlow(h, id, QOSNotifyCongested, null, null, 0, new Overlapped())))
                .as("an already failed future").isEqualTo(ERROR_IO_DEVICE);
    }
}
