package io.quaver.internal.estimation;

import java.util.Arrays;
import java.util.Optional;

/// Available bandwidth from probegap one-way delays: **ProbeGap** (Lakshminarayanan,
/// Padmanabhan, Padhye, "Bandwidth Estimation in Broadband Access Networks", IMC 2004), the
/// method [MS-QLPB] cites for its probegap experiment (qwave.md §8.5).
///
/// Idea: a small probe that reaches an idle bottleneck sees the minimum one-way delay (OWD);
/// one that reaches a busy bottleneck waits. The fraction of probes that saw the floor is the
/// bottleneck's idle fraction, so available ≈ capacity × idle fraction — *relative to the
/// bottleneck estimate*, which must exist first (qwave.md §6.5).
///
/// What this implementation adds to the bare idea:
///
/// * **Clock offset**: OWDs are relative (initiator and sink clocks have unrelated epochs);
///   only OWD − floor is used.
/// * **Clock drift**: the floor is not a constant but a line. It is the lower convex hull
///   edge that maximises the line at the window's mean send time — the linear-programming
///   skew estimator of Moon, Skelly, Towsley, "Estimation and removal of clock skew from
///   network delay measurements" (INFOCOM 1999), O(n) on time-ordered samples.
/// * **Idle threshold** ε = max(2 µs, 2 % of an MTU's transmission time at the capacity),
///   so that it scales with how long a cross-traffic packet occupies the link.
/// * **Short-residual correction**: a probe that arrives just before a cross packet finishes
///   waits less than ε and would be counted idle. Near zero, the density of busy probes'
///   delays is flat (the residual service time is uniform), so the busy probes inside
///   (0, ε] are estimated by those inside (ε, 2ε] and moved to the busy side.
/// * **The probes' own load**: probes never meet each other (they are ≥ 0.75 ms apart), so
///   they sample only the time the link is not serving them, and cross traffic they delayed
///   eats idle time: the idle fraction seen is ≈ (1 − ρ_cross − ρ_probe) / (1 − ρ_probe),
///   with ρ_probe = probe bits / (window × capacity). The estimate inverts that (at 10 Mbit/s
///   qWAVE's 60-byte probes every 1 ms are 4.8 % of the link; uncorrected, 80 % cross traffic
///   read 12 % low in the tests).
/// * **Loss** counts as busy (a probe lost in a full queue met a busy link); duplicates are
///   dropped; reordering does not matter (samples are sorted by send time).
/// * **Sampling**: ProbeGap's fraction is a time average only if probes do not phase-lock
///   with periodic cross traffic; [ProbePlanner] dithers the probegap interval (uniform
///   0.75–1.25× the mean), the "mixing" condition of Baccelli, Machiraju, Veitch, Bolot, "The
///   role of PASTA in network measurement" (SIGCOMM 2006).
/// * **Train interference**: probes sent while a packet-pair train was crossing the bottleneck
///   are excluded ([#excludeSendWindow(long, long)]), and so are the probes after such a window
///   up to the first one that finds the bottleneck idle: cross traffic that arrived while the
///   train held the bottleneck queued behind it and drains only at `C − λ` (measured: 60 % CBR
///   behind a 10 Mbit/s `tbf` after the fast phase's trains read as 95 % busy with 10 ms waits
///   at first, and kept ProbeGap's window "bursty" for 2 s). The drain lasts `span·ρ/(1 − ρ)`,
///   which no fixed margin fits for every load; the first idle probe marks its end whatever the
///   load (skipping it biases the window by one probe per train), or [#MAX_DRAIN_NS] after
///   the window on a saturated bottleneck.
/// * **Timestamp noise** seen on the way back: a reflection's return trip carries no probe
///   load and, usually, little cross traffic, so the share of reflections whose return delay
///   stands more than ε above its own floor ([AvailableEstimate#reverseNoiseShare()]) measures
///   how often the measurement itself (a user-space relay, a sink or initiator woken late) adds
///   more than ε. ProbeGap counts such delays on the way out as queueing, so [PathEstimator]
///   trusts it less when that share is high (measured: 0.00 on the namespace test bed, 0.11–0.26
///   through the in-process emulator's relay, where ProbeGap read 35–60 % low).
///
/// Known limits: the timestamps must resolve a fraction of a packet's transmission time at
/// the bottleneck (ε ≥ 2 µs: fine to ~100 Mbit/s with sub-µs stamps; a sink whose receive
/// stamps are batched by interrupt coalescing inflates ε's noise); a bottleneck that is busy
/// for the whole window shows no floor.
///
/// An estimate is recomputed (O(n log n) over the window) at most once per 10 ms of new probe
/// send time, so a prober may ask for it on every probe.
///
/// Pure: time and samples are arguments; not thread-safe.
public final class AvailableBandwidthEstimator {
    /// Tunables.
    ///
    /// @param windowNs              probes sent within this of the newest one are used...
    /// @param minWindowSamples      ...or, if that is fewer, this many of the newest...
    /// @param maxWindowNs           ...but never older than this
    /// @param maxSamples            ring capacity
    /// @param minSamples            fewer probes in the window give no estimate
    /// @param minIdleThresholdNs    floor of ε (timestamp noise)
    /// @param maxIdleThresholdNs    ceiling of ε
    /// @param idleThresholdMtuShare ε as a share of an MTU (1500 B) transmission time
    /// @param lossCountsAsBusy      count missing sequence numbers as busy probes
    public record Config(long windowNs, int minWindowSamples, long maxWindowNs, int maxSamples, int minSamples,
                         long minIdleThresholdNs, long maxIdleThresholdNs, double idleThresholdMtuShare,
                         boolean lossCountsAsBusy) {
        /// 2 s window (≈ 2000 probes at qWAVE's 1 ms cadence), stretched to 1000 probes up to
        /// 10 s on slow paths where probegap is sparser; at least 50 probes.
        public static final Config DEFAULT = new Config(2_000_000_000L, 1000, 10_000_000_000L, 4096, 50, 2_000,
                200_000, 0.02, true);

        public Config {
            if (windowNs <= 0 || maxWindowNs < windowNs || minWindowSamples < 0 || maxSamples < 16
                    || minSamples < 2 || minSamples > maxSamples
                    || minIdleThresholdNs < 0 || maxIdleThresholdNs < minIdleThresholdNs
                    || idleThresholdMtuShare < 0) {
                throw new IllegalArgumentException("invalid config " + this);
            }
        }
    }

    static final int MTU_BYTES = 1500;
    /// No return trip known for a probe.
    public static final long NO_REVERSE = Long.MIN_VALUE;
    /// An estimate is recomputed at most once per this much of new probe send time (it
    /// covers seconds; the prober may ask every millisecond).
    static final long RECOMPUTE_NS = 10_000_000L;
    private static final int EXCLUSIONS = 8;
    /// A train's drain is over at the first idle probe after it, or this long after its
    /// exclusion window at the latest (a saturated bottleneck has no idle probe).
    static final long MAX_DRAIN_NS = 1_000_000_000L;

    private final Config config;
    private long[] seq;
    private long[] sendNs;
    private long[] owdNs;
    private long[] reverseOwdNs;
    private int[] sizes;
    private int count;
    private int next;
    private long newestSendNs = Long.MIN_VALUE;
    private long newestAtNs = Long.MIN_VALUE;
    private final long[] exclFrom = new long[EXCLUSIONS];
    private final long[] exclTo = new long[EXCLUSIONS];
    private int exclNext;
    private int exclCount;
    private long version;
    private long cachedVersion = -1;
    private long cachedCapacity;
    private long cachedNewestSendNs;
    private long exclusionsVersion;
    private long cachedExclusionsVersion = -1;
    private AvailableEstimate cached;

    public AvailableBandwidthEstimator() {
        this(Config.DEFAULT);
    }

    public AvailableBandwidthEstimator(Config config) {
        this.config = config;
    }

    /// One probegap probe that came back.
    ///
    /// @param sequence   the probe's sequence number (consecutive per probe sent)
    /// @param sendNs     the initiator's clock when the probe left
    /// @param sinkRecvNs   the sink's clock when it arrived, in ns (any epoch, may drift)
    /// @param probeIpBytes the probe's size at the IP level (its own load is corrected for)
    /// @param nowNs        the initiator's clock now (freshness only)
    public void onProbe(long sequence, long sendNs, long sinkRecvNs, int probeIpBytes, long nowNs) {
        onProbe(sequence, sendNs, sinkRecvNs, NO_REVERSE, probeIpBytes, nowNs);
    }

    /// One probegap probe that came back, with its return trip.
    ///
    /// @param reverseOwdNs the reflection's one-way delay, initiator receive time − sink send
    ///                     time (any epoch), or [#NO_REVERSE]
    public void onProbe(long sequence, long sendNs, long sinkRecvNs, long reverseOwdNs, int probeIpBytes,
                        long nowNs) {
        if (seq == null) {
            seq = new long[config.maxSamples()];
            this.sendNs = new long[config.maxSamples()];
            owdNs = new long[config.maxSamples()];
            this.reverseOwdNs = new long[config.maxSamples()];
            sizes = new int[config.maxSamples()];
        }
        seq[next] = sequence;
        sizes[next] = probeIpBytes;
        this.sendNs[next] = sendNs;
        owdNs[next] = sinkRecvNs - sendNs;
        this.reverseOwdNs[next] = reverseOwdNs;
        next = (next + 1) % seq.length;
        count = Math.min(count + 1, seq.length);
        newestSendNs = count == 1 ? sendNs : Math.max(newestSendNs, sendNs);
        newestAtNs = count == 1 ? nowNs : Math.max(newestAtNs, nowNs);
        version++;
    }

    /// Probes sent within `[fromNs, toNs]` (initiator clock) are ignored: a packet-pair train
    /// was crossing the bottleneck then and they would see its queue, not the cross traffic's.
    public void excludeSendWindow(long fromNs, long toNs) {
        exclFrom[exclNext] = fromNs;
        exclTo[exclNext] = toNs;
        exclNext = (exclNext + 1) % EXCLUSIONS;
        exclCount = Math.min(exclCount + 1, EXCLUSIONS);
        version++;
        exclusionsVersion++;
    }

    /// Forgets every probe.
    public void reset() {
        count = 0;
        next = 0;
        exclCount = 0;
        newestSendNs = Long.MIN_VALUE;
        cached = null;
        version++;
    }

    /// The estimate relative to `capacityBps` (the bottleneck estimate), absent without a
    /// capacity or with fewer than [Config#minSamples()] probes in the window.
    public Optional<AvailableEstimate> estimate(long capacityBps) {
        if (capacityBps <= 0 || count == 0) {
            return Optional.empty();
        }
        boolean fresh = cachedVersion == version
                || (cached != null && newestSendNs - cachedNewestSendNs < RECOMPUTE_NS);
        if (fresh && cachedCapacity == capacityBps && cachedExclusionsVersion == exclusionsVersion) {
            return Optional.ofNullable(cached);
        }
        cached = compute(capacityBps);
        cachedVersion = version;
        cachedCapacity = capacityBps;
        cachedNewestSendNs = newestSendNs;
        cachedExclusionsVersion = exclusionsVersion;
        return Optional.ofNullable(cached);
    }

    private boolean excluded(long t) {
        for (int i = 0; i < exclCount; i++) {
            if (t >= exclFrom[i] && t <= exclTo[i]) {
                return true;
            }
        }
        return false;
    }

    private long windowStart() {
        long from = newestSendNs - config.windowNs();
        int k = Math.min(config.minWindowSamples(), count);
        if (k > 0) {
            long[] sends = Arrays.copyOf(sendNs, count);
            Arrays.sort(sends);
            from = Math.min(from, sends[count - k]);
        }
        return Math.max(from, newestSendNs - config.maxWindowNs());
    }

    private AvailableEstimate compute(long capacityBps) {
        long from = windowStart();
        int bits = 32 - Integer.numberOfLeadingZeros(Math.max(1, count - 1));
        long[] keys = new long[count];
        int n = 0;
        int excludedCount = 0;
        for (int i = 0; i < count; i++) {
            if (sendNs[i] < from) {
                continue;
            }
            if (excluded(sendNs[i])) {
                excludedCount++;
                continue;
            }
            keys[n++] = ((sendNs[i] - from) << bits) | i; // sort by send time, primitive
        }
        if (n < config.minSamples()) {
            return null;
        }
        Arrays.sort(keys, 0, n);
        long mask = (1L << bits) - 1;
        int first = (int) (keys[0] & mask);
        long t0 = sendNs[first];
        long o0 = owdNs[first];
        double[] t = new double[n];
        double[] o = new double[n];
        long[] sq = new long[n];
        double[] rt = new double[n];
        double[] ro = new double[n];
        int rn = 0;
        long r0 = Long.MIN_VALUE;
        int m = 0;
        long minSeq = Long.MAX_VALUE;
        long maxSeq = Long.MIN_VALUE;
        long probeBytes = 0;
        for (int k = 0; k < n; k++) {
            int i = (int) (keys[k] & mask);
            if (isDuplicate(sq, m, seq[i])) {
                continue;
            }
            t[m] = sendNs[i] - t0;
            o[m] = owdNs[i] - o0;
            sq[m] = seq[i];
            m++;
            if (reverseOwdNs[i] != NO_REVERSE) {
                r0 = rn == 0 ? reverseOwdNs[i] : r0;
                rt[rn] = sendNs[i] - t0;
                ro[rn++] = reverseOwdNs[i] - r0;
            }
            minSeq = Math.min(minSeq, seq[i]);
            maxSeq = Math.max(maxSeq, seq[i]);
            probeBytes += sizes[i];
        }
        if (m < config.minSamples()) {
            return null;
        }
        double[] line = floorLine(t, o, m);
        double intercept = line[0];
        double slope = line[1];
        double epsNs = Math.clamp(config.idleThresholdMtuShare() * MTU_BYTES * 8e9 / capacityBps,
                (double) config.minIdleThresholdNs(), (double) config.maxIdleThresholdNs());
        int idle = 0;
        int band = 0;
        double[] busy = new double[m];
        int nBusy = 0;
        int drained = 0;
        long[] drainFrom = drainStarts(t0);
        int nextDrain = 0;
        double drainingUntil = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < m; k++) {
            double d = o[k] - (intercept + slope * t[k]);
            while (nextDrain < drainFrom.length && drainFrom[nextDrain] < t[k]) {
                // a train's exclusion window ended before this probe
                drainingUntil = drainFrom[nextDrain] + (double) MAX_DRAIN_NS;
                nextDrain++;
            }
            boolean draining = t[k] <= drainingUntil;
            if (draining && d > epsNs) {
                drained++; // the cross traffic queued behind the train is still draining
                continue;
            }
            drainingUntil = Double.NEGATIVE_INFINITY;
            if (d <= epsNs) {
                idle++;
            } else {
                busy[nBusy++] = d;
                if (d <= 2 * epsNs) {
                    band++;
                }
            }
        }
        long busyDelayNs = 0;
        if (nBusy > 0) {
            Arrays.sort(busy, 0, nBusy);
            busyDelayNs = Math.round(busy[nBusy / 2]);
        }
        int lost = 0;
        long range = maxSeq - minSeq + 1;
        int missing = (int) Math.clamp(range - m - excludedCount, 0, (long) m); // more: a sequence reset
        if (config.lossCountsAsBusy()) {
            lost = missing;
        }
        int counted = m - drained;
        if (counted < config.minSamples()) {
            return null;
        }
        double idleSeen = Math.max(0, idle - band) / (double) (counted + lost);
        // The probes' own load: they never meet each other, so they sample only the time the
        // link is not serving them, and cross traffic they delayed eats idle time:
        // idleSeen ≈ (1 − ρcross − ρprobe) / (1 − ρprobe).
        long windowNs = (long) t[m - 1];
        double spanNs = windowNs * (double) (m + missing) / Math.max(1, m + missing - 1);
        probeBytes += (long) missing * (probeBytes / m);
        double probeLoad = spanNs > 0 ? Math.min(0.5, probeBytes * 8e9 / (spanNs * capacityBps)) : 0;
        double idleFraction = Math.min(1.0, idleSeen * (1 - probeLoad) + probeLoad);
        long available = Math.round(capacityBps * idleFraction);
        return new AvailableEstimate(available, 1 - idleFraction, counted, windowNs, capacityBps, Math.round(epsNs),
                lost, slope * 1e6, newestAtNs, busyDelayNs, AvailableEstimate.Method.PROBEGAP,
                reverseNoiseShare(rt, ro, rn, epsNs));
    }

    /// The share of reflections whose return delay stands more than `epsNs` above the return
    /// trip's own floor line (drift removed as on the way out); 0 without return trips.
    static double reverseNoiseShare(double[] t, double[] o, int n, double epsNs) {
        if (n < 2) {
            return 0;
        }
        double[] line = floorLine(t, o, n);
        int over = 0;
        for (int k = 0; k < n; k++) {
            if (o[k] - (line[0] + line[1] * t[k]) > epsNs) {
                over++;
            }
        }
        return over / (double) n;
    }

    /// The ends of the exclusion windows, relative to `t0` (the window's first probe) and
    /// sorted: probes after each one are skipped until one finds the bottleneck idle. A window
    /// that ended before `t0`, less than [#MAX_DRAIN_NS] before, counts too: the window's
    /// first probes may still be in its drain.
    private long[] drainStarts(long t0) {
        long[] ends = new long[exclCount];
        int k = 0;
        for (int i = 0; i < exclCount; i++) {
            if (exclTo[i] != Long.MAX_VALUE && exclTo[i] != Long.MIN_VALUE && exclTo[i] - t0 > -MAX_DRAIN_NS) {
                ends[k++] = exclTo[i] - t0;
            }
        }
        ends = Arrays.copyOf(ends, k);
        Arrays.sort(ends);
        return ends;
    }

    /// Sequence numbers seen so far in this pass (small n: linear scan of the tail suffices
    /// because duplicates arrive close together in send order).
    private static boolean isDuplicate(long[] sq, int m, long s) {
        for (int k = m - 1; k >= Math.max(0, m - 64); k--) {
            if (sq[k] == s) {
                return true;
            }
        }
        return false;
    }

    /// The floor line `o = a + b·t` (Moon, Skelly, Towsley 1999): below every point, and as
    /// high as possible at the mean time — the lower convex hull's edge that spans the mean.
    /// `t` must be non-decreasing.
    static double[] floorLine(double[] t, double[] o, int m) {
        int[] hull = new int[m];
        int h = 0;
        for (int k = 0; k < m; k++) {
            while (h >= 2) {
                int a = hull[h - 2];
                int b = hull[h - 1];
                // drop b if it lies on or above segment a→k (lower hull keeps counter-clockwise turns)
                double cross = (t[b] - t[a]) * (o[k] - o[a]) - (o[b] - o[a]) * (t[k] - t[a]);
                if (cross <= 0) {
                    h--;
                } else {
                    break;
                }
            }
            hull[h++] = k;
        }
        if (h == 1 || t[hull[h - 1]] == t[hull[0]]) {
            double min = Double.MAX_VALUE;
            for (int k = 0; k < m; k++) {
                min = Math.min(min, o[k]);
            }
            return new double[] {min, 0};
        }
        double mean = 0;
        for (int k = 0; k < m; k++) {
            mean += t[k];
        }
        mean /= m;
        for (int j = 0; j + 1 < h; j++) {
            int a = hull[j];
            int b = hull[j + 1];
            if (t[b] >= mean && t[b] > t[a]) {
                double slope = (o[b] - o[a]) / (t[b] - t[a]);
                return new double[] {o[a] - slope * t[a], slope};
            }
        }
        int a = hull[h - 2];
        int b = hull[h - 1];
        double slope = (o[b] - o[a]) / (t[b] - t[a]);
        return new double[] {o[a] - slope * t[a], slope};
    }
}
