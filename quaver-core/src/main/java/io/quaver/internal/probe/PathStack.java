package io.quaver.internal.probe;

import io.quaver.internal.estimation.AvailableBandwidthEstimator;
import io.quaver.internal.estimation.PathEstimator;
import io.quaver.internal.estimation.ProbePlanner;

/// A prober's pure parts: its path model and its scheduler.
///
/// @param model     samples in, estimates out
/// @param scheduler what to send when
public record PathStack(PathModel model, ProbeScheduler scheduler) {

    /// The floor of ProbeGap's idle threshold ε for timestamps taken in Java user space on
    /// both ends: a probe's one-way delay varies by tens of µs on an idle path (scheduling,
    /// wake-ups), which the estimator's default floor (2 µs, meant for sub-µs stamps) would
    /// count as queueing, reading an idle link as nearly full.
    public static final long USER_SPACE_IDLE_THRESHOLD_NS = 150_000L;

    /// The estimator configuration the engine uses: the defaults, with ε's floor at
    /// [#USER_SPACE_IDLE_THRESHOLD_NS].
    public static PathEstimator.Config estimatorConfig() {
        AvailableBandwidthEstimator.Config a = AvailableBandwidthEstimator.Config.DEFAULT;
        return new PathEstimator.Config(PathEstimator.Config.DEFAULT.bottleneck(),
                new AvailableBandwidthEstimator.Config(a.windowNs(), a.minWindowSamples(), a.maxWindowNs(),
                        a.maxSamples(), a.minSamples(), USER_SPACE_IDLE_THRESHOLD_NS,
                        Math.max(a.maxIdleThresholdNs(), USER_SPACE_IDLE_THRESHOLD_NS), a.idleThresholdMtuShare(),
                        a.lossCountsAsBusy()),
                PathEstimator.Config.DEFAULT.rtt());
    }

    /// The estimation package's estimator and planner (the default).
    public static PathStack estimators() {
        EstimatorModel model = new EstimatorModel(new PathEstimator(estimatorConfig()));
        return new PathStack(model, new PlannerScheduler(new ProbePlanner(), model));
    }

    /// The interim stand-ins ([InterimPathModel], [InterimScheduler]), for comparison.
    public static PathStack interim() {
        return new PathStack(new InterimPathModel(), null);
    }
}
