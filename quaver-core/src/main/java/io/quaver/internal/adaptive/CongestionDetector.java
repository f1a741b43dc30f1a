package io.quaver.internal.adaptive;

import io.quaver.internal.adaptive.TrendlineEstimator.Hypothesis;

/// Decides whether a path is CONGESTED or UNCONGESTED from one-way-delay samples (the
/// [MS-QLPB] probegap reflections, one per ms while an adaptive flow is open) or, for a TCP
/// flow whose peer runs no sink, from `TCP_INFO` samples. Pure and single-threaded: no clock,
/// no I/O, no threads; every call takes `nowNs` and the caller serialises calls (one detector
/// per path, fed by the prober).
///
/// ## Algorithm
/// Three signals, combined with time hysteresis (qwave.md §8.6 leaves the rules open):
///
/// 1. **Delay gradient** — WebRTC GoogCC's trendline over-use detector ([TrendlineEstimator]:
///    5 ms send-time groups with burst-aware grouping, 20-group least-squares slope of the
///    smoothed accumulated delay, adaptive threshold 12.5 in [6, 600], over-use after > 10 ms on
///    ≥ 2 groups with a non-decreasing trend). It sees a queue *grow*, within tens of ms.
/// 2. **Queuing-delay level** — LEDBAT (RFC 6817) style: the base delay is the minimum one-way
///    delay over [DetectorConfig#baseBuckets()] buckets of [DetectorConfig#baseBucketNs()]
///    (clock offset between sender and sink cancels); the current delay is the *minimum* over
///    the last [DetectorConfig#queueFloorWindowNs()] (the queue's floor: per-packet jitter and
///    20–40 ms delivery bursts only ever add delay, so the minimum over a window longer than a
///    burst is the standing queue). Queuing delay = floor − base − jitter floor.
///    - The **standing jitter floor**: jitter delivered in order (probes held behind a delayed
///      one, as behind a link-layer retransmission or the link emulator's jitter without
///      reordering) keeps the floor of every window well above the rare minimum — ±20 ms of it
///      holds the 40 ms floor 16 ms (median) above the base, which read as a standing queue: the
///      gradient guard opened (alarms) and the drained rule never held (CONGESTED for minutes).
///      The detector learns, while the path is calm, how high the floor usually stands above the
///      base (a streaming quantile, [#learnJitterFloor]), capped by the delays' spread (a
///      standing queue lifts every delay alike and leaves the spread small; jitter cannot hold
///      the floor higher than the delays vary), and measures queues above it; so "drained" means
///      back to the path's usual spread, and a gradient counts only over a queue above it.
///    - The gradient counts only while queuing delay ≥ [DetectorConfig#gradientMinQueueNs()]:
///      this guard is what keeps the trendline's known false positives on bursty radio links
///      (performance-anchors.md §2.1) from becoming notifications.
///    - Queuing delay ≥ [DetectorConfig#queueDelayThresholdNs()] (LEDBAT++'s 60 ms target)
///      alone means congestion: a standing queue that no longer grows.
/// 3. **Loss** — sequence gaps over [DetectorConfig#lossWindowNs()]; ≥ 10 % with ≥ 20 packets
///    (GoogCC's loss-based thresholds) means congestion (a full drop-tail buffer). A gap counts
///    only once its probes have not come for [#REORDER_WINDOW_NS] (RACK's reordering window,
///    RFC 8985): reordering is not loss.
///
/// **Hysteresis.** UNCONGESTED → CONGESTED once any condition has held for
/// [DetectorConfig#enterHoldNs()]; CONGESTED → UNCONGESTED once queuing delay ≤
/// [DetectorConfig#drainedQueueNs()] and loss < [DetectorConfig#lossExitFraction()] have held
/// for [DetectorConfig#exitHoldNs()]. The floor falls with the queue without lag (the minimum of
/// a falling series is its newest value), so "drained" is seen at once; it rises one window
/// late, which the gradient covers.
///
/// ## Limits
/// A queue present from the first sample is taken as base delay (as in LEDBAT); a standing
/// queue older than the base history, or a route change, shifts the base. On a path whose
/// delays vary by D (mean deviation above the floor), a standing queue that builds too slowly
/// for the trendline and stays below 3 × D can be taken for jitter floor. Positive clock skew
/// between sender and sink adds at most skew × history (2 min × 20 ppm = 2.4 ms) of false queue.
public final class CongestionDetector {
    private final DetectorConfig config;
    private final TrendlineEstimator trendline;

    // base delay: minimum per bucket
    private final long[] bucketMin;
    private long currentBucket = Long.MIN_VALUE;
    private int bucketsFilled;

    // floor window: monotonic deque of (time, delay), increasing delays
    private long[] floorAt = new long[256];
    private long[] floorVal = new long[256];
    private int floorHead;
    private int floorSize;

    // loss: buckets of expected/received packets
    private static final int LOSS_SLOTS = 10;
    private final long lossSlotNs;
    private final long[] slotExpected = new long[LOSS_SLOTS];
    private final long[] slotReceived = new long[LOSS_SLOTS];
    private final long[] slotIndex = new long[LOSS_SLOTS];
    private boolean haveSeq;
    private long lastSeq32;
    /// How long a sequence gap waits for its probes before they count as lost.
    static final long REORDER_WINDOW_NS = 50_000_000L;
    // gaps held for the reordering window: a ring of (first sequence, length, still missing, deadline)
    private static final int MAX_GAPS = 64;
    private final long[] gapFirst = new long[MAX_GAPS];
    private final long[] gapLength = new long[MAX_GAPS];
    private final long[] gapMissing = new long[MAX_GAPS];
    private final long[] gapDeadline = new long[MAX_GAPS];
    private int gapHead;
    private int gapCount;
    private long lastTcpRetrans = -1;
    private long lastTcpBytesAcked = -1;

    private CongestionState state = CongestionState.UNCONGESTED;
    private long stateSinceNs = Long.MIN_VALUE;
    private long conditionSinceNs = Long.MIN_VALUE;
    private Transition.Cause conditionCause;
    private long queueNs = -1;
    private long samples;

    /// Rise rate of the standing jitter floor: 2 ms per second.
    static final double JITTER_FLOOR_RISE_NS_PER_S = 2_000_000.0;
    /// Fall rate of the standing jitter floor: 1 ms per second (with the rise rate, the estimate
    /// settles where the floor is below it 2/3 of the time: rise / (rise + fall)).
    static final double JITTER_FLOOR_FALL_NS_PER_S = 1_000_000.0;
    /// The jitter floor learns 10× faster for this long after the first sample.
    static final long JITTER_FLOOR_FAST_NS = 3_000_000_000L;
    /// Time constant of the delays' mean deviation above the floor.
    static final long SPREAD_TAU_NS = 1_000_000_000L;
    /// Longest gap between samples that counts as learning time.
    private static final long JITTER_FLOOR_MAX_STEP_NS = 100_000_000L;
    // standing jitter floor (ns above the base) and the delays' mean deviation above the floor
    private double jitterFloorNs;
    private double spreadNs;
    private long firstSampleNs = Long.MIN_VALUE;
    private long lastLearnNs;

    /// A detector with [DetectorConfig#DEFAULT].
    public CongestionDetector() {
        this(DetectorConfig.DEFAULT);
    }

    public CongestionDetector(DetectorConfig config) {
        this.config = config;
        this.trendline = new TrendlineEstimator(config.trendlineWindow(), config.trendlineSmoothing(),
                config.trendlineGain());
        this.bucketMin = new long[config.baseBuckets()];
        this.lossSlotNs = Math.max(1, config.lossWindowNs() / LOSS_SLOTS);
        java.util.Arrays.fill(slotIndex, Long.MIN_VALUE);
    }

    /// One probegap reflection (or any one-way-delay sample).
    ///
    /// @param nowNs     the local clock now (the reflection's arrival); drives every timer
    /// @param sequence  the probe's sequence number (32-bit, wrapping); gaps count as loss
    /// @param sendNs    the sender's clock when the probe left
    /// @param receiveNs the sink's clock when the probe arrived, in ns (any epoch: the sink's
    ///                  100 ns timestamp × 100)
    /// @return the state change this sample caused, or `null`
    public Transition onProbe(long nowNs, long sequence, long sendNs, long receiveNs) {
        samples++;
        long owdNs = receiveNs - sendNs;
        observeDelay(nowNs, owdNs, owdNs);
        trendline.onPacket(sendNs, receiveNs);
        countSequence(nowNs, sequence);
        return evaluate(nowNs);
    }

    /// A probe that arrived but whose send time is unknown (the prober withdrew its sample: the
    /// send stalled, so the probe may have left well after its timestamp). It counts as
    /// received for loss — it is not lost — and gives no delay sample.
    ///
    /// @param nowNs    the local clock now (the reflection's arrival)
    /// @param sequence the probe's sequence number (32-bit, wrapping)
    /// @return the state change, or `null`
    public Transition onArrival(long nowNs, long sequence) {
        countSequence(nowNs, sequence);
        return onTick(nowNs);
    }

    /// One `TCP_INFO` sample of a TCP flow whose peer runs no sink (beyond qWAVE). Queuing
    /// delay is the smoothed RTT over the kernel's minimum RTT; loss is retransmissions over
    /// segments delivered since the previous sample.
    ///
    /// @param nowNs        the local clock now
    /// @param srttUs       `tcpi_rtt`, µs
    /// @param minRttUs     `tcpi_min_rtt`, µs
    /// @param totalRetrans `tcpi_total_retrans` (cumulative)
    /// @param bytesAcked   `tcpi_bytes_acked` (cumulative)
    /// @param sndMss       `tcpi_snd_mss`, bytes
    /// @return the state change this sample caused, or `null`
    public Transition onTcpInfo(long nowNs, long srttUs, long minRttUs, long totalRetrans, long bytesAcked,
                                int sndMss) {
        samples++;
        long rttNs = srttUs * 1000;
        observeDelay(nowNs, rttNs, Math.min(rttNs, minRttUs * 1000));
        trendline.onPacket(nowNs, nowNs + rttNs);
        if (lastTcpRetrans >= 0 && totalRetrans >= lastTcpRetrans && bytesAcked >= lastTcpBytesAcked) {
            long retrans = totalRetrans - lastTcpRetrans;
            long delivered = (bytesAcked - lastTcpBytesAcked) / Math.max(1, sndMss);
            addLoss(nowNs, delivered + retrans, delivered);
        }
        lastTcpRetrans = totalRetrans;
        lastTcpBytesAcked = bytesAcked;
        return evaluate(nowNs);
    }

    /// Time passes without a sample (a timer of the caller): lets holds expire.
    ///
    /// @return the state change, or `null`
    public Transition onTick(long nowNs) {
        evictFloor(nowNs);
        if (floorSize == 0) {
            return null; // no recent sample: nothing to decide on
        }
        return evaluate(nowNs);
    }

    private void observeDelay(long nowNs, long delayNs, long baseCandidateNs) {
        // base buckets
        long bucket = Math.floorDiv(nowNs, config.baseBucketNs());
        if (currentBucket == Long.MIN_VALUE || bucket != currentBucket) {
            long steps = currentBucket == Long.MIN_VALUE ? 1 : Math.min(bucket - currentBucket, bucketMin.length);
            for (long i = 0; i < Math.max(1, steps); i++) {
                System.arraycopy(bucketMin, 0, bucketMin, 1, bucketMin.length - 1);
                bucketMin[0] = Long.MAX_VALUE;
            }
            bucketsFilled = (int) Math.min(bucketMin.length, bucketsFilled + Math.max(1, steps));
            currentBucket = bucket;
        }
        bucketMin[0] = Math.min(bucketMin[0], baseCandidateNs);
        // floor window
        evictFloor(nowNs);
        while (floorSize > 0 && floorVal[idx(floorSize - 1)] >= delayNs) {
            floorSize--;
        }
        if (floorSize == floorAt.length) {
            growFloor();
        }
        floorAt[idx(floorSize)] = nowNs;
        floorVal[idx(floorSize)] = delayNs;
        floorSize++;
        long base = Long.MAX_VALUE;
        for (int i = 0; i < bucketsFilled; i++) {
            base = Math.min(base, bucketMin[i]);
        }
        long floor = floorVal[idx(0)];
        long excessNs = Math.max(0, floor - base);
        learnJitterFloor(nowNs, excessNs, Math.max(0, delayNs - floor));
        queueNs = Math.max(0, excessNs - (long) jitterFloorNs);
    }

    /// Learns the standing jitter floor from one sample while the path is calm: UNCONGESTED, no
    /// congestion condition pending, the trendline's modified trend below half its threshold (a
    /// queue rising too slowly for an over-use is not learnt as jitter either). The floor's height above the
    /// base is tracked by frugal streaming (Ma, Muthukrishnan, Sandler, "Frugal Streaming for
    /// Estimating Quantiles", 2013): the estimate moves up at [#JITTER_FLOOR_RISE_NS_PER_S] while
    /// the height is above it and down at [#JITTER_FLOOR_FALL_NS_PER_S] while below, so it settles
    /// at the height's 67th percentile (at 100 probes/s a 40 ms floor holds only 4 probes and
    /// varies widely: the median left 10 alarms/h on the in-order ±20 ms path, this 1/h, and
    /// 0 at 1,000 probes/s either way); it is capped by
    /// [DetectorConfig#jitterFloorSpreads()] × the delays' mean deviation above the floor
    /// (RFC 6298's RTTVAR as a spread measure), because jitter can only hold the floor up by as
    /// much as the delays vary, while a standing queue lifts every delay alike and leaves the
    /// deviation small. For the first [#JITTER_FLOOR_FAST_NS] the rates are 10× (the base delay
    /// settles then as well).
    private void learnJitterFloor(long nowNs, long excessNs, long deviationNs) {
        if (config.jitterFloorSpreads() == 0) {
            return;
        }
        if (firstSampleNs == Long.MIN_VALUE) {
            firstSampleNs = nowNs;
            lastLearnNs = nowNs;
            return;
        }
        long dtNs = Math.clamp(nowNs - lastLearnNs, 0, JITTER_FLOOR_MAX_STEP_NS);
        lastLearnNs = nowNs;
        boolean calm = state == CongestionState.UNCONGESTED && conditionSinceNs == Long.MIN_VALUE
                && trendline.hypothesis() != Hypothesis.OVERUSING
                && trendline.modifiedTrend() < trendline.threshold() / 2;
        if (!calm || dtNs == 0) {
            return;
        }
        spreadNs += (deviationNs - spreadNs) * Math.min(1.0, dtNs / (double) SPREAD_TAU_NS);
        double seconds = dtNs / 1e9 * (nowNs - firstSampleNs < JITTER_FLOOR_FAST_NS ? 10 : 1);
        double target = Math.min(excessNs, config.jitterFloorSpreads() * spreadNs);
        if (target > jitterFloorNs) {
            jitterFloorNs = Math.min(target, jitterFloorNs + JITTER_FLOOR_RISE_NS_PER_S * seconds);
        } else {
            jitterFloorNs = Math.max(target, jitterFloorNs - JITTER_FLOOR_FALL_NS_PER_S * seconds);
        }
    }

    private int idx(int i) {
        return (floorHead + i) & (floorAt.length - 1);
    }

    private void evictFloor(long nowNs) {
        while (floorSize > 0 && nowNs - floorAt[floorHead] > config.queueFloorWindowNs()) {
            floorHead = (floorHead + 1) & (floorAt.length - 1);
            floorSize--;
        }
    }

    private void growFloor() {
        int n = floorAt.length;
        long[] at = new long[n * 2];
        long[] val = new long[n * 2];
        for (int i = 0; i < floorSize; i++) {
            at[i] = floorAt[idx(i)];
            val[i] = floorVal[idx(i)];
        }
        floorAt = at;
        floorVal = val;
        floorHead = 0;
    }

    /// Counts one arrival. A sequence gap is not loss at once: the missing probes are held for
    /// [#REORDER_WINDOW_NS] (RACK's reordering window, RFC 8985 §6.2, fixed here), and count as
    /// received if they turn up meanwhile, as lost otherwise; so jitter that reorders probes is
    /// not read as loss (at 1,000 probes/s, ±5 ms of jitter keeps about 5 probes outstanding:
    /// 2 % of a 250 ms window, GoogCC's low-loss threshold, which held the exit back).
    private void countSequence(long nowNs, long sequence) {
        matureGaps(nowNs);
        long seq32 = sequence & 0xFFFF_FFFFL;
        if (!haveSeq) {
            haveSeq = true;
            lastSeq32 = seq32;
            addLoss(nowNs, 1, 1);
            return;
        }
        int delta = (int) (seq32 - lastSeq32);
        if (delta > 0 && delta <= 1 << 16) {
            if (delta > 1) {
                holdGap(lastSeq32 + 1, delta - 1, nowNs + REORDER_WINDOW_NS);
            }
            lastSeq32 = seq32;
            addLoss(nowNs, 1, 1);
        } else if (delta <= 0 && delta > -(1 << 16)) {
            // late (reordered): fills a held gap, or one already counted as lost; or a duplicate
            addLoss(nowNs, fillGap(seq32) ? 1 : 0, 1);
        } else {
            lastSeq32 = seq32; // a jump: the sequence restarted
            addLoss(nowNs, 1, 1);
        }
    }

    private void holdGap(long firstSeq32, long count, long deadlineNs) {
        if (gapCount == gapFirst.length) {
            // too many gaps held at once: the oldest counts as lost now
            addLoss(gapDeadline[gapHead], gapMissing[gapHead], 0);
            gapHead = (gapHead + 1) % gapFirst.length;
            gapCount--;
        }
        int i = (gapHead + gapCount) % gapFirst.length;
        gapFirst[i] = firstSeq32;
        gapLength[i] = count;
        gapMissing[i] = count;
        gapDeadline[i] = deadlineNs;
        gapCount++;
    }

    private boolean fillGap(long seq32) {
        for (int k = 0; k < gapCount; k++) {
            int i = (gapHead + k) % gapFirst.length;
            long offset = (seq32 - gapFirst[i]) & 0xFFFF_FFFFL;
            if (offset < gapLength[i] && gapMissing[i] > 0) {
                gapMissing[i]--;
                return true;
            }
        }
        return false;
    }

    /// Held gaps past their deadline count as lost, at their deadline.
    private void matureGaps(long nowNs) {
        while (gapCount > 0 && nowNs - gapDeadline[gapHead] >= 0) {
            addLoss(gapDeadline[gapHead], gapMissing[gapHead], 0);
            gapHead = (gapHead + 1) % gapFirst.length;
            gapCount--;
        }
    }

    private void addLoss(long nowNs, long expected, long received) {
        long slot = Math.floorDiv(nowNs, lossSlotNs);
        int i = (int) Math.floorMod(slot, (long) LOSS_SLOTS);
        if (slotIndex[i] != Long.MIN_VALUE && slotIndex[i] > slot) {
            return; // a matured gap older than the window
        }
        if (slotIndex[i] != slot) {
            slotIndex[i] = slot;
            slotExpected[i] = 0;
            slotReceived[i] = 0;
        }
        slotExpected[i] += expected;
        slotReceived[i] += received;
    }

    /// Loss fraction over the loss window, or -1 with fewer than `lossMinPackets` expected.
    private double lossFraction(long nowNs) {
        long slot = Math.floorDiv(nowNs, lossSlotNs);
        long expected = 0;
        long received = 0;
        for (int i = 0; i < LOSS_SLOTS; i++) {
            if (slotIndex[i] != Long.MIN_VALUE && slot - slotIndex[i] < LOSS_SLOTS) {
                expected += slotExpected[i];
                received += slotReceived[i];
            }
        }
        if (expected < config.lossMinPackets()) {
            return -1;
        }
        return Math.max(0, expected - received) / (double) expected;
    }

    private Transition evaluate(long nowNs) {
        matureGaps(nowNs);
        if (stateSinceNs == Long.MIN_VALUE) {
            stateSinceNs = nowNs;
        }
        double loss = lossFraction(nowNs);
        if (state == CongestionState.UNCONGESTED) {
            Transition.Cause cause = null;
            if (trendline.hypothesis() == Hypothesis.OVERUSING && queueNs >= config.gradientMinQueueNs()) {
                cause = Transition.Cause.DELAY_GRADIENT;
            } else if (queueNs >= config.queueDelayThresholdNs()) {
                cause = Transition.Cause.QUEUE_LEVEL;
            } else if (loss >= config.lossEnterFraction()) {
                cause = Transition.Cause.LOSS;
            }
            if (cause == null) {
                conditionSinceNs = Long.MIN_VALUE;
                return null;
            }
            if (conditionSinceNs == Long.MIN_VALUE) {
                conditionSinceNs = nowNs;
                conditionCause = cause;
            }
            if (nowNs - conditionSinceNs >= config.enterHoldNs()) {
                return change(CongestionState.CONGESTED, nowNs, conditionCause);
            }
            return null;
        }
        boolean drained = queueNs <= config.drainedQueueNs() && loss < config.lossExitFraction();
        if (!drained) {
            conditionSinceNs = Long.MIN_VALUE;
            return null;
        }
        if (conditionSinceNs == Long.MIN_VALUE) {
            conditionSinceNs = nowNs;
        }
        if (nowNs - conditionSinceNs >= config.exitHoldNs()) {
            return change(CongestionState.UNCONGESTED, nowNs, Transition.Cause.DRAINED);
        }
        return null;
    }

    private Transition change(CongestionState to, long nowNs, Transition.Cause cause) {
        Transition t = new Transition(state, to, nowNs, cause);
        state = to;
        stateSinceNs = nowNs;
        conditionSinceNs = Long.MIN_VALUE;
        return t;
    }

    /// The current state (UNCONGESTED before any sample).
    public CongestionState state() {
        return state;
    }

    /// When the current state was entered (`Long.MIN_VALUE` before any sample).
    public long stateSinceNs() {
        return stateSinceNs;
    }

    /// The detector's inputs as it last saw them, for diagnostics and benchmarks.
    public Reading reading(long nowNs) {
        return new Reading(state, queueNs, trendline.hypothesis(), trendline.modifiedTrend(),
                trendline.threshold(), lossFraction(nowNs), samples, (long) jitterFloorNs, (long) spreadNs);
    }

    public DetectorConfig config() {
        return config;
    }

    /// A snapshot of the detector's signals.
    ///
    /// @param state          the current state
    /// @param queueDelayNs   queuing delay (floor − base), -1 before any sample
    /// @param hypothesis     the trendline's over-use hypothesis
    /// @param modifiedTrend  the trendline's modified trend
    /// @param threshold      the trendline's adaptive threshold
    /// @param lossFraction   loss over the window, -1 with too few packets
    /// @param samples        samples seen
    /// @param jitterFloorNs  the standing jitter floor, subtracted from the floor's height above
    ///                       the base
    /// @param spreadNs       the delays' mean deviation above the floor (calm periods)
    public record Reading(CongestionState state, long queueDelayNs, Hypothesis hypothesis, double modifiedTrend,
                          double threshold, double lossFraction, long samples, long jitterFloorNs, long spreadNs) {
    }
}
