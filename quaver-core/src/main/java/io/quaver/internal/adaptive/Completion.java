package io.quaver.internal.adaptive;

import io.quaver.QosException;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/// A future completion that a state-changing call of [NotificationRegistry] decided on, to be
/// performed by the caller *after* it released its lock (completing a future runs the
/// application's dependent stages in the completing thread; architecture.md: no lock is held
/// while calling the application).
public final class Completion {
    private final CompletableFuture<Object> future;
    private final Object value;
    private final QosException error;

    @SuppressWarnings("unchecked")
    private Completion(CompletableFuture<?> future, Object value, QosException error) {
        this.future = (CompletableFuture<Object>) future;
        this.value = value;
        this.error = error;
    }

    static <T> Completion success(CompletableFuture<T> future, T value) {
        return new Completion(future, value, null);
    }

    static Completion failure(CompletableFuture<?> future, QosException error) {
        return new Completion(future, null, error);
    }

    /// Completes the future (no effect if something else completed it first, e.g. the
    /// application cancelled it).
    ///
    /// @return whether this call completed it
    public boolean perform() {
        return error == null ? future.complete(value) : future.completeExceptionally(error);
    }

    /// Performs every completion of the list, in order.
    public static void performAll(List<Completion> completions) {
        for (Completion c : completions) {
            c.perform();
        }
    }

    /// The future this completes.
    public CompletableFuture<?> future() {
        return future;
    }

    /// The value (`null` for Congested/Uncongested and for failures).
    public Object value() {
        return value;
    }

    /// The failure, or `null` for a success.
    public QosException error() {
        return error;
    }

    @Override
    public String toString() {
        return error == null ? "Completion[value=" + value + "]" : "Completion[error=" + error.error() + "]";
    }
}
