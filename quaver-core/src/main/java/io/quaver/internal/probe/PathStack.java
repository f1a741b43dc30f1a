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
        return estimatorConfig(PathEstimator.AvailableMethod.AUTO);
    }

    /// The same with another available-bandwidth method.
    public static PathEstimator.Config estimatorConfig(PathEstimator.AvailableMethod method) {
        AvailableBandwidthEstimator.Config a = AvailableBandwidthEstimator.Config.DEFAULT;
        return new PathEstimator.Config(PathEstimator.Config.DEFAULT.bottleneck(),
                new AvailableBandwidthEstimator.Config(a.windowNs(), a.minWindowSamples(), a.maxWindowNs(),
                        a.maxSamples(), a.minSamples(), USER_SPACE_IDLE_THRESHOLD_NS,
                        Math.max(a.maxIdleThresholdNs(), USER_SPACE_IDLE_THRESHOLD_NS), a.idleThresholdMtuShare(),
                        a.lossCountsAsBusy()),
                PathEstimator.Config.DEFAULT.rtt()).withAvailableMethod(method);
    }

    /// The estimation package's estimator and planner (the default).
    public static PathStack estimators() {
        return estimators(PathEstimator.AvailableMethod.AUTO);
    }

    /// The estimation package's estimator and planner with one available-bandwidth method;
    /// [PathEstimator.AvailableMethod#PROBEGAP] also leaves out the paced streams (the stack
    /// before Spruce, for comparison).
    public static PathStack estimators(PathEstimator.AvailableMethod method) {
        EstimatorModel model = new EstimatorModel(new PathEstimator(estimatorConfig(method)));
        ProbePlanner planner = method == PathEstimator.AvailableMethod.PROBEGAP
                ? new ProbePlanner(ProbePlanner.Config.DEFAULT.withoutStreams(), ProbePlanner.DEFAULT_SEED)
                : new ProbePlanner();
        return new PathStack(model, new PlannerScheduler(planner, model));
    }

    /// The interim stand-ins ([InterimPathModel], [InterimScheduler]), for comparison.
    public static PathStack interim() {
        return new PathStack(new InterimPathModel(), null);
    }
}
