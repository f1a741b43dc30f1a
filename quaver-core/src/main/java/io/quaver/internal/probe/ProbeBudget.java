package io.quaver.internal.probe;

/// The probe-load budget, pure: how often trains and probegap probes may go out so that
/// steady tracking stays within 1 % of the estimated capacity (goal G6): probegap ≤ 0.3 %,
/// trains ≤ 0.6 % in upkeep; trains ≤ 2 % while an adaptive flow is active (whose 1 ms
/// probegap cadence is qWAVE's own).
public final class ProbeBudget {
    /// Share of the capacity probegap may use in upkeep.
    public static final double UPKEEP_PROBEGAP_SHARE = 0.003;
    /// Share of the capacity trains may use in upkeep.
    public static final double UPKEEP_TRAIN_SHARE = 0.006;
    /// Share of the capacity trains may use while an adaptive flow is active.
    public static final double ACTIVE_TRAIN_SHARE = 0.02;

    private ProbeBudget() {
    }

    /// Probegap interval in upkeep: within [#UPKEEP_PROBEGAP_SHARE] of `capacityBps`, between
    /// 20 ms and 500 ms (200 ms when the capacity is unknown).
    public static long upkeepProbegapIntervalNs(int probeIpBytes, long capacityBps) {
        if (capacityBps <= 0) {
            return 200_000_000L;
        }
        double ns = probeIpBytes * 8 * 1e9 / (UPKEEP_PROBEGAP_SHARE * capacityBps);
        return Math.clamp((long) ns, 20_000_000L, 500_000_000L);
    }

    /// Train interval in upkeep: within [#UPKEEP_TRAIN_SHARE] of `capacityBps`, between 10 s
    /// and 120 s.
    public static long upkeepTrainIntervalNs(long trainBits, long capacityBps) {
        double ns = trainBits * 1e9 / (UPKEEP_TRAIN_SHARE * Math.max(1, capacityBps));
        return Math.clamp((long) ns, 10_000_000_000L, 120_000_000_000L);
    }

    /// Train interval while an adaptive flow is active: within [#ACTIVE_TRAIN_SHARE], between
    /// 5 s and 60 s.
    public static long activeTrainIntervalNs(long trainBits, long capacityBps) {
        double ns = trainBits * 1e9 / (ACTIVE_TRAIN_SHARE * Math.max(1, capacityBps));
        return Math.clamp((long) ns, 5_000_000_000L, 60_000_000_000L);
    }
}
