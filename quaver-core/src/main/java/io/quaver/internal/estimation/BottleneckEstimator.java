package io.quaver.internal.estimation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/// Bottleneck capacity of one path, combined over a window of trains.
///
/// Each train is analysed by [TrainDispersion] (coalescing, token-bucket knee, cross traffic).
/// The trains of the window (at most [Config#maxTrains()] within [Config#windowNs()] of the
/// newest) are then combined robustly:
///
/// * **Sustained rate** = the quality-weighted median of the trains' sustained rates.
/// * **Token bucket** (goal G3): the knee trains of the window give the bucket — rate R (median
///   tail rate), peak P, and burst allowance B̂ = the largest B̂ among knee trains that agree
///   (±20 %) with R: a bucket that was not full when a train started (an earlier train, or the
///   application, drained it) can only make B̂ smaller, never larger. The bucket is remembered
///   for [Config#bucketMemoryNs()] after its last knee, beyond the window: upkeep trains are
///   deliberately too short to drain it, and a knee-free train that ran ≥ 1.3 R but was too
///   short to pass the bucket (≤ 1.25·B̂·P/(P − R)) is *head-only* — it informs the peak rate,
///   never the sustained one, so that burst is never reported as capacity. A knee-free train
///   at ≥ 1.3 R that was long enough to pass the bucket contradicts it: the bucket is
///   forgotten with the trains before it (unless the train arrived as fast as it was sent:
///   a compressed train contradicts nothing).
/// * **Path change**: when the two newest sustained samples agree (±10 %) and both differ by
///   > 25 % from the median of the older ones, the older trains are dropped, so a changed path
///   is followed within two trains rather than a window.
/// * **Consensus**: the trains agreeing with the best-supported one are kept when two agree;
///   otherwise a train more than 2× faster than the others counts only if it is clean and
///   the best ([#confirmed(List)]): one compressed train is not a faster path.
/// * **Unslowed trains** (G3): when no knee was seen and every train arrived as fast as it was
///   sent ([TrainAnalysis#senderLimited()]), the estimate is the highest of their rates,
///   flagged [BottleneckEstimate#lowerBound()]: the sustained rate is unknown and a bucket
///   whose burst allowance is at least the largest train cannot be excluded.
/// * **Coalescing** is reported when at least half of the window's trains showed it, with the
///   median period.
///
/// Pure: no clock, no I/O; not thread-safe.
public final class BottleneckEstimator {
    /// Tunables.
    ///
    /// @param maxTrains      most trains kept
    /// @param windowNs       trains older than this (relative to the newest) are dropped
    /// @param bucketMemoryNs a token bucket is remembered this long after its last knee
    public record Config(int maxTrains, long windowNs, long bucketMemoryNs) {
        /// 9 trains within 300 s (upkeep trains come every 10–120 s); buckets kept 30 min.
        public static final Config DEFAULT = new Config(9, 300_000_000_000L, 1_800_000_000_000L);

        public Config {
            if (maxTrains < 1 || windowNs <= 0 || bucketMemoryNs < 0) {
                throw new IllegalArgumentException("maxTrains >= 1, windowNs > 0, bucketMemoryNs >= 0");
            }
        }
    }

    private record Entry(long atNs, TrainAnalysis a) {
    }

    /// A token bucket seen in knee trains.
    private record Bucket(long rateBps, long peakBps, long burstBytes, long seenAtNs) {
        /// The most a train at the peak rate can carry before the bucket empties, with slack.
        double absorbableBytes() {
            double p = Math.max(peakBps, rateBps * 1.05);
            return 1.25 * burstBytes * p / (p - rateBps) + 1500;
        }

        boolean fasterThanSustained(TrainAnalysis a) {
            return !a.kneeSeen() && a.rateBps() >= HEAD_ONLY_RATIO * rateBps;
        }

        boolean headOnly(TrainAnalysis a) {
            return fasterThanSustained(a) && a.trainBytes() <= absorbableBytes();
        }

        boolean contradictedBy(TrainAnalysis a) {
            return fasterThanSustained(a) && a.trainBytes() > absorbableBytes();
        }
    }

    static final double HEAD_ONLY_RATIO = 1.3;
    static final double BURST_AGREEMENT = 0.2;
    static final double CHANGE_AGREEMENT = 0.1;
    static final double CHANGE_JUMP = 0.25;
    static final double UNCONFIRMED_RATIO = 2.0;
    static final double CONFIRM_AGREEMENT = 0.25;
    static final double CONFIDENT_QUALITY = 0.9;

    private final Config config;
    private final List<Entry> entries = new ArrayList<>();
    private Bucket bucket;
    private BottleneckEstimate cached;
    private boolean dirty;

    public BottleneckEstimator() {
        this(Config.DEFAULT);
    }

    public BottleneckEstimator(Config config) {
        this.config = config;
    }

    /// Analyses a train that arrived at `nowNs` (the caller's clock) and adds it to the window.
    ///
    /// @return the train's own analysis
    public TrainAnalysis onTrain(long nowNs, TrainSample train) {
        TrainAnalysis a = TrainDispersion.analyse(train);
        add(nowNs, a);
        return a;
    }

    /// Adds an already analysed train.
    public void add(long nowNs, TrainAnalysis a) {
        Entry added = new Entry(nowNs, a);
        entries.add(added);
        while (entries.size() > config.maxTrains()) {
            entries.removeFirst();
        }
        entries.removeIf(e -> nowNs - e.atNs > config.windowNs());
        if (a.valid() && !a.senderLimited() && bucket != null && bucket.contradictedBy(a)) {
            bucket = null;
            entries.removeIf(e -> e != added);
        }
        updateBucket(nowNs);
        detectChange();
        dirty = true;
    }

    /// The current estimate, absent before the first valid train.
    public Optional<BottleneckEstimate> estimate() {
        if (dirty) {
            cached = aggregate();
            dirty = false;
        }
        return Optional.ofNullable(cached);
    }

    /// Forgets every train and any remembered bucket.
    public void reset() {
        entries.clear();
        bucket = null;
        cached = null;
        dirty = false;
    }

    private void updateBucket(long nowNs) {
        List<Entry> knees = entries.stream().filter(e -> e.a.valid() && e.a.kneeSeen()).toList();
        if (!knees.isEmpty()) {
            long rate = median(knees.stream().mapToLong(e -> e.a.rateBps()).toArray());
            long peak = median(knees.stream().mapToLong(e -> e.a.peakRateBps()).toArray());
            long burst = knees.stream().filter(e -> Math.abs(e.a.rateBps() - rate) <= BURST_AGREEMENT * rate)
                    .mapToLong(e -> e.a.burstBytes()).max().orElse(-1);
            if (burst >= 0) {
                bucket = new Bucket(rate, peak, burst, knees.getLast().atNs);
            }
        } else if (bucket != null && nowNs - bucket.seenAtNs > config.bucketMemoryNs()) {
            bucket = null;
        }
    }

    private boolean sustainedSample(TrainAnalysis a) {
        return a.valid() && (bucket == null || !bucket.headOnly(a));
    }

    private void detectChange() {
        List<Entry> samples = entries.stream().filter(e -> sustainedSample(e.a) && !e.a.senderLimited()).toList();
        if (samples.size() < 4) {
            return;
        }
        Entry last = samples.get(samples.size() - 1);
        Entry prev = samples.get(samples.size() - 2);
        double r1 = last.a.rateBps();
        double r2 = prev.a.rateBps();
        if (Math.abs(r1 - r2) > CHANGE_AGREEMENT * Math.max(r1, r2)) {
            return;
        }
        long med = median(samples.subList(0, samples.size() - 2).stream().mapToLong(e -> e.a.rateBps()).toArray());
        if (Math.abs((r1 + r2) / 2 - med) > CHANGE_JUMP * med) {
            entries.removeIf(e -> e != last && e != prev);
            if (!last.a.kneeSeen() || !prev.a.kneeSeen()) {
                bucket = null;
            }
            updateBucket(last.atNs);
        }
    }

    private BottleneckEstimate aggregate() {
        List<TrainAnalysis> valid = new ArrayList<>();
        long newestAt = Long.MIN_VALUE;
        long maxTrainBytes = 0;
        for (Entry e : entries) {
            if (e.a.valid()) {
                valid.add(e.a);
                newestAt = e.atNs;
            }
            maxTrainBytes = Math.max(maxTrainBytes, e.a.trainBytes());
        }
        if (valid.isEmpty()) {
            return null;
        }
        List<TrainAnalysis> sustained = new ArrayList<>();
        long peak = 0;
        for (TrainAnalysis a : valid) {
            peak = Math.max(peak, a.peakRateBps());
            if (sustainedSample(a)) {
                sustained.add(a);
            }
        }
        // no knee and every train arrived as fast as it was sent: the path was never loaded, so
        // each rate is a lower bound (a sender stall makes one low, never a path faster), and
        // the best bound is the highest (the planner sizes its next train from it)
        boolean unslowed = bucket == null && !sustained.isEmpty()
                && sustained.stream().allMatch(TrainAnalysis::senderLimited);
        long highest = sustained.stream().mapToLong(TrainAnalysis::rateBps).max().orElse(0);
        sustained = confirmed(sustained);
        long rate;
        if (sustained.isEmpty()) {
            rate = bucket.rateBps(); // only head-only trains in the window: the remembered bucket stands
        } else if (unslowed) {
            rate = highest;
        } else {
            rate = weightedMedian(sustained);
        }
        long burst = bucket != null && Math.abs(bucket.rateBps() - rate) <= BURST_AGREEMENT * rate
                ? bucket.burstBytes() : -1;
        if (burst >= 0) {
            peak = Math.max(peak, bucket.peakBps());
        } else {
            peak = rate; // no knee behind the estimate: no separate peak
        }
        int coalesced = 0;
        long[] periods = new long[valid.size()];
        for (TrainAnalysis a : valid) {
            if (a.coalescingDetected()) {
                periods[coalesced++] = a.coalescingPeriodNs();
            }
        }
        boolean coalescing = coalesced * 2 >= valid.size();
        long period = coalescing ? median(Arrays.copyOf(periods, coalesced)) : 0;
        // quality: mean train quality, scaled by agreement with the estimate and by support
        double q = 0;
        int agree = 0;
        boolean limited = false;
        for (TrainAnalysis a : sustained) {
            q += a.quality();
            if (Math.abs(a.rateBps() - rate) <= 0.1 * rate) {
                agree++;
            }
            limited |= a.interfaceLimited() && a.rateBps() == rate;
        }
        int n = sustained.size();
        q = n == 0 ? 0.5 : q / n * ((double) agree / n) * Math.min(1.0, n / 3.0);
        // G3: a bucket of maxTrainBytes or more is possible; such a rate is reported flagged,
        // never as the sustained rate
        boolean lowerBound = unslowed && burst < 0;
        return new BottleneckEstimate(rate, Math.max(rate, peak), burst, coalescing, period, q, n, maxTrainBytes,
                limited, newestAt, lowerBound);
    }

    /// **Cross-train consensus** against trains distorted by a loaded host (a preempted
    /// sender, relay or receiver stretches a train or releases it compressed, at random rates
    /// on either side of the truth): the trains agreeing (±[#CONFIRM_AGREEMENT]) with the
    /// best-supported train (support = the summed weight of the trains agreeing with it) are
    /// kept when at least two agree. When no two trains agree, a train more than
    /// [#UNCONFIRMED_RATIO] × the weighted median of the others counts only if it is a clean
    /// train ([#CONFIDENT_QUALITY]) better than all of them: compression only ever makes a
    /// train look faster, so one fast train of doubtful quality is not a faster path. Trains
    /// that arrived about as fast as they were sent ([TrainAnalysis#senderLimited()]) count
    /// only when no other train does.
    static List<TrainAnalysis> confirmed(List<TrainAnalysis> all) {
        // a train that arrived as fast as it was sent only bounds the path from below; trains
        // that show the path's own dispersion are preferred
        List<TrainAnalysis> dispersed = all.stream().filter(a -> !a.senderLimited()).toList();
        List<TrainAnalysis> sustained = dispersed.isEmpty() ? all : dispersed;
        if (sustained.size() < 2) {
            return sustained;
        }
        TrainAnalysis anchor = null;
        double bestSupport = 0;
        for (TrainAnalysis a : sustained) {
            double support = 0;
            int agreeing = 0;
            for (TrainAnalysis o : sustained) {
                if (agree(a, o)) {
                    support += weight(o);
                    agreeing++;
                }
            }
            if (agreeing >= 2 && support > bestSupport) {
                bestSupport = support;
                anchor = a;
            }
        }
        if (anchor != null) {
            TrainAnalysis centre = anchor;
            return sustained.stream().filter(o -> agree(centre, o)).toList();
        }
        List<TrainAnalysis> kept = new ArrayList<>(sustained.size());
        for (TrainAnalysis a : sustained) {
            List<TrainAnalysis> others = new ArrayList<>(sustained);
            others.remove(a);
            boolean high = a.rateBps() > UNCONFIRMED_RATIO * weightedMedian(others);
            boolean confident = a.quality() >= CONFIDENT_QUALITY
                    && others.stream().allMatch(o -> o.quality() < a.quality());
            if (!high || confident) {
                kept.add(a);
            }
        }
        return kept.isEmpty() ? sustained : kept;
    }

    private static boolean agree(TrainAnalysis a, TrainAnalysis o) {
        return Math.abs(o.rateBps() - a.rateBps()) <= CONFIRM_AGREEMENT * a.rateBps();
    }

    private static double weight(TrainAnalysis a) {
        return a.quality() + 0.05;
    }

    private static long median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /// Median of the rates, each weighted by its quality (plus a floor so that no train counts
    /// for nothing).
    static long weightedMedian(List<TrainAnalysis> list) {
        List<TrainAnalysis> sorted = new ArrayList<>(list);
        sorted.sort(Comparator.comparingLong(TrainAnalysis::rateBps));
        double total = 0;
        for (TrainAnalysis a : sorted) {
            total += weight(a);
        }
        double acc = 0;
        for (int i = 0; i < sorted.size(); i++) {
            TrainAnalysis a = sorted.get(i);
            double w = weight(a);
            if (acc + w > total / 2) {
                return a.rateBps();
            }
            if (acc + w == total / 2 && i + 1 < sorted.size()) {
                return (a.rateBps() + sorted.get(i + 1).rateBps()) / 2;
            }
            acc += w;
        }
        return sorted.getLast().rateBps();
    }
}
