package io.quaver.internal.platform;

/// Maps `CLOCK_REALTIME` instants (the kernel's receive timestamps) to the [System#nanoTime()]
/// domain (`CLOCK_MONOTONIC` on Linux), in nanoseconds.
///
/// The offset between the two clocks is sampled in rounds. One sample reads the monotonic
/// clock, the real-time clock, and the monotonic clock again: its offset is the real-time
/// reading minus the midpoint of the two monotonic ones, uncertain by half the bracket between
/// them. In a round the sample with the narrowest bracket wins (a read interrupted by
/// preemption has a wide one). Linux slews both clocks alike (NTP frequency corrections apply
/// to both), so the offset changes only when the real-time clock is stepped. A round's winner
/// therefore replaces the current offset when it is at least as precise, when the current one
/// is older than `maxAgeNs`, or when the two disagree by more than their uncertainties plus a
/// small tolerance (the real-time clock was stepped); otherwise the more precise current
/// offset stays.
///
/// Arithmetic is modular (two's complement), so the mapping stays exact whatever the epochs of
/// the two clocks are. Pure and not thread-safe: the caller supplies every reading and the
/// current time.
final class RealtimeClockMapper {
    /// Disagreement beyond the two uncertainties that still counts as the same offset.
    static final long STEP_TOLERANCE_NS = 20_000;

    private final long refreshIntervalNs;
    private final long maxAgeNs;

    private boolean ready;
    /// real-time minus monotonic
    private long offsetNs;
    private long uncertaintyNs;
    private long adoptedAtNs;
    private long roundEndedAtNs;

    private boolean roundHasSample;
    private long roundOffsetNs;
    private long roundUncertaintyNs;

    /// @param refreshIntervalNs how often a new round is due (> 0)
    /// @param maxAgeNs          how long a precise offset is kept against less precise rounds
    ///                          (≥ `refreshIntervalNs`)
    RealtimeClockMapper(long refreshIntervalNs, long maxAgeNs) {
        if (refreshIntervalNs <= 0 || maxAgeNs < refreshIntervalNs) {
            throw new IllegalArgumentException("refreshIntervalNs " + refreshIntervalNs + ", maxAgeNs " + maxAgeNs);
        }
        this.refreshIntervalNs = refreshIntervalNs;
        this.maxAgeNs = maxAgeNs;
    }

    /// Whether a round of samples is due: none adopted yet, or the last round ended
    /// `refreshIntervalNs` ago or more.
    boolean refreshDue(long monoNowNs) {
        return !ready || monoNowNs - roundEndedAtNs >= refreshIntervalNs;
    }

    /// Forces the next [#refreshDue] to answer `true` and the next round to be adopted (a
    /// caller that saw a mapped time it cannot believe suspects a clock step).
    void invalidate() {
        ready = false;
    }

    /// One sample of the current round. A sample whose second monotonic reading precedes the
    /// first is ignored.
    ///
    /// @param monoBeforeNs [System#nanoTime()] before reading the real-time clock
    /// @param realNs       the real-time clock, ns since the epoch
    /// @param monoAfterNs  [System#nanoTime()] after it
    void sample(long monoBeforeNs, long realNs, long monoAfterNs) {
        long bracketNs = monoAfterNs - monoBeforeNs;
        if (bracketNs < 0) {
            return;
        }
        long halfNs = (bracketNs + 1) / 2;
        if (!roundHasSample || halfNs < roundUncertaintyNs) {
            roundHasSample = true;
            roundOffsetNs = realNs - (monoBeforeNs + bracketNs / 2);
            roundUncertaintyNs = halfNs;
        }
    }

    /// Ends the round begun by the samples since the last call.
    ///
    /// @return whether the round's best sample was adopted
    boolean endRound(long monoNowNs) {
        if (!roundHasSample) {
            return false;
        }
        roundHasSample = false;
        roundEndedAtNs = monoNowNs;
        boolean adopt = !ready
                || roundUncertaintyNs <= uncertaintyNs
                || monoNowNs - adoptedAtNs >= maxAgeNs
                || Math.abs(roundOffsetNs - offsetNs) > roundUncertaintyNs + uncertaintyNs + STEP_TOLERANCE_NS;
        if (adopt) {
            ready = true;
            offsetNs = roundOffsetNs;
            uncertaintyNs = roundUncertaintyNs;
            adoptedAtNs = monoNowNs;
        }
        return adopt;
    }

    /// Whether an offset has been adopted.
    boolean isReady() {
        return ready;
    }

    /// The adopted offset (real-time minus monotonic), ns.
    long offsetNs() {
        return offsetNs;
    }

    /// Half the bracket of the adopted sample, ns.
    long uncertaintyNs() {
        return uncertaintyNs;
    }

    /// `realNs` (ns since the epoch) on the monotonic clock. Meaningful once [#isReady()].
    long toMonotonicNs(long realNs) {
        return realNs - offsetNs;
    }
}
