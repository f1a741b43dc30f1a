package io.quaver.internal.adaptive;

import io.quaver.QosError;
import io.quaver.QosException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongFunction;

/// The pending `QOSNotifyFlow` requests of a subsystem: pure bookkeeping of qwave.md §5.9 and
/// §5.11 with decisions.md items 2, 8, 9, 13 and 24.
///
/// - At most one pending request per type per flow; a second → `ALREADY_EXISTS` (183).
/// - A condition that already holds completes at once (the registration carries the
///   completion and stores nothing).
/// - Each completion is one-shot: it removes the request.
/// - `QOSCancel` ([#cancel]), removing the flow ([#removeFlow]) or closing the handle
///   ([#abortAll], or [#removeFlow] for each of its flows) complete with `OPERATION_ABORTED`
///   (995); cancelling a future that is unknown or already complete → `NOT_FOUND` (1168).
/// - More than `maxPending` requests pending at once in the registry, or more than an owner's
///   limit pending on the flows of one owner (a handle: [#assignFlow]) →
///   `NO_SYSTEM_RESOURCES` (1450, decisions.md item 24); a request that completes at once holds
///   no slot.
/// - `QOSNotifyAvailable` with a target at or below the flow's admitted rate →
///   `INVALID_PARAMETER` (87).
///
/// Not thread-safe: the engine calls it under its own lock. Calls that change state return the
/// [Completion]s to perform; the caller performs them after releasing the lock. A future that
/// the application cancelled itself (`future.cancel`) is dropped the next time it is seen.
public final class NotificationRegistry {
    private final int maxPending;
    /// Completed per type (congested, uncongested, available), then cancelled or aborted.
    private final LongAdder[] counts = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
    private final Map<Integer, Entry[]> byFlow = new HashMap<>();
    private final IdentityHashMap<CompletableFuture<?>, Entry> byFuture = new IdentityHashMap<>();
    private final Map<Integer, Owner> flowOwners = new HashMap<>();
    private final Map<Object, Owner> owners = new HashMap<>();

    /// The requests of one owner (a handle): its limit, what is pending, its flows.
    private static final class Owner {
        final Object key;
        final int limit;
        int pending;
        int flows;

        Owner(Object key, int limit) {
            this.key = key;
            this.limit = limit;
        }
    }

    /// @param maxPending the limit of pending requests (`QosLimits.maxPendingNotifications`)
    public NotificationRegistry(int maxPending) {
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending must be at least 1, was " + maxPending);
        }
        this.maxPending = maxPending;
    }

    /// A registered request: its future, and the completions to perform at once (empty while
    /// it is pending; one when its condition already held).
    ///
    /// @param future      the future the application gets
    /// @param completions to perform after the caller's lock is released
    public record Registration<T>(CompletableFuture<T> future, List<Completion> completions) {
        /// Whether the request completed at once.
        public boolean immediate() {
            return !completions.isEmpty();
        }
    }

    private record Entry(int flowId, NotificationType type, long targetBps, CompletableFuture<?> future, Owner owner) {
    }

    /// Assigns a flow to an owner (a handle) whose flows may hold at most `limit` pending
    /// requests together; the assignment ends with [#removeFlow]. The owner's limit is the one
    /// given with its first flow.
    ///
    /// @param owner the owner's identity (compared with `equals`)
    /// @param limit at least 1
    public void assignFlow(int flowId, Object owner, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, was " + limit);
        }
        if (flowOwners.containsKey(flowId)) {
            return;
        }
        Owner o = owners.computeIfAbsent(owner, k -> new Owner(k, limit));
        o.flows++;
        flowOwners.put(flowId, o);
    }

    /// Requests pending on the flows of `owner`.
    public int pendingOf(Object owner) {
        Owner o = owners.get(owner);
        return o == null ? 0 : o.pending;
    }

    /// `QOSNotifyCongested`: completes when the path of `flowId` is congested.
    ///
    /// @param current the path's state now (as the flow's detector reports it)
    public Registration<Void> notifyCongested(int flowId, CongestionState current) {
        return registerState(flowId, NotificationType.CONGESTED, current == CongestionState.CONGESTED);
    }

    /// `QOSNotifyUncongested`: completes when the path of `flowId` is not congested.
    ///
    /// @param current the path's state now
    public Registration<Void> notifyUncongested(int flowId, CongestionState current) {
        return registerState(flowId, NotificationType.UNCONGESTED, current == CongestionState.UNCONGESTED);
    }

    /// `QOSNotifyAvailable`: completes with the available bandwidth once the flow can be raised
    /// to `targetBps`.
    ///
    /// @param targetBps       the total rate wanted, bits/s; must be above `admittedBps`
    /// @param admittedBps     the flow's currently admitted rate, 0 if none
    /// @param availableNowBps present when the condition already holds (e.g.
    ///                        `AvailableWatch.availableFor(targetBps, nowNs)`): the value to
    ///                        complete with at once
    public Registration<Long> notifyAvailable(int flowId, long targetBps, long admittedBps,
                                              OptionalLong availableNowBps) {
        if (targetBps <= 0) {
            throw new QosException(QosError.INVALID_PARAMETER, "the target must be > 0 bit/s, was "
                    + Long.toUnsignedString(targetBps));
        }
        if (targetBps <= admittedBps) {
            throw new QosException(QosError.INVALID_PARAMETER, "the target " + targetBps
                    + " bit/s is not above the flow's admitted rate " + admittedBps + " bit/s");
        }
        checkFree(flowId, NotificationType.AVAILABLE);
        CompletableFuture<Long> future = new CompletableFuture<>();
        if (availableNowBps.isPresent()) {
            counts[2].increment();
            return new Registration<>(future, List.of(Completion.success(future, availableNowBps.getAsLong())));
        }
        store(new Entry(flowId, NotificationType.AVAILABLE, targetBps, future, flowOwners.get(flowId)));
        return new Registration<>(future, List.of());
    }

    private Registration<Void> registerState(int flowId, NotificationType type, boolean holdsNow) {
        checkFree(flowId, type);
        CompletableFuture<Void> future = new CompletableFuture<>();
        if (holdsNow) {
            counts[type == NotificationType.CONGESTED ? 0 : 1].increment();
            return new Registration<>(future, List.of(Completion.success(future, null)));
        }
        store(new Entry(flowId, type, 0, future, flowOwners.get(flowId)));
        return new Registration<>(future, List.of());
    }

    private void checkFree(int flowId, NotificationType type) {
        Entry[] slots = byFlow.get(flowId);
        Entry existing = slots == null ? null : slots[type.ordinal()];
        if (existing != null && existing.future.isDone()) {
            drop(existing); // the application cancelled it itself
            existing = null;
        }
        if (existing != null) {
            throw new QosException(QosError.ALREADY_EXISTS, "a " + type + " notification is already pending on flow "
                    + Integer.toUnsignedString(flowId));
        }
    }

    private void store(Entry e) {
        if (byFuture.size() >= maxPending) {
            purgeDone();
            if (byFuture.size() >= maxPending) {
                throw new QosException(QosError.NO_SYSTEM_RESOURCES, "pending notification limit reached ("
                        + maxPending + ")");
            }
        }
        Owner o = e.owner;
        if (o != null && o.pending >= o.limit) {
            purgeDone();
            if (o.pending >= o.limit) {
                throw new QosException(QosError.NO_SYSTEM_RESOURCES, "the handle's limit of pending notification"
                        + " requests is reached (" + o.limit + ", QosLimits.maxPendingNotifications)");
            }
        }
        if (o != null) {
            o.pending++;
        }
        byFlow.computeIfAbsent(e.flowId, k -> new Entry[NotificationType.values().length])[e.type.ordinal()] = e;
        byFuture.put(e.future, e);
    }

    private void drop(Entry e) {
        released(e, byFuture.remove(e.future));
        Entry[] slots = byFlow.get(e.flowId);
        if (slots != null && slots[e.type.ordinal()] == e) {
            slots[e.type.ordinal()] = null;
            boolean empty = true;
            for (Entry s : slots) {
                empty &= s == null;
            }
            if (empty) {
                byFlow.remove(e.flowId);
            }
        }
    }

    private void purgeDone() {
        List<Entry> done = new ArrayList<>();
        for (Entry e : byFuture.values()) {
            if (e.future.isDone()) {
                done.add(e);
            }
        }
        done.forEach(this::drop);
    }

    /// The path of `flowId` is now in `state`: completes the flow's pending request of the
    /// matching type (CONGESTED or UNCONGESTED).
    public List<Completion> onCongestionState(int flowId, CongestionState state) {
        NotificationType type = state == CongestionState.CONGESTED ? NotificationType.CONGESTED
                : NotificationType.UNCONGESTED;
        Entry e = pending(flowId, type);
        if (e == null) {
            return List.of();
        }
        drop(e);
        counts[type == NotificationType.CONGESTED ? 0 : 1].increment();
        return List.of(completeVoid(e));
    }

    @SuppressWarnings("unchecked")
    private static Completion completeVoid(Entry e) {
        return Completion.success((CompletableFuture<Void>) e.future, null);
    }

    /// New estimates for the path of `flowId`: completes its pending Available request if
    /// `availableFor.apply(target)` is present (typically `t -> watch.availableFor(t, nowNs)`).
    @SuppressWarnings("unchecked")
    public List<Completion> onAvailability(int flowId, LongFunction<OptionalLong> availableFor) {
        Entry e = pending(flowId, NotificationType.AVAILABLE);
        if (e == null) {
            return List.of();
        }
        OptionalLong available = availableFor.apply(e.targetBps);
        if (available.isEmpty()) {
            return List.of();
        }
        drop(e);
        counts[2].increment();
        return List.of(Completion.success((CompletableFuture<Long>) e.future, available.getAsLong()));
    }

    /// `QOSCancel`: aborts the pending request behind `future` with 995.
    ///
    /// @throws QosException `NOT_FOUND` (1168) when the future is unknown or already complete
    public List<Completion> cancel(CompletableFuture<?> future) {
        Entry e = future == null ? null : byFuture.get(future);
        if (e == null || e.future.isDone()) {
            if (e != null) {
                drop(e);
            }
            throw new QosException(QosError.NOT_FOUND, "no pending notification for this request");
        }
        drop(e);
        counts[3].increment();
        return List.of(Completion.failure(e.future, aborted("the request was cancelled")));
    }

    /// The flow is gone (removed, its last socket left, or its handle closed): aborts its
    /// pending requests with 995.
    public List<Completion> removeFlow(int flowId) {
        List<Completion> out = failFlow(flowId, aborted("flow " + Integer.toUnsignedString(flowId) + " was removed"));
        Owner owner = flowOwners.remove(flowId);
        if (owner != null && --owner.flows == 0) {
            owners.remove(owner.key);
        }
        return out;
    }

    /// The flow's path failed (sink gone → 1232, egress interface down → 57, address removed
    /// → 59): its pending requests complete with `error`; the flow stays assigned to its
    /// handle and may register again.
    public List<Completion> failFlow(int flowId, QosException error) {
        Entry[] slots = byFlow.remove(flowId);
        if (slots == null) {
            return List.of();
        }
        List<Completion> out = new ArrayList<>(slots.length);
        for (Entry e : slots) {
            if (e != null) {
                released(e, byFuture.remove(e.future));
                counts[3].increment();
                out.add(Completion.failure(e.future, error));
            }
        }
        return out;
    }

    /// Notifications completed so far: congested, uncongested, available, then those cancelled
    /// or aborted (995).
    public long[] completedCounts() {
        return new long[] {counts[0].sum(), counts[1].sum(), counts[2].sum(), counts[3].sum()};
    }

    /// Every pending request is aborted with 995 (the registry's handle or engine closes).
    public List<Completion> abortAll() {
        List<Completion> out = new ArrayList<>(byFuture.size());
        QosException abort = aborted("the QoS handle was closed");
        for (Iterator<Entry> it = byFuture.values().iterator(); it.hasNext(); ) {
            out.add(Completion.failure(it.next().future, abort));
            counts[3].increment();
            it.remove();
        }
        byFlow.clear();
        for (Owner o : owners.values()) {
            o.pending = 0;
        }
        return out;
    }

    /// A request left the registry (`removed` is what the future index held for it).
    private static void released(Entry e, Entry removed) {
        if (removed != null && e.owner != null) {
            e.owner.pending--;
        }
    }

    private Entry pending(int flowId, NotificationType type) {
        Entry[] slots = byFlow.get(flowId);
        Entry e = slots == null ? null : slots[type.ordinal()];
        if (e != null && e.future.isDone()) {
            drop(e);
            return null;
        }
        return e;
    }

    /// Whether a request of `type` is pending on the flow.
    public boolean isPending(int flowId, NotificationType type) {
        return pending(flowId, type) != null;
    }

    /// The target of the flow's pending Available request, if any.
    public OptionalLong pendingAvailableTarget(int flowId) {
        Entry e = pending(flowId, NotificationType.AVAILABLE);
        return e == null ? OptionalLong.empty() : OptionalLong.of(e.targetBps);
    }

    /// Requests pending now (futures the application cancelled itself may still count until
    /// they are next seen).
    public int pendingCount() {
        return byFuture.size();
    }

    private static QosException aborted(String why) {
        return new QosException(QosError.OPERATION_ABORTED, why);
    }
}
