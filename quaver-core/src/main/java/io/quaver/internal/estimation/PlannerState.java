package io.quaver.internal.estimation;

import java.util.Objects;

/// What [ProbePlanner] needs to know about a client besides the time.
///
/// @param adaptiveFlowActive whether an adaptive flow to this client is open (probegap then
///                           runs continuously)
/// @param path               the client's current estimates ([PathEstimator#snapshot(long)])
public record PlannerState(boolean adaptiveFlowActive, PathSnapshot path) {
    public PlannerState {
        Objects.requireNonNull(path, "path");
    }
}
