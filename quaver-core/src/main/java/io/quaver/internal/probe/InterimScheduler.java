package io.quaver.internal.probe;

/// The stand-in [ProbeScheduler] from before the estimation package's planner existed (the
/// engine uses [PlannerScheduler]; this one is the default of
/// [ClientProber#start(ProberConfig, PathModel, String)] and the benchmark's `--interim`): a fast
/// first measurement (one train, probegap every 1 ms for [#FAST_PHASE_NS]), then the
/// [ProbeBudget]: continuous 1 ms probegap and a train every ≥ 5 s while an adaptive flow is
/// active; upkeep within 1 % of the capacity otherwise. No probegap while a train crosses the
/// bottleneck. A lost train (the sink answered, no summary: a shallow queue dropped its tail)
/// is halved and retried 20 ms later ([MS-QLPB]'s spacing), up to 3 times in a row; when no
/// sink answers, or trains keep getting lost, retries back off from 1 s doubling to 30 s.
/// The first train is modest (24 KB); a fast measurement's first summary is followed 20 ms
/// later by a second train sized to what the bottleneck drains in 40 ms (at most 72 KB), so
/// that the first estimates rest on two trains; later trains grow by at most 6 probes a train
/// towards that size.
public final class InterimScheduler implements ProbeScheduler {
    /// Probegap cadence of qWAVE.
    public static final long PROBEGAP_FAST_INTERVAL_NS = 1_000_000L;
    /// How long probegap runs at 1 ms after a fast train.
    public static final long FAST_PHASE_NS = 400_000_000L;
    /// Size of a train probe at the IP level (a full 1500-byte packet).
    public static final int TRAIN_PROBE_IP_BYTES = 1500;
    /// Most probes in a train (72 KB).
    public static final int MAX_TRAIN_PROBES = 48;
    /// Probes in the first train (24 KB).
    public static final int FIRST_TRAIN_PROBES = 16;
    /// Fewest probes in a train.
    public static final int MIN_TRAIN_PROBES = 4;
    /// Growth of the train length per successful train.
    public static final int TRAIN_GROWTH_PROBES = 6;
    /// Quick retries of a lost train before backing off.
    public static final int QUICK_RETRIES = 3;
    /// [MS-QLPB]: trains at least 20 ms apart.
    public static final long TRAIN_SPACING_NS = 20_000_000L;
    /// Queue depth later trains are sized for.
    public static final long TRAIN_QUEUE_NS = 40_000_000L;
    private static final long RETRY_MIN_NS = 1_000_000_000L;
    private static final long RETRY_MAX_NS = 30_000_000_000L;
    private static final long NO_CAPACITY_TRAIN_NS = 1_000_000_000L;

    private final int probegapIpBytes;
    private boolean started;
    private boolean wasActive;
    private long freshAtNs = Long.MIN_VALUE;
    private long fastUntilNs = Long.MIN_VALUE;
    private long lastTrainNs = Long.MIN_VALUE;
    private boolean awaitingResult;
    private long trainSentNs = Long.MIN_VALUE;
    private long trainSentBits;
    private boolean resize;
    private long retryNs = RETRY_MIN_NS;
    private boolean lastFailed;
    private int quickRetriesLeft = QUICK_RETRIES;
    private boolean quickRetryPending;
    private boolean backingOff;
    /// A fast measurement's first train succeeded: a second, sized one follows.
    private boolean followUp;
    /// The train in flight is a fast measurement's first.
    private boolean firstOfFast;
    private int trainProbes = FIRST_TRAIN_PROBES;
    private long nextProbegapNs = Long.MIN_VALUE;

    /// @param probegapIpBytes size of probegap probes at the IP level (60 on IPv4, 80 on IPv6
    ///                        for the bare 32-byte message)
    public InterimScheduler(int probegapIpBytes) {
        this.probegapIpBytes = probegapIpBytes;
    }

    @Override
    public Action next(long nowNs, boolean active, PathEstimates path) {
        if (!started || (active && !wasActive)) {
            started = true;
            freshAtNs = nowNs; // start, or an adaptive flow appeared: a fast measurement
        }
        wasActive = active;
        if (awaitingResult) {
            return new Idle(nowNs + 5_000_000L);
        }
        long capacity = path.bottleneckBps().orElse(0);
        if (resize) {
            resize = false;
            if (followUp) {
                trainProbes = fit(capacity, trainProbes);
            } else {
                sizeFor(capacity);
            }
        }
        long trainDue = trainDueNs(active, capacity);
        if (trainDue == Long.MIN_VALUE || nowNs - trainDue >= 0) {
            firstOfFast = !followUp && (lastTrainNs == Long.MIN_VALUE
                    || (freshAtNs != Long.MIN_VALUE && freshAtNs - lastTrainNs > 0));
            followUp = false;
            lastTrainNs = nowNs;
            awaitingResult = true;
            return new SendTrain(TRAIN_PROBE_IP_BYTES, trainProbes);
        }
        // probegap samples taken while our own train drains would count it as cross traffic
        long quietUntilNs = trainSentNs == Long.MIN_VALUE ? Long.MIN_VALUE
                : trainSentNs + Math.min(capacity > 0 ? trainSentBits * 1_000_000_000L / capacity : 50_000_000L,
                500_000_000L) + 2_000_000L;
        if (quietUntilNs != Long.MIN_VALUE && nowNs - quietUntilNs < 0) {
            return new Idle(earlier(quietUntilNs, trainDue));
        }
        long interval = active || nowNs - fastUntilNs < 0 ? PROBEGAP_FAST_INTERVAL_NS
                : ProbeBudget.upkeepProbegapIntervalNs(probegapIpBytes, capacity);
        if (nextProbegapNs == Long.MIN_VALUE || nextProbegapNs - nowNs > interval) {
            nextProbegapNs = nowNs; // first probe, or the interval shrank
        }
        if (nowNs - nextProbegapNs >= 0) {
            long next = nextProbegapNs + interval;
            // bounded catch-up: after a stall, no burst of late probes
            nextProbegapNs = nowNs - next > 4 * interval ? nowNs + interval : next;
            return new SendProbegap(probegapIpBytes);
        }
        return new Idle(earlier(nextProbegapNs, trainDue));
    }

    /// The earlier of two `nanoTime` instants (overflow-safe).
    private static long earlier(long a, long b) {
        return a - b <= 0 ? a : b;
    }

    /// When the next train is due; `Long.MIN_VALUE` = now (none sent yet).
    private long trainDueNs(boolean active, long capacityBps) {
        if (lastTrainNs == Long.MIN_VALUE) {
            return Long.MIN_VALUE;
        }
        if (freshAtNs != Long.MIN_VALUE && freshAtNs - lastTrainNs > 0) {
            return lastFailed ? Math.max(freshAtNs, lastTrainNs + TRAIN_SPACING_NS) : freshAtNs;
        }
        if (followUp) {
            return lastTrainNs + TRAIN_SPACING_NS;
        }
        if (lastFailed) {
            return lastTrainNs + (quickRetryPending ? TRAIN_SPACING_NS : retryNs);
        }
        if (capacityBps <= 0) {
            return lastTrainNs + NO_CAPACITY_TRAIN_NS;
        }
        long trainBits = (long) MAX_TRAIN_PROBES * TRAIN_PROBE_IP_BYTES * 8;
        return lastTrainNs + (active ? ProbeBudget.activeTrainIntervalNs(trainBits, capacityBps)
                : ProbeBudget.upkeepTrainIntervalNs(trainBits, capacityBps));
    }

    @Override
    public void requestFresh(long nowNs) {
        freshAtNs = nowNs;
    }

    @Override
    public void onTrainSent(long nowNs, SendTrain train) {
        trainSentNs = nowNs;
        trainSentBits = train.bytes() * 8;
    }

    @Override
    public void onTrainResult(long nowNs, TrainOutcome outcome) {
        awaitingResult = false;
        lastTrainNs = nowNs; // spacing and back-off count from the result
        switch (outcome) {
            case SUMMARY -> {
                lastFailed = false;
                backingOff = false;
                quickRetryPending = false;
                retryNs = RETRY_MIN_NS;
                quickRetriesLeft = QUICK_RETRIES;
                fastUntilNs = Math.max(fastUntilNs, nowNs + FAST_PHASE_NS);
                resize = true;
                followUp = firstOfFast;
            }
            case LOST -> {
                lastFailed = true;
                trainProbes = Math.max(MIN_TRAIN_PROBES, trainProbes / 2);
                if (quickRetriesLeft > 0) {
                    quickRetriesLeft--;
                    quickRetryPending = true;
                } else {
                    backOff();
                }
            }
            case NO_SINK -> {
                lastFailed = true;
                backOff();
            }
        }
    }

    /// 1 s, then doubling to 30 s while failures go on.
    private void backOff() {
        quickRetryPending = false;
        if (backingOff) {
            retryNs = Math.min(retryNs * 2, RETRY_MAX_NS);
        }
        backingOff = true;
    }

    /// Grows the next train towards [#fit] by at most [#TRAIN_GROWTH_PROBES].
    void sizeFor(long capacityBps) {
        if (capacityBps > 0) {
            trainProbes = Math.min(fit(capacityBps, trainProbes), trainProbes + TRAIN_GROWTH_PROBES);
        }
    }

    /// Probes the bottleneck drains in [#TRAIN_QUEUE_NS], within the train-length bounds.
    static int fit(long capacityBps, int fallback) {
        if (capacityBps <= 0) {
            return fallback;
        }
        long n = capacityBps / 8 * TRAIN_QUEUE_NS / 1_000_000_000L / TRAIN_PROBE_IP_BYTES;
        return (int) Math.clamp(n, MIN_TRAIN_PROBES, MAX_TRAIN_PROBES);
    }

    /// Probes the next train will have (for tests).
    int trainProbes() {
        return trainProbes;
    }
}
