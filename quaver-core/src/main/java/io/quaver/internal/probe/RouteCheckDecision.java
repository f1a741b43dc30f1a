package io.quaver.internal.probe;

import io.quaver.internal.qlpb.Observation;

/// The initiator's route-check decision ([MS-QLPB] §3.1.5.2), pure. Fed each Route Check
/// Summary in order; [#decided()] becomes non-null once the answer is known.
///
/// * an inversion → supported at once (the priority packet overtook best-effort ones);
/// * loss reported twice in a row → not supported (tagged oversized frames are dropped);
/// * the fifth summary → supported iff it is "no issue" (qwave.md §8.5 [AMBIG]: the worked
///   example, where five clean summaries mean "Prioritization Supported", is followed);
/// * the session's end → supported iff the last observation was "no issue" ([#atEnd()]).
public final class RouteCheckDecision {
    /// Rounds per session.
    public static final int MAX_ROUNDS = 5;

    private Observation last;
    private int summaries;
    private Boolean decided;

    /// Feeds one summary; returns the decision if it is now known.
    public Boolean onSummary(Observation observation) {
        if (decided != null) {
            return decided;
        }
        summaries++;
        if (observation == Observation.INVERSION) {
            decided = Boolean.TRUE;
        } else if (observation == Observation.LOSS && last == Observation.LOSS) {
            decided = Boolean.FALSE;
        } else if (summaries >= MAX_ROUNDS) {
            decided = observation == Observation.NO_ISSUE;
        }
        last = observation;
        return decided;
    }

    /// The decision at the session's end time.
    public boolean atEnd() {
        return decided != null ? decided : last == Observation.NO_ISSUE;
    }

    /// The decision, or `null` while undecided.
    public Boolean decided() {
        return decided;
    }

    /// Summaries seen.
    public int summaries() {
        return summaries;
    }
}
