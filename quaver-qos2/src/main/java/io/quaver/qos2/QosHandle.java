package io.quaver.qos2;

import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosFlow;
import io.quaver.QosSubsystem;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/// A QoS `HANDLE`, as returned by [Qos2#QOSCreateHandle]: opaque; `null` stands for NULL.
///
/// It wraps one [QosSubsystem] of the Java API. Besides, it keeps the futures of its
/// operations in flight (pending overlapped notifications and synchronous `QOSNotifyFlow`
/// calls still waiting), so that [Qos2#QOSCloseHandle] completes every one of them with
/// `ERROR_OPERATION_ABORTED` (995) even where the engine does not.
///
/// Instances are made only by `QOSCreateHandle`, so there are no "never issued" handles to
/// guard against; a closed handle is invalid (`ERROR_INVALID_HANDLE`) for every function.
public final class QosHandle {
    private final QosSubsystem subsystem;
    /// Futures of operations in flight; guarded by `this`.
    private final Set<CompletableFuture<?>> inFlight = new LinkedHashSet<>();
    /// Set once [#close] has aborted the operations in flight; guarded by `this`.
    private boolean drained;
    /// How `QOSNotifyFlow` reaches the engine; package-private so that tests can stand in a
    /// controllable future while the notification engine does not exist yet.
    volatile Notifier notifier = Notifier.ENGINE;

    QosHandle(QosSubsystem subsystem) {
        this.subsystem = Objects.requireNonNull(subsystem);
    }

    /// Requests one notification of a flow; returns the future that completes when the
    /// condition holds (with the available bandwidth for `QOSNotifyAvailable`).
    @FunctionalInterface
    interface Notifier {
        /// The Java API: [QosFlow#notifyCongested()], [QosFlow#notifyUncongested()],
        /// [QosFlow#notifyAvailable(long)].
        Notifier ENGINE = (flow, operation, targetBps) -> switch (operation) {
            case Qos2.QOSNotifyCongested -> flow.notifyCongested();
            case Qos2.QOSNotifyUncongested -> flow.notifyUncongested();
            case Qos2.QOSNotifyAvailable -> flow.notifyAvailable(targetBps);
            default -> throw new QosException(QosError.INVALID_PARAMETER, "unknown QOS_NOTIFY_FLOW " + operation);
        };

        CompletableFuture<?> request(QosFlow flow, int operation, long targetBps);
    }

    QosSubsystem subsystem() {
        return subsystem;
    }

    boolean isOpen() {
        return !subsystem.isClosed();
    }

    /// Closes the subsystem and aborts every operation in flight.
    ///
    /// @return `false` if the handle was closed already
    boolean close() {
        if (!subsystem.closeOnce()) {
            return false;
        }
        List<CompletableFuture<?>> aborted;
        synchronized (this) {
            drained = true;
            aborted = new ArrayList<>(inFlight);
            inFlight.clear();
        }
        QosException abort = aborted();
        for (CompletableFuture<?> f : aborted) {
            f.completeExceptionally(abort);
        }
        return true;
    }

    /// Registers an operation in flight.
    ///
    /// @return `false` if the handle has been closed (the caller aborts the operation)
    synchronized boolean track(CompletableFuture<?> future) {
        if (drained) {
            return false;
        }
        inFlight.add(future);
        return true;
    }

    synchronized void untrack(CompletableFuture<?> future) {
        inFlight.remove(future);
    }

    /// Number of operations in flight (for tests).
    synchronized int inFlightCount() {
        return inFlight.size();
    }

    static QosException aborted() {
        return new QosException(QosError.OPERATION_ABORTED, "the QoS handle was closed");
    }

    @Override
    public String toString() {
        return "QosHandle[" + (isOpen() ? "open" : "closed") + "]";
    }
}
