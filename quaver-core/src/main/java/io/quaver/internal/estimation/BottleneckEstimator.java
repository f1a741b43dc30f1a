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
/// * **Sustained rate** = the quality-weighted median of the trains' sustained rates. Once a
///   knee has been seen, a knee-free train that ran ≥ 1.3× faster than the knee trains' tail
///   rate is a train that never got past the bucket: it informs the peak rate only (it would
///   otherwise report burst as capacity, goal G3).
/// * **Burst allowance** B̂ = the largest B̂ among knee trains that agree (±20 %) with the
///   sustained rate: a bucket that was not full when a train started (an earlier train drained
///   it) can only make B̂ smaller, never larger.
/// * **Path change**: when the two newest trains agree (±10 %) and both differ by > 25 % from
///   the older median, the older trains are dropped, so a changed path is followed within two
///   trains rather than a window.
/// * **Coalescing** is reported when at least half of the window's trains showed it, with the
///   median period.
///
/// Pure: no clock, no I/O; not thread-safe.
public final class BottleneckEstimator {
    /// Tunables.
    ///
    /// @param maxTrains most trains kept
    /// @param windowNs  trains older than this (relative to the newest) are dropped
    public record Config(int maxTrains, long windowNs) {
        /// 9 trains within 300 s (upkeep trains come every 10–120 s).
        public static final Config DEFAULT = new Config(9, 300_000_000_000L);

        public Config {
            if (maxTrains < 1 || windowNs <= 0) {
                throw new IllegalArgumentException("maxTrains >= 1 and windowNs > 0");
            }
        }
    }

    private record Entry(long atNs, TrainAnalysis a) {
    }

    static final double HEAD_ONLY_RATIO = 1.3;
    static final double BURST_AGREEMENT = 0.2;
    static final double CHANGE_AGREEMENT = 0.1;
    static final double CHANGE_JUMP = 0.25;

    private final Config config;
    private final List<Entry> entries = new ArrayList<>();
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
        entries.add(new Entry(nowNs, a));
        while (entries.size() > config.maxTrains()) {
            entries.removeFirst();
        }
        entries.removeIf(e -> nowNs - e.atNs > config.windowNs());
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

    /// Forgets every train.
    public void reset() {
        entries.clear();
        cached = null;
        dirty = false;
    }

    private void detectChange() {
        List<Entry> valid = entries.stream().filter(e -> e.a.valid()).toList();
        if (valid.size() < 4) {
            return;
        }
        TrainAnalysis last = valid.get(valid.size() - 1).a;
        TrainAnalysis prev = valid.get(valid.size() - 2).a;
        if (last.kneeSeen() != prev.kneeSeen()) {
            return;
        }
        double r1 = last.rateBps();
        double r2 = prev.rateBps();
        if (Math.abs(r1 - r2) > CHANGE_AGREEMENT * Math.max(r1, r2)) {
            return;
        }
        double[] older = valid.subList(0, valid.size() - 2).stream().mapToDouble(e -> e.a.rateBps()).sorted()
                .toArray();
        double med = older[older.length / 2];
        double now = (r1 + r2) / 2;
        if (Math.abs(now - med) > CHANGE_JUMP * med && !headOnlyOf(last, valid)) {
            Entry keepA = valid.get(valid.size() - 2);
            Entry keepB = valid.get(valid.size() - 1);
            entries.removeIf(e -> e != keepA && e != keepB);
        }
    }

    /// Whether a knee-free train is just the head of a known bucket (then it is no change).
    private static boolean headOnlyOf(TrainAnalysis a, List<Entry> valid) {
        if (a.kneeSeen()) {
            return false;
        }
        double[] tails = valid.stream().filter(e -> e.a.kneeSeen()).mapToDouble(e -> e.a.rateBps()).sorted()
                .toArray();
        return tails.length > 0 && a.rateBps() >= HEAD_ONLY_RATIO * tails[tails.length / 2];
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
        double[] kneeTails = valid.stream().filter(TrainAnalysis::kneeSeen).mapToDouble(TrainAnalysis::rateBps)
                .sorted().toArray();
        double kneeTail = kneeTails.length == 0 ? 0 : kneeTails[kneeTails.length / 2];
        List<TrainAnalysis> sustained = new ArrayList<>();
        long peak = 0;
        for (TrainAnalysis a : valid) {
            peak = Math.max(peak, a.peakRateBps());
            if (kneeTails.length > 0 && !a.kneeSeen() && a.rateBps() >= HEAD_ONLY_RATIO * kneeTail) {
                continue; // never got past the bucket: head rate only
            }
            sustained.add(a);
        }
        long rate = weightedMedian(sustained);
        long burst = -1;
        for (TrainAnalysis a : sustained) {
            if (a.kneeSeen() && Math.abs(a.rateBps() - rate) <= BURST_AGREEMENT * rate) {
                burst = Math.max(burst, a.burstBytes());
            }
        }
        if (burst < 0) {
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
        long period = 0;
        if (coalescing) {
            long[] p = Arrays.copyOf(periods, coalesced);
            Arrays.sort(p);
            period = p[p.length / 2];
        }
        // quality: mean train quality, scaled by agreement with the estimate
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
        q = q / sustained.size() * ((double) agree / sustained.size()) * Math.min(1.0, sustained.size() / 3.0);
        return new BottleneckEstimate(rate, Math.max(rate, peak), burst, coalescing, period, q, sustained.size(),
                maxTrainBytes, limited, newestAt);
    }

    /// Median of the rates, each weighted by its quality (plus a floor so that no train counts
    /// for nothing).
    static long weightedMedian(List<TrainAnalysis> list) {
        List<TrainAnalysis> sorted = new ArrayList<>(list);
        sorted.sort(Comparator.comparingLong(TrainAnalysis::rateBps));
        double total = 0;
        for (TrainAnalysis a : sorted) {
            total += a.quality() + 0.05;
        }
        double acc = 0;
        for (int i = 0; i < sorted.size(); i++) {
            TrainAnalysis a = sorted.get(i);
            double w = a.quality() + 0.05;
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
