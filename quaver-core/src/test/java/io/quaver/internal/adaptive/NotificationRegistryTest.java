package io.quaver.internal.adaptive;

import io.quaver.QosError;
import io.quaver.QosException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The notification rules of qwave.md §5.9 / §5.11 and decisions.md items 2, 8, 9, 13, 24.
class NotificationRegistryTest {
    private static final int FLOW = 7;
    private static final int OTHER = 8;

    private static QosError errorOf(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        try {
            f.join();
        } catch (CompletionException e) {
            return ((QosException) e.getCause()).error();
        }
        throw new AssertionError("not failed");
    }

    @Test
    void aPendingRequestCompletesOnceWhenItsConditionArrives() {
        NotificationRegistry r = new NotificationRegistry(16);
        var reg = r.notifyCongested(FLOW, CongestionState.UNCONGESTED);
        assertThat(reg.immediate()).isFalse();
        assertThat(reg.future()).isNotDone();
        assertThat(r.onCongestionState(FLOW, CongestionState.UNCONGESTED)).isEmpty();
        assertThat(r.onCongestionState(OTHER, CongestionState.CONGESTED)).isEmpty();
        List<Completion> done = r.onCongestionState(FLOW, CongestionState.CONGESTED);
        assertThat(done).hasSize(1);
        assertThat(reg.future()).as("not completed under the caller's lock").isNotDone();
        Completion.performAll(done);
        assertThat(reg.future()).isCompletedWithValue(null);
        // one-shot: gone, and a second change completes nothing
        assertThat(r.isPending(FLOW, NotificationType.CONGESTED)).isFalse();
        assertThat(r.onCongestionState(FLOW, CongestionState.CONGESTED)).isEmpty();
        assertThat(r.pendingCount()).isZero();
    }

    @Test
    void aSecondRequestOfTheSameTypeIsAlreadyExistsOtherTypesMayBePendingTogether() {
        NotificationRegistry r = new NotificationRegistry(16);
        r.notifyCongested(FLOW, CongestionState.UNCONGESTED);
        assertThatThrownBy(() -> r.notifyCongested(FLOW, CongestionState.UNCONGESTED))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(183));
        r.notifyUncongested(FLOW, CongestionState.CONGESTED);
        r.notifyAvailable(FLOW, 5_000_000, 1_000_000, OptionalLong.empty());
        assertThatThrownBy(() -> r.notifyAvailable(FLOW, 6_000_000, 1_000_000, OptionalLong.empty()))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.error()).isEqualTo(QosError.ALREADY_EXISTS));
        r.notifyCongested(OTHER, CongestionState.UNCONGESTED); // another flow is independent
        assertThat(r.pendingCount()).isEqualTo(4);
    }

    @Test
    void aConditionThatAlreadyHoldsCompletesAtOnceAndStoresNothing() {
        NotificationRegistry r = new NotificationRegistry(16);
        var c = r.notifyCongested(FLOW, CongestionState.CONGESTED);
        var u = r.notifyUncongested(FLOW, CongestionState.UNCONGESTED);
        var a = r.notifyAvailable(FLOW, 5_000_000, 0, OptionalLong.of(7_000_000));
        assertThat(List.of(c.immediate(), u.immediate(), a.immediate())).containsOnly(true);
        assertThat(r.pendingCount()).isZero();
        Completion.performAll(c.completions());
        Completion.performAll(u.completions());
        Completion.performAll(a.completions());
        assertThat(c.future()).isCompleted();
        assertThat(u.future()).isCompleted();
        assertThat(a.future()).isCompletedWithValue(7_000_000L); // the available bandwidth (item 13)
        // and may be asked again at once
        assertThat(r.notifyCongested(FLOW, CongestionState.CONGESTED).immediate()).isTrue();
    }

    @Test
    void availableCompletesWithTheAvailableBandwidthWhenTheWatchAllows() {
        NotificationRegistry r = new NotificationRegistry(16);
        var reg = r.notifyAvailable(FLOW, 10_000_000, 1_000_000, OptionalLong.empty());
        assertThat(r.pendingAvailableTarget(FLOW)).hasValue(10_000_000);
        assertThat(r.onAvailability(FLOW, t -> OptionalLong.empty())).isEmpty();
        long[] asked = {0};
        List<Completion> done = r.onAvailability(FLOW, t -> {
            asked[0] = t;
            return OptionalLong.of(9_800_000);
        });
        assertThat(asked[0]).isEqualTo(10_000_000);
        Completion.performAll(done);
        assertThat(reg.future()).isCompletedWithValue(9_800_000L);
        assertThat(r.pendingAvailableTarget(FLOW)).isEmpty();
    }

    @Test
    void aTargetAtOrBelowTheAdmittedRateIsInvalidParameter() {
        NotificationRegistry r = new NotificationRegistry(16);
        for (long target : new long[] {1_000_000, 999_999, 0, -5}) {
            assertThatThrownBy(() -> r.notifyAvailable(FLOW, target, 1_000_000, OptionalLong.empty()))
                    .as("target %d", target)
                    .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(87));
        }
        assertThat(r.pendingCount()).isZero();
        assertThat(r.notifyAvailable(FLOW, 1_000_001, 1_000_000, OptionalLong.empty()).immediate()).isFalse();
    }

    @Test
    void cancelAbortsWith995AndAnUnknownOrCompletedRequestIsNotFound() {
        NotificationRegistry r = new NotificationRegistry(16);
        var reg = r.notifyUncongested(FLOW, CongestionState.CONGESTED);
        List<Completion> done = r.cancel(reg.future());
        assertThat(reg.future()).isNotDone();
        Completion.performAll(done);
        assertThat(errorOf(reg.future())).isEqualTo(QosError.OPERATION_ABORTED);
        assertThat(QosError.OPERATION_ABORTED.code()).isEqualTo(995);
        assertThat(r.isPending(FLOW, NotificationType.UNCONGESTED)).isFalse();
        // already completed, unknown, null → 1168 (decisions.md item 9)
        assertThatThrownBy(() -> r.cancel(reg.future()))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(1168));
        assertThatThrownBy(() -> r.cancel(new CompletableFuture<Void>()))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(1168));
        assertThatThrownBy(() -> r.cancel(null))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(1168));
        // the type is free again
        assertThat(r.notifyUncongested(FLOW, CongestionState.CONGESTED).immediate()).isFalse();
    }

    @Test
    void removingAFlowOrClosingAbortsItsPendingRequestsWith995() {
        NotificationRegistry r = new NotificationRegistry(16);
        var c = r.notifyCongested(FLOW, CongestionState.UNCONGESTED);
        var a = r.notifyAvailable(FLOW, 5_000_000, 0, OptionalLong.empty());
        var other = r.notifyCongested(OTHER, CongestionState.UNCONGESTED);
        List<Completion> done = r.removeFlow(FLOW);
        assertThat(done).hasSize(2);
        Completion.performAll(done);
        assertThat(errorOf(c.future())).isEqualTo(QosError.OPERATION_ABORTED);
        assertThat(errorOf(a.future())).isEqualTo(QosError.OPERATION_ABORTED);
        assertThat(other.future()).isNotDone();
        assertThat(r.removeFlow(FLOW)).isEmpty();
        Completion.performAll(r.abortAll());
        assertThat(errorOf(other.future())).isEqualTo(QosError.OPERATION_ABORTED);
        assertThat(r.pendingCount()).isZero();
    }

    @Test
    void theLimitIsNoSystemResourcesAndFreedSlotsAreReused() {
        NotificationRegistry r = new NotificationRegistry(3);
        var first = r.notifyCongested(1, CongestionState.UNCONGESTED);
        r.notifyCongested(2, CongestionState.UNCONGESTED);
        r.notifyCongested(3, CongestionState.UNCONGESTED);
        assertThatThrownBy(() -> r.notifyCongested(4, CongestionState.UNCONGESTED))
                .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.code()).isEqualTo(1450));
        // a request that completes at once holds no slot
        assertThat(r.notifyCongested(4, CongestionState.CONGESTED).immediate()).isTrue();
        Completion.performAll(r.onCongestionState(1, CongestionState.CONGESTED));
        assertThat(first.future()).isCompleted();
        assertThat(r.notifyCongested(4, CongestionState.UNCONGESTED).immediate()).isFalse();
    }

    @Test
    void aFutureTheApplicationCancelledItselfFreesItsTypeAndSlot() {
        NotificationRegistry r = new NotificationRegistry(1);
        var reg = r.notifyCongested(FLOW, CongestionState.UNCONGESTED);
        reg.future().cancel(false);
        var again = r.notifyCongested(FLOW, CongestionState.UNCONGESTED);
        assertThat(again.future()).isNotSameAs(reg.future());
        assertThat(r.pendingCount()).isOne();
        List<Completion> done = r.onCongestionState(FLOW, CongestionState.CONGESTED);
        Completion.performAll(done);
        assertThat(again.future()).isCompleted();
        assertThat(reg.future()).isCancelled();
    }

    @Test
    void performingACompletionTwiceOrAfterTheApplicationCancelledIsHarmless() {
        NotificationRegistry r = new NotificationRegistry(4);
        var reg = r.notifyCongested(FLOW, CongestionState.UNCONGESTED);
        List<Completion> done = r.onCongestionState(FLOW, CongestionState.CONGESTED);
        reg.future().cancel(false);
        assertThat(done.getFirst().perform()).isFalse();
        assertThat(reg.future()).isCancelled();
    }

    @Test
    void anOwnersFlowsShareItsBoundAndReleaseSlotsOnEveryPath() {
        NotificationRegistry r = new NotificationRegistry(Integer.MAX_VALUE);
        Object handle = new Object();
        Object other = new Object();
        r.assignFlow(FLOW, handle, 3);
        r.assignFlow(OTHER, handle, 3);
        r.assignFlow(9, other, 3);
        var c = r.notifyCongested(FLOW, CongestionState.UNCONGESTED);
        r.notifyAvailable(FLOW, 5_000_000, 0, OptionalLong.empty());
        r.notifyCongested(OTHER, CongestionState.UNCONGESTED);
        assertThat(r.pendingOf(handle)).isEqualTo(3);
        assertThatThrownBy(() -> r.notifyUncongested(OTHER, CongestionState.CONGESTED))
                .isInstanceOfSatisfying(QosException.class,
                        e -> assertThat(e.error()).isEqualTo(QosError.NO_SYSTEM_RESOURCES));
        // completing at once holds no slot; another owner is not affected
        assertThat(r.notifyUncongested(OTHER, CongestionState.UNCONGESTED).immediate()).isTrue();
        r.notifyCongested(9, CongestionState.UNCONGESTED);
        assertThat(r.pendingOf(other)).isEqualTo(1);
        // a completion, a cancel, a future cancelled by the application, a removal all free slots
        Completion.performAll(r.onCongestionState(FLOW, CongestionState.CONGESTED));
        assertThat(c.future()).isDone();
        assertThat(r.pendingOf(handle)).isEqualTo(2);
        var u = r.notifyUncongested(OTHER, CongestionState.CONGESTED);
        Completion.performAll(r.cancel(u.future()));
        assertThat(r.pendingOf(handle)).isEqualTo(2);
        var again = r.notifyUncongested(OTHER, CongestionState.CONGESTED);
        again.future().cancel(true); // the application's own cancel: released when next seen
        r.notifyCongested(FLOW, CongestionState.UNCONGESTED);
        assertThat(r.pendingOf(handle)).isEqualTo(3);
        Completion.performAll(r.removeFlow(FLOW));
        assertThat(r.pendingOf(handle)).isEqualTo(1);
        Completion.performAll(r.removeFlow(OTHER));
        assertThat(r.pendingOf(handle)).as("the owner is forgotten with its last flow").isZero();
        Completion.performAll(r.abortAll());
        assertThat(r.pendingOf(other)).isZero();
        assertThat(r.pendingCount()).isZero();
    }
}
