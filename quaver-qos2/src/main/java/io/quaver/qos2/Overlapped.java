package io.quaver.qos2;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/// `OVERLAPPED`: the caller's record of one asynchronous `QOSSetFlow`, `QOSQueryFlow` or
/// `QOSNotifyFlow` (qwave.md §2.5).
///
/// Create one with `new Overlapped()` and pass it to a call; give each operation that may be
/// pending at the same time its own `Overlapped`. After a call:
///
/// - returned `true`: the operation completed synchronously and the `Overlapped` is already
///   completed with [Qos2#ERROR_SUCCESS] (see [Qos2] for this choice);
/// - returned `false` with `GetLastError() == ERROR_IO_PENDING` (997): the operation was
///   accepted; the `Overlapped` completes later, with [Qos2#ERROR_SUCCESS], the operation's
///   error, or [Qos2#ERROR_OPERATION_ABORTED] (995) after [Qos2#QOSCancel] or
///   [Qos2#QOSCloseHandle];
/// - returned `false` with any other error: the operation failed at once and the `Overlapped`
///   was not touched.
///
/// ```java
/// Overlapped ov = new Overlapped();
/// if (!QOSNotifyFlow(h, flowId, QOSNotifyCongested, null, null, 0, ov)
///         && GetLastError() != ERROR_IO_PENDING) {
///     fail(GetLastError());
/// }
/// ov.await(Duration.ofSeconds(30));           // like WaitForSingleObject(ov.hEvent, ...)
/// int[] bytes = new int[1];
/// boolean ok = GetOverlappedResult(h, ov, bytes, false);
/// ```
///
/// An `Overlapped` may be reused once its operation has completed; starting an operation with
/// one that is still pending fails with `ERROR_INVALID_PARAMETER` (87), where Win32 leaves the
/// behaviour undefined. The object is thread-safe: completion happens on whichever thread
/// completes the operation, and [#await] and [#status] may be used from any thread; results
/// written into the caller's `Buffer` and `Size` happen-before [#isCompleted] returns `true`.
public final class Overlapped {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition completion = lock.newCondition();
    /// The most recent operation started with this overlapped; `null` before the first.
    private Operation current;
    private int status = Qos2.ERROR_SUCCESS;
    private int bytes;

    /// A fresh overlapped, not yet used by any operation.
    public Overlapped() {
    }

    /// One operation started with an overlapped: its handle and, when pending in the engine,
    /// the future that completes it.
    static final class Operation {
        final QosHandle handle;
        final CompletableFuture<?> future;
        boolean done;

        Operation(QosHandle handle, CompletableFuture<?> future) {
            this.handle = handle;
            this.future = future;
        }
    }

    /// Whether the most recent operation started with this overlapped has completed
    /// (`HasOverlappedIoCompleted`). `false` before the first operation.
    public boolean isCompleted() {
        lock.lock();
        try {
            return current != null && current.done;
        } finally {
            lock.unlock();
        }
    }

    /// Whether an operation started with this overlapped is still pending.
    public boolean isPending() {
        lock.lock();
        try {
            return current != null && !current.done;
        } finally {
            lock.unlock();
        }
    }

    /// The Win32 status of the most recent operation: [Qos2#ERROR_IO_PENDING] (997) while it
    /// is pending, its completion code once completed ([Qos2#ERROR_SUCCESS] on success), and
    /// [Qos2#ERROR_SUCCESS] before the first operation.
    public int status() {
        lock.lock();
        try {
            if (current == null) {
                return Qos2.ERROR_SUCCESS;
            }
            return current.done ? status : Qos2.ERROR_IO_PENDING;
        } finally {
            lock.unlock();
        }
    }

    /// The number of bytes the completed operation wrote into the caller's `Buffer` (8 for a
    /// completed `QOSNotifyAvailable`, the struct size for `QOSQueryFlow`, 0 for `QOSSetFlow`
    /// and the congestion notifications); 0 while pending or after a failure.
    public int bytesTransferred() {
        lock.lock();
        try {
            return current != null && current.done ? bytes : 0;
        } finally {
            lock.unlock();
        }
    }

    /// Waits until the most recent operation started with this overlapped has completed (if no
    /// operation was started yet, until one is started and completes).
    ///
    /// @param timeout how long to wait at most; zero or negative just polls
    /// @return `true` if completed, `false` if the timeout elapsed first
    /// @throws InterruptedException if the waiting thread is interrupted
    public boolean await(Duration timeout) throws InterruptedException {
        long nanos = timeout.isNegative() ? 0 : saturatedNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (current == null || !current.done) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = completion.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /// Waits without a time limit; used by `GetOverlappedResult(…, wait = true)`.
    void awaitCompletion() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (current == null || !current.done) {
                completion.await();
            }
        } finally {
            lock.unlock();
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    // ------------------------------------------------------------------ the layer's side

    /// The status and byte count of the most recent operation, read together.
    record Outcome(int status, int bytes) {
    }

    Outcome outcome() {
        lock.lock();
        try {
            if (current == null) {
                return new Outcome(Qos2.ERROR_SUCCESS, 0);
            }
            return current.done ? new Outcome(status, bytes) : new Outcome(Qos2.ERROR_IO_PENDING, 0);
        } finally {
            lock.unlock();
        }
    }

    /// The operation in flight, or `null` when none is pending.
    Operation pendingOperation() {
        lock.lock();
        try {
            return current != null && !current.done ? current : null;
        } finally {
            lock.unlock();
        }
    }

    /// The handle of the most recent operation, or `null` before the first.
    QosHandle lastHandle() {
        lock.lock();
        try {
            return current == null ? null : current.handle;
        } finally {
            lock.unlock();
        }
    }

    /// Starts a pending operation: status becomes [Qos2#ERROR_IO_PENDING].
    ///
    /// @return the operation, or `null` if another operation is still pending on this
    ///         overlapped (misuse; the caller reports `ERROR_INVALID_PARAMETER`)
    Operation begin(QosHandle handle, CompletableFuture<?> future) {
        lock.lock();
        try {
            if (current != null && !current.done) {
                return null;
            }
            current = new Operation(handle, future);
            status = Qos2.ERROR_IO_PENDING;
            bytes = 0;
            return current;
        } finally {
            lock.unlock();
        }
    }

    /// Records an operation that completed synchronously with success.
    ///
    /// @return `false` if another operation is still pending on this overlapped (misuse)
    boolean completeNow(QosHandle handle, int bytesTransferred) {
        lock.lock();
        try {
            if (current != null && !current.done) {
                return false;
            }
            current = new Operation(handle, null);
            current.done = true;
            status = Qos2.ERROR_SUCCESS;
            bytes = bytesTransferred;
            completion.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /// Completes `op` if it is still this overlapped's pending operation: runs `output` (which
    /// writes the result into the caller's memory; should it fail, the operation completes with
    /// the mapped error instead) first, then publishes status and byte count
    /// and wakes the waiters. A later completion of the same operation is ignored, so the first
    /// of a result, a cancel and a close wins.
    ///
    /// @return whether this call completed the operation
    boolean complete(Operation op, int completionStatus, int bytesTransferred, Runnable output) {
        lock.lock();
        try {
            if (current != op || op.done) {
                return false;
            }
            int st = completionStatus;
            int n = bytesTransferred;
            if (output != null) {
                try {
                    output.run();
                } catch (RuntimeException | OutOfMemoryError e) {
                    st = Qos2.codeOf(e); // the caller's buffer could not take the result
                    n = 0;
                }
            }
            op.done = true;
            status = st;
            bytes = n;
            completion.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            if (current == null) {
                return "Overlapped[unused]";
            }
            return current.done ? "Overlapped[completed, status=" + status + ", bytes=" + bytes + "]"
                    : "Overlapped[pending]";
        } finally {
            lock.unlock();
        }
    }
}
