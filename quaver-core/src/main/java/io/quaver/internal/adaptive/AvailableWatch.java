package io.quaver.internal.adaptive;

import java.util.OptionalLong;

/// Decides when `QOSNotifyAvailable(target)` may complete (goal G8): the bandwidth a flow could
/// reach must have stayed at or above `target × (1 + margin)` for a whole dwell time (defaults:
/// 5 % margin, 500 ms). The margin is the hysteresis: a flow restored to exactly the rate the
/// path can carry would be congested again at once; 5 % over the target is left for
/// estimation error and for the rate's own jitter.
///
/// A flow could reach `available + its own rate`: the path's available bandwidth as the probes
/// measure it excludes every sender's traffic, the flow's own included, so a flow that dropped
/// to a tenth of its rate and waits to be restored compares the target with what is free plus
/// what it already uses. The watch keeps the path's available bandwidth; the flow's own rate
/// is added when asking ([#availableFor]). If the flow's rate changed within the dwell time,
/// the older samples already counted its higher rate as cross traffic, so the answer errs on
/// the safe side.
///
/// While the path is CONGESTED there is no headroom: [#onCongestion] and the state passed
/// with each estimate make a congested moment count as zero, never on estimates from before
/// the congestion (the SDK sample registers Available right after Congested, when the last
/// 500 ms of estimates still look fine). Once the path is uncongested again, the estimates
/// made while its queue had already drained — the detector's exit hold, still CONGESTED — count
/// after all ([#onDrainedSince]): the headroom existed from the moment the queue drained, so
/// the dwell runs from there rather than from the end of the hold (G8 counts from the
/// crossing). Available still never completes while the path is CONGESTED (the caller's rule).
///
/// One watch per path (tracked client), fed with every new estimate; it answers for any target,
/// so a new request whose condition already holds completes at once. Pure and single-threaded;
/// time is an argument.
public final class AvailableWatch {
    /// G8: the available bandwidth must stay above the target this long.
    public static final long DEFAULT_DWELL_NS = 500_000_000L;
    /// G8: ≥ 5 % above the target.
    public static final double DEFAULT_MARGIN = 0.05;
    /// An estimate older than this is no evidence (the path went quiet).
    public static final long DEFAULT_MAX_AGE_NS = 1_000_000_000L;

    private final long dwellNs;
    private final double margin;
    private final long maxAgeNs;

    private long[] atNs = new long[64];
    private long[] availableBps = new long[64];
    /// A congested moment: no headroom (unless [#onDrainedSince] frees it).
    private boolean[] blocked = new boolean[64];
    private int head;
    private int size;
    private long lastAvailableBps = -1;

    /// A watch with the G8 defaults (500 ms, 5 %, 1 s).
    public AvailableWatch() {
        this(DEFAULT_DWELL_NS, DEFAULT_MARGIN, DEFAULT_MAX_AGE_NS);
    }

    /// @param dwellNs  how long the headroom must hold
    /// @param margin   the fraction above the target that must hold (hysteresis), ≥ 0
    /// @param maxAgeNs how old the newest estimate may be
    public AvailableWatch(long dwellNs, double margin, long maxAgeNs) {
        if (dwellNs < 0 || !(margin >= 0) || maxAgeNs <= 0) {
            throw new IllegalArgumentException("dwell " + dwellNs + " ns, margin " + margin + ", max age " + maxAgeNs);
        }
        this.dwellNs = dwellNs;
        this.margin = margin;
        this.maxAgeNs = maxAgeNs;
    }

    /// A new available-bandwidth estimate of the path.
    ///
    /// @param nowNs        when it was made
    /// @param availableBps the path's available bandwidth, bits/s at the IP level
    /// @param state        the path's congestion state now (CONGESTED counts as no headroom)
    public void onEstimate(long nowNs, long availableBps, CongestionState state) {
        if (availableBps < 0) {
            throw new IllegalArgumentException("negative bandwidth: " + availableBps);
        }
        lastAvailableBps = availableBps;
        add(nowNs, availableBps, state == CongestionState.CONGESTED);
    }

    /// A congestion transition of the path (from the [CongestionDetector]): entering
    /// CONGESTED is a moment without headroom, whatever the last estimate said.
    public void onCongestion(Transition transition) {
        if (transition.to() == CongestionState.CONGESTED) {
            add(transition.atNs(), -1, true);
        }
    }

    /// The path is uncongested again and its queue had drained since `drainedSinceNs`: the
    /// estimates made from then on, while the path was still CONGESTED, count as headroom (the
    /// moment congestion was entered never does).
    public void onDrainedSince(long drainedSinceNs) {
        for (int i = size - 1; i >= 0 && atNs[idx(i)] - drainedSinceNs >= 0; i--) {
            if (availableBps[idx(i)] >= 0) {
                blocked[idx(i)] = false;
            }
        }
    }

    private void add(long nowNs, long available, boolean noHeadroom) {
        // keep one sample at or before now − dwell (it defines the value at the window's start)
        while (size >= 2 && nowNs - atNs[idx(1)] >= dwellNs) {
            head = (head + 1) & (atNs.length - 1);
            size--;
        }
        if (size == atNs.length) {
            grow();
        }
        atNs[idx(size)] = nowNs;
        availableBps[idx(size)] = available;
        blocked[idx(size)] = noHeadroom;
        size++;
    }

    /// Whether a flow now sending `ownRateBps` can be raised to `targetBps`: present, with the
    /// path's latest available bandwidth (the completion value, decisions.md item 13), when
    /// `available + ownRateBps` has stayed at or above `target × (1 + margin)` for the whole
    /// dwell time up to `nowNs`, without congestion.
    ///
    /// @param targetBps  the rate wanted, bits/s
    /// @param ownRateBps the flow's own current (admitted) rate, 0 if none
    /// @param nowNs      the time now
    public OptionalLong availableFor(long targetBps, long ownRateBps, long nowNs) {
        if (size == 0 || nowNs - atNs[idx(size - 1)] > maxAgeNs) {
            return OptionalLong.empty();
        }
        double needed = targetBps * (1 + margin) - ownRateBps;
        long windowStart = nowNs - dwellNs;
        boolean covered = false;
        for (int i = size - 1; i >= 0; i--) {
            long a = blocked[idx(i)] ? -1 : availableBps[idx(i)];
            if (a < 0 || a < needed) {
                return OptionalLong.empty();
            }
            if (atNs[idx(i)] - windowStart <= 0) {
                covered = true;
                break;
            }
        }
        return covered ? OptionalLong.of(lastAvailableBps) : OptionalLong.empty();
    }

    /// The latest available bandwidth, or -1 before any estimate.
    public long lastAvailableBps() {
        return lastAvailableBps;
    }

    /// Forgets every estimate (the path changed).
    public void reset() {
        head = 0;
        size = 0;
        lastAvailableBps = -1;
    }

    private int idx(int i) {
        return (head + i) & (atNs.length - 1);
    }

    private void grow() {
        int n = atNs.length;
        long[] at = new long[n * 2];
        long[] a = new long[n * 2];
        boolean[] b = new boolean[n * 2];
        for (int i = 0; i < size; i++) {
            at[i] = atNs[idx(i)];
            a[i] = availableBps[idx(i)];
            b[i] = blocked[idx(i)];
        }
        atNs = at;
        availableBps = a;
        blocked = b;
        head = 0;
    }
}
