package io.quaver;

import java.time.Duration;

/// The thresholds of the congestion detector behind [QosFlow#notifyCongested()] and
/// [QosFlow#notifyUncongested()] (`QOSNotifyCongested` / `QOSNotifyUncongested`), set per handle
/// with [QosOptions#withCongestionThresholds]. Delays are *queuing* delays: one-way delay (or,
/// for a TCP flow without a sink, smoothed RTT) above the path's base delay.
///
/// The detector enters CONGESTED once one of these has held for `enterHold`: the delay gradient
/// says the queue grows while the queuing delay is at least `gradientMinQueue`; the queuing
/// delay is at least `queueDelay`; loss is at least `lossEnter`. It leaves CONGESTED once the
/// queuing delay has stayed at or below `drainedQueue`, with loss below `lossExit`, for
/// `exitHold`. The queuing delay is the minimum over `queueFloorWindow`, so delivery bursts
/// shorter than the window do not read as a queue.
///
/// ```java
/// var thresholds = CongestionThresholds.DEFAULT.withQueueDelay(Duration.ofMillis(40));
/// QosSubsystem.open(QosOptions.defaults().withCongestionThresholds(thresholds));
/// ```
///
/// @param queueFloorWindow the window of the queuing-delay minimum, > 0 and ≤ 10 s
/// @param gradientMinQueue the queuing delay below which a growing delay is not congestion, ≥ 0
/// @param queueDelay       the queuing delay that alone is congestion, > 0 and ≤ 10 s
/// @param drainedQueue     the queuing delay at or below which the queue counts as drained,
///                         ≥ 0 and ≤ `queueDelay`
/// @param enterHold        how long a congestion condition must hold, ≥ 0 and ≤ 10 s
/// @param exitHold         how long the drained condition must hold, ≥ 0 and ≤ 60 s
/// @param lossEnter        the loss fraction that is congestion, in (0, 1]
/// @param lossExit         the loss fraction below which loss no longer is, in [0, `lossEnter`]
public record CongestionThresholds(Duration queueFloorWindow, Duration gradientMinQueue, Duration queueDelay,
                                   Duration drainedQueue, Duration enterHold, Duration exitHold, double lossEnter,
                                   double lossExit) {
    private static final Duration TEN_S = Duration.ofSeconds(10);

    /// Quaver's defaults (tuned against goals G7–G9): floor window 40 ms, gradient guard 15 ms,
    /// queuing delay 60 ms (LEDBAT++'s target), drained at 10 ms, holds 10 ms / 300 ms, loss
    /// 10 % / 2 % (GoogCC's loss thresholds).
    public static final CongestionThresholds DEFAULT = new CongestionThresholds(Duration.ofMillis(40),
            Duration.ofMillis(15), Duration.ofMillis(60), Duration.ofMillis(10), Duration.ofMillis(10),
            Duration.ofMillis(300), 0.10, 0.02);

    /// @throws QosException [QosError#INVALID_PARAMETER] (87) for a missing or out-of-range value
    public CongestionThresholds {
        within("queueFloorWindow", queueFloorWindow, false, TEN_S);
        within("gradientMinQueue", gradientMinQueue, true, TEN_S);
        within("queueDelay", queueDelay, false, TEN_S);
        within("drainedQueue", drainedQueue, true, queueDelay);
        within("enterHold", enterHold, true, TEN_S);
        within("exitHold", exitHold, true, Duration.ofSeconds(60));
        if (!(lossEnter > 0 && lossEnter <= 1)) {
            throw invalid("lossEnter must be in (0, 1], was " + lossEnter);
        }
        if (!(lossExit >= 0 && lossExit <= lossEnter)) {
            throw invalid("lossExit must be in [0, lossEnter = " + lossEnter + "], was " + lossExit);
        }
    }

    private static void within(String name, Duration d, boolean zeroAllowed, Duration max) {
        if (d == null) {
            throw invalid(name + " is required");
        }
        if (d.isNegative() || (!zeroAllowed && d.isZero()) || d.compareTo(max) > 0) {
            throw invalid(name + " must be " + (zeroAllowed ? ">= 0" : "> 0") + " and <= " + max.toMillis()
                    + " ms, was " + d.toNanos() + " ns");
        }
    }

    private static QosException invalid(String message) {
        return new QosException(QosError.INVALID_PARAMETER, "congestion thresholds: " + message);
    }

    public CongestionThresholds withQueueDelay(Duration queueDelay) {
        return new CongestionThresholds(queueFloorWindow, gradientMinQueue, queueDelay, drainedQueue, enterHold,
                exitHold, lossEnter, lossExit);
    }

    public CongestionThresholds withGradientMinQueue(Duration gradientMinQueue) {
        return new CongestionThresholds(queueFloorWindow, gradientMinQueue, queueDelay, drainedQueue, enterHold,
                exitHold, lossEnter, lossExit);
    }

    public CongestionThresholds withDrainedQueue(Duration drainedQueue) {
        return new CongestionThresholds(queueFloorWindow, gradientMinQueue, queueDelay, drainedQueue, enterHold,
                exitHold, lossEnter, lossExit);
    }

    public CongestionThresholds withHolds(Duration enterHold, Duration exitHold) {
        return new CongestionThresholds(queueFloorWindow, gradientMinQueue, queueDelay, drainedQueue, enterHold,
                exitHold, lossEnter, lossExit);
    }

    public CongestionThresholds withLoss(double lossEnter, double lossExit) {
        return new CongestionThresholds(queueFloorWindow, gradientMinQueue, queueDelay, drainedQueue, enterHold,
                exitHold, lossEnter, lossExit);
    }

    public CongestionThresholds withQueueFloorWindow(Duration queueFloorWindow) {
        return new CongestionThresholds(queueFloorWindow, gradientMinQueue, queueDelay, drainedQueue, enterHold,
                exitHold, lossEnter, lossExit);
    }
}
