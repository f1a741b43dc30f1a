package io.quaver.internal.estimation;

import java.util.SplittableRandom;

/// Decides the next experiment for one client: a pure, stateful scheduler (time is an
/// argument; it assumes every `Send…` action it returns is carried out at once).
///
/// ## Phases
/// * **Fast first measurement** (at start, on [#requestFresh(long)], and when an adaptive
///   flow opens on a stale path): up to [Config#fastTrains()] trains, ≥ 20 ms apart
///   ([MS-QLPB]), each sized after the previous one's result — a WebRTC-like start (GoogCC's
///   ProbeController sends growing clusters; here each train may grow ×4). Probegap runs at
///   1 ms for [Config#fastProbegapNs()]. Everything sent in the phase — trains and probegap —
///   stays within **64 KB + R̂·50 ms** (goal G6), R̂ being the capacity estimate when each
///   train is sized (so the first train is ≤ 64 KB less the probegap share).
/// * **Token-bucket confirmation**: when a knee (burst allowance) shows up in a train that
///   followed other trains, the bucket may not have been full, so B̂ may be short. One more
///   train is sent after the bucket has surely refilled (`(B̂ + earlier bytes)/R × 1.2` after
///   the last train's result, i.e. after that train drained),
///   long enough to pass the largest bucket those bytes allow (`1.1·B_upper·P/(P−R)` plus 24
///   probes of tail) — only when it fits the phase's budget at the sustained rate R, every
///   byte counted (G6): a train that outlasts a bucket of B costs more than B, which G6 allows
///   only above ~(B − 64 KB)/50 ms of capacity (256 KB: ~40 Mbit/s before the phase's earlier
///   trains, ~90 Mbit/s after them).
/// * **Sustained-rate check** (goal G3): when the fast phase's trains all passed unslowed (the
///   estimate is only a lower bound, [BottleneckEstimate#lowerBound()]: a token bucket's burst
///   may have let them through at the sender's pace), one more train, four times the largest
///   (at most [#SUSTAINED_CHECK_MAX_BYTES], within the phase's budget). On the test bed the
///   sender writes at only 0.3–3 Gbit/s, so behind a 200 Mbit/s `tbf` with a 256 KB burst a
///   train passes unslowed up to 256 KB × P/(P − R), over 480 KB when P is 400 Mbit/s. Not
///   after a lost train (behind a slow bucket a longer train would only be lost again).
/// * **Upkeep** (no adaptive flow): trains within 0.5 % of the sustained capacity (one per
///   10–120 s, and no single train above 0.5 % of 10 s of capacity, so that any 10 s window
///   stays within budget), paced streams within 0.25 % (one per 12–120 s), and probegap only
///   in short bursts (5 probes 1 ms apart; the first 3 of each are cold-start samples for
///   RTT) within 0.2 %, one burst per 1–60 s: ≤ 1 % together (goal G6). A known token bucket
///   is not re-drained in upkeep: short trains see its head only and inform the peak rate.
/// * **Active** (an adaptive flow is open): probegap continuously, every 1 ms or slower so
///   that it stays within 5 % of the capacity, at dithered intervals (uniform 0.75–1.25× the
///   mean: probes must not phase-lock with periodic cross traffic, see
///   [AvailableBandwidthEstimator]); trains within 2 % (one per 5–60 s); paced streams within
///   2 % (one per 2–60 s), and one sooner (≥ 1 s after the previous) when the path's queue has
///   just drained ([#requestStream]).
///
/// **Paced streams** (for [SpruceEstimator]): [Config#streamNs()] (40 ms) of probes paced at
/// the sustained capacity estimate, sent as an [MS-QLPB] packet-pair train with gaps. The
/// first follows the fast phase's trains, 1 s after the phase started (it is not part of the
/// first measurement: the fast phase's ProbeGap gives the first available estimate); a stream
/// is 4 % of a second of capacity (2.5 % in upkeep, where it lasts 25 ms).
///
/// Train lengths adapt to the path: at least 16 coalescing periods when the sink batches its
/// timestamps, the growth above to get past a token bucket, and smaller probes (down to
/// 200 B) when a minimum-length train of full-size probes would break the budget on a slow
/// path. No probegap probe is sent while a train is still crossing the bottleneck, nor, while
/// the bottleneck is only a lower bound, until the result of a train longer than any that
/// passed unslowed (it may be queued behind a token bucket for a second); no paced stream is
/// sent while the bottleneck is a lower bound.
///
/// A train whose result never came (the sink needs every probe: a shaper's queue overflowed)
/// is followed at once, in the fast phase, by one a quarter of its size, and no later train of
/// the phase grows past half the lost one; the first train of a phase without an estimate is
/// 20 probes of 600 B (12 KB), which fits the queue of a 2 Mbit/s `tbf` with 50 ms latency.
///
/// When no estimate results from a fast phase (the sink gave nothing usable), a single train
/// is retried after 1 s, backing off to 30 s.
public final class ProbePlanner {
    /// Tunables (sizes at the IP level).
    ///
    /// @param trainProbeIpBytes        probe size of trains (1500: a full Ethernet payload)
    /// @param firstTrainProbeIpBytes   probe size of the first train of a fast phase before any
    ///                                 estimate (small enough that the whole train fits a
    ///                                 shallow shaper queue: `tbf … latency 50ms` holds 15 KB at
    ///                                 2 Mbit/s)
    /// @param minTrainProbeIpBytes     smallest probe size when the budget is tight
    /// @param probegapIpBytes          probegap probe size (32-byte header + UDP/IPv4 = 60)
    /// @param firstTrainProbes         probes in the first train (and in upkeep trains)
    /// @param minTrainProbes           fewest probes in any train
    /// @param maxTrainBytes            largest train
    /// @param fastTrains               trains in the fast phase
    /// @param trainGrowth              growth factor between fast trains
    /// @param trainSpacingNs           least spacing between trains ([MS-QLPB]: 20 ms)
    /// @param trainResultTimeoutNs     give up waiting for a train's result after this
    /// @param firstBudgetBytes         fixed part of the fast-phase budget (64 KB)
    /// @param firstBudgetWindowNs      rate part of the fast-phase budget (R̂ × 50 ms)
    /// @param fastProbegapNs           continuous probegap at the start of a fast phase
    /// @param probegapIntervalNs       qWAVE's probegap cadence (1 ms)
    /// @param probegapDither           probegap intervals are uniform in (1 ± this) × the mean
    /// @param activeProbegapShare      probegap share of the capacity while a flow is active
    /// @param activeTrainShare         train share while a flow is active
    /// @param upkeepTrainShare         train share in upkeep
    /// @param upkeepProbegapShare      probegap share in upkeep
    /// @param upkeepProbegapBurst      probes per upkeep probegap burst
    /// @param coalescingPeriodsPerTrain a train spans at least this many coalescing periods
    /// @param staleOnActivationNs      a flow opening on a path measured longer ago than this
    ///                                 starts a fast phase
    /// @param streamNs                 duration of a paced stream (Spruce, [SpruceEstimator])
    /// @param streamMinProbes          fewest probes in a stream
    /// @param activeStreamShare        stream share of the capacity while a flow is active
    /// @param upkeepStreamShare        stream share in upkeep (0: no streams in upkeep)
    public record Config(int trainProbeIpBytes, int firstTrainProbeIpBytes, int minTrainProbeIpBytes, int probegapIpBytes,
                         int firstTrainProbes, int minTrainProbes, long maxTrainBytes, int fastTrains,
                         int trainGrowth, long trainSpacingNs, long trainResultTimeoutNs, long firstBudgetBytes,
                         long firstBudgetWindowNs, long fastProbegapNs, long probegapIntervalNs,
                         double probegapDither, double activeProbegapShare, double activeTrainShare, double upkeepTrainShare,
                         double upkeepProbegapShare, int upkeepProbegapBurst, int coalescingPeriodsPerTrain,
                         long staleOnActivationNs, long streamNs, int streamMinProbes, double activeStreamShare,
                         double upkeepStreamShare) {
        public static final Config DEFAULT = new Config(1500, 600, 200, 60, 20, 8, 512 * 1024, 3, 4, 20_000_000L,
                1_500_000_000L, 64 * 1024, 50_000_000L, 400_000_000L, 1_000_000L, 0.25, 0.05, 0.02, 0.005, 0.002, 5,
                16, 5_000_000_000L, 40_000_000L, 16, 0.02, 0.0025);

        /// The same without paced streams, their upkeep share given back to trains (0.6 %) and
        /// probegap (0.3 %): ProbeGap alone measures the available bandwidth (the planner before
        /// streams, for comparison).
        public Config withoutStreams() {
            return new Config(trainProbeIpBytes, firstTrainProbeIpBytes, minTrainProbeIpBytes, probegapIpBytes,
                    firstTrainProbes, minTrainProbes, maxTrainBytes, fastTrains, trainGrowth, trainSpacingNs,
                    trainResultTimeoutNs, firstBudgetBytes, firstBudgetWindowNs, fastProbegapNs, probegapIntervalNs,
                    probegapDither, activeProbegapShare, activeTrainShare, upkeepTrainShare + 0.001,
                    upkeepProbegapShare + 0.001, upkeepProbegapBurst, coalescingPeriodsPerTrain, staleOnActivationNs,
                    streamNs, streamMinProbes, 0, 0);
        }

        public Config {
            if (trainProbeIpBytes < minTrainProbeIpBytes || minTrainProbeIpBytes < 64
                    || firstTrainProbeIpBytes < minTrainProbeIpBytes || firstTrainProbeIpBytes > trainProbeIpBytes || probegapIpBytes < 1
                    || firstTrainProbes < minTrainProbes || minTrainProbes < 3 || fastTrains < 1
                    || trainGrowth < 1 || maxTrainBytes < (long) trainProbeIpBytes * firstTrainProbes
                    || probegapIntervalNs <= 0 || probegapDither < 0 || probegapDither >= 1
                    || upkeepProbegapBurst < 1 || streamNs <= 0 || streamMinProbes < 3 || activeStreamShare < 0
                    || upkeepStreamShare < 0) {
                throw new IllegalArgumentException("invalid config " + this);
            }
        }
    }

    static final long UPKEEP_TRAIN_MIN_NS = 10_000_000_000L;
    static final long UPKEEP_TRAIN_MAX_NS = 120_000_000_000L;
    static final long ACTIVE_TRAIN_MIN_NS = 5_000_000_000L;
    static final long ACTIVE_TRAIN_MAX_NS = 60_000_000_000L;
    static final long UPKEEP_PROBEGAP_MIN_NS = 1_000_000_000L;
    static final long UPKEEP_PROBEGAP_MAX_NS = 60_000_000_000L;
    static final long RETRY_MIN_NS = 1_000_000_000L;
    static final long RETRY_MAX_NS = 30_000_000_000L;
    static final long AFTER_TRAIN_MARGIN_NS = 2_000_000L;
    static final int CONFIRM_TAIL_PROBES = 24;
    static final int LOST_TRAIN_SHRINK = 4;
    static final long FAST_PROBEGAP_MAX_NS = 5_000_000_000L;
    /// Largest sustained-rate check: 1024 full-size probes, within the sink's default 2 MiB
    /// per-source burst.
    static final long SUSTAINED_CHECK_MAX_BYTES = 1024L * 1500;
    static final long ACTIVE_STREAM_MIN_NS = 1_000_000_000L;
    static final long UPKEEP_STREAM_MIN_NS = 12_000_000_000L;
    /// The first stream of a phase leaves at least this long after the phase started (the
    /// first measurement, trains and fast probegap, is over by then).
    static final long FIRST_STREAM_AFTER_NS = 1_000_000_000L;

    private final Config config;
    private final SplittableRandom random;

    private boolean started;
    private boolean wasActive;
    // fast phase
    private boolean fast;
    private long fastStartNs;
    private int fastTrainsIssued;
    private long fastBytes;
    private long fastTrainBytes; // trains only
    private int kneeAfterTrains = -1;
    private long bytesBeforeKneeTrain;
    private boolean confirmDone;
    private boolean sustainedCheckDone;
    // trains
    private long lastTrainNs = Long.MIN_VALUE;
    private long lastTrainBytes;
    private long trainBusyUntilNs = Long.MIN_VALUE;
    private long retryNs = RETRY_MIN_NS;
    private long lastResultNs = Long.MIN_VALUE;
    private int resultsPending; // trains and streams issued whose outcome is not known yet
    private int fastProbegaps;
    private boolean lastTrainLost;
    private long fastCeilingBytes = Long.MAX_VALUE;
    // probegap
    private long lastProbegapNs = Long.MIN_VALUE;
    private long nextProbegapNs;
    private int burstLeft;
    private long nextBurstNs;
    // paced streams
    private long lastStreamNs = Long.MIN_VALUE;
    /// When a stream was asked for ([#requestStream]); `Long.MIN_VALUE` when none is wanted.
    private long streamWantedNs = Long.MIN_VALUE;
    private boolean lastWasStream;

    /// The default dither seed.
    public static final long DEFAULT_SEED = 0x5EED_0F_9A7EL;

    public ProbePlanner() {
        this(Config.DEFAULT, DEFAULT_SEED);
    }

    /// @param seed seeds the probegap dither (deterministic for a given seed)
    public ProbePlanner(Config config, long seed) {
        this.config = config;
        this.random = new SplittableRandom(seed);
    }

    /// Starts a fast measurement now (e.g. `QOS_QUERYFLOW_FRESH`).
    /// Asks for a paced stream soon while an adaptive flow is active (the path's queue has
    /// just drained: the available bandwidth read while it was congested is stale, and an
    /// Available notification waits on a fresh one). The stream leaves as soon as the usual
    /// rules allow it, but no sooner than [#ACTIVE_STREAM_MIN_NS] after the previous stream:
    /// one 40 ms stream is 4 % of a second of capacity, within G6's 5 % for any re-probe over
    /// 1 s. Ignored in upkeep and before the first stream.
    public void requestStream(long nowNs) {
        if (streamWantedNs == Long.MIN_VALUE) {
            streamWantedNs = nowNs;
        }
    }

    public void requestFresh(long nowNs) {
        started = true;
        beginFast(nowNs);
    }

    /// What became of the train issued last: `summary` = the sink's summary arrived (the
    /// estimator has it, valid or not); `false` = it was lost (typically a shaper's queue
    /// dropped its tail). Either way the fast phase goes on at once rather than waiting for
    /// [Config#trainResultTimeoutNs()]; after a loss the next train is smaller.
    ///
    /// An outcome that comes after the next train was already issued (the prober reports it
    /// once the session is closed, while the estimate it fed let the next train go: 40 ms late
    /// on a loaded host) is the earlier train's: it is not taken for the newer train's result
    /// (that sent a 480 KB train into a 2 Mbit/s shaper still draining the one before: lost).
    public void onTrainResult(long nowNs, boolean summary) {
        if (resultsPending > 1) {
            resultsPending--;
            return;
        }
        resultsPending = 0;
        lastResultNs = nowNs;
        if (lastWasStream) {
            return; // a stream's loss says nothing about the fast phase's train sizes
        }
        lastTrainLost = !summary;
        if (!summary && fast && lastTrainBytes > 0) {
            fastCeilingBytes = Math.min(fastCeilingBytes, lastTrainBytes / 2);
        }
    }

    /// A train or stream issued earlier will have no outcome reported (no sink answered its
    /// handshake).
    public void onTrainAbandoned(long nowNs) {
        resultsPending = Math.max(0, resultsPending - 1);
    }

    /// Whether a fast first measurement is under way.
    public boolean inFastPhase(long nowNs) {
        return fast || fastProbegapWindow(nowNs);
    }

    /// Bytes sent (trains and probegap) in the current or last fast phase.
    public long fastPhaseBytes() {
        return fastBytes;
    }

    /// The next experiment.
    public ProbeAction nextAction(long nowNs, PlannerState state) {
        PathSnapshot path = state.path();
        if (!started) {
            started = true;
            beginFast(nowNs);
        }
        boolean active = state.adaptiveFlowActive();
        if (!active) {
            streamWantedNs = Long.MIN_VALUE; // asked for an adaptive flow that has gone
        }
        if (active && !wasActive) {
            long at = path.bottleneckAtNs();
            if (at == Long.MIN_VALUE || nowNs - at > config.staleOnActivationNs()) {
                beginFast(nowNs);
            }
            nextProbegapNs = Math.min(nextProbegapNs, nowNs);
        }
        wasActive = active;

        long trainDue = trainDue(nowNs, path, active);
        if (trainDue <= nowNs) {
            ProbeAction.SendTrain t = sizeTrain(path, active);
            if (t == null && fast) {
                fast = false; // the fast-phase budget is spent
                trainDue = trainDue(nowNs, path, active);
                t = trainDue <= nowNs ? sizeTrain(path, active) : null;
            }
            if (t != null) {
                return issue(nowNs, t, path);
            }
            trainDue = Math.max(trainDue, nowNs + 1);
        }
        long streamDue = streamDue(nowNs, path, active);
        if (streamDue <= nowNs) {
            return issueStream(nowNs, stream(path.bottleneck().orElseThrow(), active));
        }
        long pgDue = probegapDue(nowNs, path, active);
        if (pgDue <= nowNs) {
            return issueProbegap(nowNs, path, active);
        }
        long until = Math.min(Math.min(trainDue, pgDue), streamDue);
        return new ProbeAction.Idle(Math.max(until, nowNs + 1));
    }

    // ------------------------------------------------------------------ trains

    private void beginFast(long nowNs) {
        fast = true;
        fastStartNs = nowNs;
        fastTrainsIssued = 0;
        fastBytes = 0;
        fastTrainBytes = 0;
        kneeAfterTrains = -1;
        bytesBeforeKneeTrain = 0;
        confirmDone = false;
        sustainedCheckDone = false;
        lastTrainLost = false;
        fastCeilingBytes = Long.MAX_VALUE;
        fastProbegaps = 0;
        nextProbegapNs = nowNs;
        burstLeft = 0;
        nextBurstNs = nowNs + config.fastProbegapNs();
        lastStreamNs = Long.MIN_VALUE; // a stream follows the phase's trains
    }

    private boolean resultSinceLastTrain(PathSnapshot path) {
        // strictly later: a train may be sent at the very instant the previous result arrived
        return lastTrainNs != Long.MIN_VALUE && (path.bottleneckAtNs() != Long.MIN_VALUE
                && path.bottleneckAtNs() - lastTrainNs > 0
                || lastResultNs != Long.MIN_VALUE && lastResultNs - lastTrainNs > 0);
    }

    private long trainDue(long nowNs, PathSnapshot path, boolean active) {
        if (fast) {
            if (fastTrainsIssued == 0) {
                return fastStartNs;
            }
            long spaced = lastTrainNs + config.trainSpacingNs();
            if (!resultSinceLastTrain(path) && nowNs - (lastTrainNs + config.trainResultTimeoutNs()) < 0) {
                return lastTrainNs + config.trainResultTimeoutNs(); // the caller also asks again on a result
            }
            BottleneckEstimate b = path.bottleneck().orElse(null);
            boolean knee = b != null && b.burstDetected();
            if (knee && kneeAfterTrains < 0) {
                kneeAfterTrains = fastTrainsIssued;
            }
            if (kneeAfterTrains >= 0) {
                boolean more = fastTrainsIssued < config.fastTrains() || (kneeAfterTrains >= 2 && !confirmDone);
                if (more && knee && kneeTrainBytes(b) > 0) {
                    // wait until the bucket has surely refilled: it starts refilling once the
                    // last train has drained, which is when its result came back
                    double wait = (b.burstBytes() + bytesBeforeKneeTrain) * 8e9 / b.rateBps() * 1.2;
                    return Math.max(spaced, b.updatedAtNs() + (long) Math.min(wait, 10e9));
                }
                fast = false;
                return trainDue(nowNs, path, active);
            }
            if (fastTrainsIssued >= config.fastTrains()) {
                if (sustainedCheckDue(b, path)) {
                    return spaced;
                }
                fast = false;
                return trainDue(nowNs, path, active);
            }
            return spaced;
        }
        if (lastTrainNs == Long.MIN_VALUE) {
            return nowNs;
        }
        BottleneckEstimate b = path.bottleneck().orElse(null);
        if (b == null) {
            return lastTrainNs + retryNs;
        }
        ProbeAction.SendTrain t = steadyTrain(b, active);
        return lastTrainNs + steadyInterval(t.bytes(), b.rateBps(), active);
    }

    private ProbeAction.SendTrain sizeTrain(PathSnapshot path, boolean active) {
        BottleneckEstimate b = path.bottleneck().orElse(null);
        if (fast) {
            if (kneeAfterTrains >= 0 && b != null && b.burstDetected()) {
                return kneeTrain(b);
            }
            if (fastTrainsIssued >= config.fastTrains()) {
                return sustainedCheckDue(b, path) ? sustainedCheckTrain(b) : null;
            }
            return fastTrain(b);
        }
        if (b == null) {
            return new ProbeAction.SendTrain(config.trainProbeIpBytes(), config.firstTrainProbes());
        }
        return steadyTrain(b, active);
    }

    /// The fast phase's budget left: 64 KB + R̂·50 ms less everything sent in the phase, R̂
    /// being the sustained rate (with a token bucket its rate R, never the line rate its burst
    /// showed: G6 is a share of the capacity).
    private long fastBudgetLeft(BottleneckEstimate b) {
        long capacity = b == null ? 0 : b.rateBps();
        double budget = config.firstBudgetBytes() + capacity * (config.firstBudgetWindowNs() / 8e9);
        long probegapReserve = probegapBytesLeftInFastWindow();
        return (long) budget - fastBytes - probegapReserve;
    }

    private long probegapBytesLeftInFastWindow() {
        long sentWindowNs = lastProbegapNs == Long.MIN_VALUE || lastProbegapNs - fastStartNs < 0 ? 0
                : lastProbegapNs - fastStartNs;
        long leftNs = Math.max(0, config.fastProbegapNs() - sentWindowNs);
        // at the shortest dithered interval, so that the reserve is never short
        long shortestNs = Math.max(1, (long) (config.probegapIntervalNs() * (1 - config.probegapDither())));
        long probes = Math.max(leftNs / shortestNs + 1, fastProbegapMin() - fastProbegaps);
        return probes * config.probegapIpBytes();
    }

    private ProbeAction.SendTrain fastTrain(BottleneckEstimate b) {
        long left = fastBudgetLeft(b);
        int size = config.trainProbeIpBytes();
        long want;
        if (lastTrainLost && lastTrainBytes > 0) {
            want = lastTrainBytes / LOST_TRAIN_SHRINK;
        } else if (fastTrainsIssued == 0) {
            if (b == null) {
                size = config.firstTrainProbeIpBytes();
            }
            want = (long) config.firstTrainProbes() * size;
        } else {
            int trainsLeft = config.fastTrains() - fastTrainsIssued;
            // growth counts the first train as full-size probes: its small probes only make it fit
            long base = Math.max(lastTrainBytes, (long) config.firstTrainProbes() * size);
            want = Math.min(base * config.trainGrowth(), left / Math.max(1, trainsLeft));
        }
        if (b != null && b.coalescingDetected()) {
            want = Math.max(want, (long) (b.peakRateBps() / 8e9 * b.coalescingPeriodNs()
                    * config.coalescingPeriodsPerTrain()));
        }
        want = Math.min(Math.min(Math.min(want, left), config.maxTrainBytes()), fastCeilingBytes);
        return train(want, size);
    }

    private boolean sustainedCheckDue(BottleneckEstimate b, PathSnapshot path) {
        return !sustainedCheckDone && !lastTrainLost && b != null && b.lowerBound() && resultSinceLastTrain(path);
    }

    /// The sustained-rate check: four times the largest unslowed train, or `null` when the
    /// budget or the cap leaves no longer train.
    private ProbeAction.SendTrain sustainedCheckTrain(BottleneckEstimate b) {
        sustainedCheckDone = true;
        long want = Math.min(Math.min(b.maxTrainBytes() * config.trainGrowth(), SUSTAINED_CHECK_MAX_BYTES),
                fastBudgetLeft(b));
        return want > b.maxTrainBytes() ? train(want, config.trainProbeIpBytes()) : null;
    }

    /// A train long enough to pass the largest bucket consistent with what was seen, or `null`
    /// when none fits the budget ([#kneeTrainBytes]).
    private ProbeAction.SendTrain kneeTrain(BottleneckEstimate b) {
        long bytes = kneeTrainBytes(b);
        confirmDone = true;
        bytesBeforeKneeTrain = 0;
        return bytes > 0 ? train(bytes, config.trainProbeIpBytes()) : null;
    }

    /// The token-bucket confirmation's size: `1.1·B_upper·P/(P−R)` plus [#CONFIRM_TAIL_PROBES]
    /// probes of tail, within the fast phase's budget at the sustained rate with every byte
    /// counted (bytes that pass within the burst allowance are probe load like any other:
    /// G6's shares are of the bytes sent); 0 when what fits would not even pass the B̂ already
    /// seen. Behind a 256 KB bucket it fits from ~90 Mbit/s on (64 KB + R·50 ms less the
    /// phase's earlier trains); below, B̂ stays the level the knee train found.
    private long kneeTrainBytes(BottleneckEstimate b) {
        double r = b.rateBps();
        double p = Math.max(b.peakRateBps(), r * 1.05);
        double tail = CONFIRM_TAIL_PROBES * config.trainProbeIpBytes();
        double want = 1.1 * (b.burstBytes() + bytesBeforeKneeTrain) * p / (p - r) + tail;
        long bytes = (long) Math.min(Math.min(want, config.maxTrainBytes()), fastBudgetLeft(b));
        return bytes >= b.burstBytes() * p / (p - r) + tail ? bytes : 0;
    }

    private ProbeAction.SendTrain steadyTrain(BottleneckEstimate b, boolean active) {
        int size = config.trainProbeIpBytes();
        long want = (long) config.firstTrainProbes() * size;
        if (b.coalescingDetected()) {
            want = Math.max(want, (long) (b.peakRateBps() / 8e9 * b.coalescingPeriodNs()
                    * config.coalescingPeriodsPerTrain()));
        }
        // one train alone stays within the share over the shortest interval (the load is
        // judged over any 10 s window)
        double share = active ? config.activeTrainShare() : config.upkeepTrainShare();
        long minNs = active ? ACTIVE_TRAIN_MIN_NS : UPKEEP_TRAIN_MIN_NS;
        long affordable = (long) (share * b.rateBps() * (minNs / 8e9));
        want = Math.min(Math.min(want, affordable), config.maxTrainBytes());
        ProbeAction.SendTrain t = train(want, size);
        return t != null ? t : new ProbeAction.SendTrain(config.minTrainProbeIpBytes(), config.minTrainProbes());
    }

    private long steadyInterval(long bytes, long rateBps, boolean active) {
        double share = active ? config.activeTrainShare() : config.upkeepTrainShare();
        double ns = bytes * 8e9 / (share * Math.max(1, rateBps));
        return active ? Math.clamp((long) ns, ACTIVE_TRAIN_MIN_NS, ACTIVE_TRAIN_MAX_NS)
                : Math.clamp((long) ns, UPKEEP_TRAIN_MIN_NS, UPKEEP_TRAIN_MAX_NS);
    }

    /// A train of about `bytes`: full-size probes, or smaller ones (down to the minimum size)
    /// when fewer than the minimum count would fit; `null` if not even that fits.
    private ProbeAction.SendTrain train(long bytes, int size) {
        long count = bytes / size;
        if (count >= config.minTrainProbes()) {
            return new ProbeAction.SendTrain(size, (int) Math.min(count, 65_535));
        }
        long smaller = bytes / config.minTrainProbes();
        if (smaller >= config.minTrainProbeIpBytes()) {
            return new ProbeAction.SendTrain((int) Math.min(smaller, size), config.minTrainProbes());
        }
        return null;
    }

    private ProbeAction issue(long nowNs, ProbeAction.SendTrain t, PathSnapshot path) {
        BottleneckEstimate b = path.bottleneck().orElse(null);
        lastTrainLost = false;
        if (fast) {
            if (kneeAfterTrains < 0) {
                bytesBeforeKneeTrain = fastTrainBytes;
            }
            fastTrainsIssued++;
            fastBytes += t.bytes();
            fastTrainBytes += t.bytes();
        } else if (b == null) {
            retryNs = Math.min(RETRY_MAX_NS, lastTrainNs == Long.MIN_VALUE ? RETRY_MIN_NS : retryNs * 2);
        }
        if (b != null) {
            retryNs = RETRY_MIN_NS;
        }
        lastTrainNs = nowNs;
        resultsPending++;
        lastWasStream = false;
        lastTrainBytes = t.bytes();
        long capacity = b == null ? 0 : b.peakRateBps();
        long durationNs = capacity > 0 ? (long) (t.bytes() * 8e9 / capacity) : 0;
        trainBusyUntilNs = nowNs + durationNs + AFTER_TRAIN_MARGIN_NS;
        return t;
    }

    // ------------------------------------------------------------------ streams

    /// When the next paced stream is due: once the fast phase's trains are done (and the last
    /// train's result came, so that the control connection is free), then at the stream share
    /// of the capacity; `Long.MAX_VALUE` when streams are off or there is no capacity yet.
    private long streamDue(long nowNs, PathSnapshot path, boolean active) {
        double share = active ? config.activeStreamShare() : config.upkeepStreamShare();
        BottleneckEstimate b = path.bottleneck().orElse(null);
        // a lower bound is the sender's pace, not the capacity a stream is paced at (behind a
        // 2 Mbit/s bucket it made a 5.5 MB stream)
        if (share <= 0 || b == null || b.lowerBound() || fast || lastTrainNs == Long.MIN_VALUE) {
            return Long.MAX_VALUE;
        }
        long after = Math.max(trainBusyUntilNs, lastTrainNs + config.trainSpacingNs());
        if (!lastWasStream && !resultSinceLastTrain(path)) {
            after = Math.max(after, lastTrainNs + config.trainResultTimeoutNs());
        }
        ProbeAction.SendTrain st = stream(b, active);
        if (st == null) {
            return Long.MAX_VALUE;
        }
        if (lastStreamNs == Long.MIN_VALUE) {
            return Math.max(after, fastStartNs + FIRST_STREAM_AFTER_NS);
        }
        double ns = st.bytes() * 8e9 / (share * Math.max(1, b.rateBps()));
        long interval = active ? Math.clamp((long) ns, ACTIVE_STREAM_MIN_NS, ACTIVE_TRAIN_MAX_NS)
                : Math.clamp((long) ns, UPKEEP_STREAM_MIN_NS, UPKEEP_TRAIN_MAX_NS);
        if (active && streamWantedNs != Long.MIN_VALUE) {
            interval = Math.min(interval, Math.max(ACTIVE_STREAM_MIN_NS, streamWantedNs - lastStreamNs));
        }
        return Math.max(after, lastStreamNs + interval);
    }

    /// A stream of [Config#streamNs()] at the sustained capacity (in upkeep at most the stream
    /// share of 10 s, so that any 10 s window holds at most that share: the streams are ≥ 12 s
    /// apart): full-size probes, or [Config#streamMinProbes()] smaller ones (down to the
    /// minimum size) on a slow path; `null` in upkeep when even that breaks the share.
    private ProbeAction.SendTrain stream(BottleneckEstimate b, boolean active) {
        double rate = Math.max(1, b.rateBps());
        int size = config.trainProbeIpBytes();
        long ns = active ? config.streamNs()
                : Math.min(config.streamNs(), (long) (config.upkeepStreamShare() * UPKEEP_TRAIN_MIN_NS));
        long bytes = (long) (rate / 8e9 * ns);
        long count = bytes / size;
        if (count < config.streamMinProbes()) {
            count = config.streamMinProbes();
            size = (int) Math.clamp(bytes / count, config.minTrainProbeIpBytes(), config.trainProbeIpBytes());
        }
        if (!active && count * size > rate / 8e9 * config.upkeepStreamShare() * UPKEEP_TRAIN_MIN_NS) {
            return null;
        }
        long gap = Math.max(1, Math.round(size * 8e9 / rate));
        return new ProbeAction.SendTrain(size, (int) Math.min(count, 65_535), gap);
    }

    private ProbeAction issueStream(long nowNs, ProbeAction.SendTrain t) {
        lastStreamNs = nowNs;
        streamWantedNs = Long.MIN_VALUE;
        resultsPending++;
        lastWasStream = true;
        trainBusyUntilNs = nowNs + t.gapNs() * t.count() + AFTER_TRAIN_MARGIN_NS;
        return t;
    }

    // ------------------------------------------------------------------ probegap

    private long probegapDue(long nowNs, PathSnapshot path, boolean active) {
        long due;
        if (active || fastProbegapWindow(nowNs)) {
            due = nextProbegapNs;
        } else if (burstLeft > 0) {
            due = nextProbegapNs;
        } else {
            due = nextBurstNs;
        }
        BottleneckEstimate b = path.bottleneck().orElse(null);
        if (b != null && b.lowerBound() && !lastWasStream && lastTrainBytes > b.maxTrainBytes()
                && !resultSinceLastTrain(path)) {
            // a train longer than any that passed unslowed may be queued behind a bucket for
            // a second or more (480 KB behind 2 Mbit/s and 256 KB: 0.9 s); probes sharing the
            // shaper meanwhile slow its tail past the session's end (0.6 Mbit/s of probegap
            // made it 1.3 s): none until its result
            due = Math.max(due, lastTrainNs + config.trainResultTimeoutNs());
        }
        return Math.max(due, trainBusyUntilNs);
    }

    /// The fast phase's continuous probegap: [Config#fastProbegapNs()], and in any case until
    /// a quarter of the probes that window holds were sent (a sender held up by a train's
    /// handshake or a route check must not leave the available-bandwidth estimator without
    /// samples until upkeep's sparse bursts fill it).
    private boolean fastProbegapWindow(long nowNs) {
        return nowNs - fastStartNs < config.fastProbegapNs()
                || started && fastProbegaps < fastProbegapMin() && nowNs - fastStartNs < FAST_PROBEGAP_MAX_NS;
    }

    private int fastProbegapMin() {
        return (int) (config.fastProbegapNs() / config.probegapIntervalNs() / 4);
    }

    private double dither() {
        return 1 + config.probegapDither() * (2 * random.nextDouble() - 1);
    }

    private ProbeAction issueProbegap(long nowNs, PathSnapshot path, boolean active) {
        long rate = path.bottleneck().map(BottleneckEstimate::rateBps).orElse(0L);
        int size = config.probegapIpBytes();
        boolean fastWindow = fastProbegapWindow(nowNs);
        if (fastWindow) {
            fastBytes += size;
            fastProbegaps++;
        }
        lastProbegapNs = nowNs;
        if (active) {
            double mean = config.probegapIntervalNs();
            if (rate > 0 && !fastWindow) {
                mean = Math.max(mean, size * 8e9 / (config.activeProbegapShare() * rate));
            }
            nextProbegapNs = nowNs + (long) (mean * dither());
        } else if (fastWindow) {
            nextProbegapNs = nowNs + (long) (config.probegapIntervalNs() * dither());
        } else {
            if (burstLeft == 0) {
                burstLeft = config.upkeepProbegapBurst();
                double bits = (double) config.upkeepProbegapBurst() * size * 8;
                long interval = rate > 0
                        ? Math.clamp((long) (bits * 1e9 / (config.upkeepProbegapShare() * rate)),
                                UPKEEP_PROBEGAP_MIN_NS, UPKEEP_PROBEGAP_MAX_NS)
                        : UPKEEP_PROBEGAP_MIN_NS;
                nextBurstNs = nowNs + interval;
            }
            burstLeft--;
            nextProbegapNs = nowNs + config.probegapIntervalNs();
        }
        return new ProbeAction.SendProbegap(size);
    }
}
