package io.quaver.internal.probe;

import io.quaver.internal.estimation.PlannerState;
import io.quaver.internal.estimation.ProbeAction;
import io.quaver.internal.estimation.ProbePlanner;

/// The [ProbeScheduler] of the estimation package: [ProbePlanner] (fast first measurement
/// with growing trains and token-bucket confirmation, 1 ms dithered probegap while an
/// adaptive flow is active, upkeep within 1 %). It reads the [EstimatorModel]'s snapshot and
/// learns of train results from it (no callbacks needed).
public final class PlannerScheduler implements ProbeScheduler {
    private final ProbePlanner planner;
    private final EstimatorModel model;

    public PlannerScheduler(ProbePlanner planner, EstimatorModel model) {
        this.planner = planner;
        this.model = model;
    }

    @Override
    public Action next(long nowNs, boolean active, PathEstimates path) {
        return switch (planner.nextAction(nowNs, new PlannerState(active, model.snapshot(nowNs)))) {
            case ProbeAction.SendTrain t -> new SendTrain(t.probeIpBytes(), t.count(), t.gapNs());
            case ProbeAction.SendProbegap p -> new SendProbegap(p.probeIpBytes());
            case ProbeAction.Idle i -> new Idle(i.untilNs());
        };
    }

    @Override
    public void requestFresh(long nowNs) {
        planner.requestFresh(nowNs);
    }

    @Override
    public void requestStream(long nowNs) {
        planner.requestStream(nowNs);
    }

    @Override
    public void onTrainResult(long nowNs, TrainOutcome outcome) {
        if (outcome != TrainOutcome.NO_SINK) {
            planner.onTrainResult(nowNs, outcome == TrainOutcome.SUMMARY);
        } else {
            planner.onTrainAbandoned(nowNs);
        }
    }
}
