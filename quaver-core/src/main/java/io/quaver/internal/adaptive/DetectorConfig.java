package io.quaver.internal.adaptive;

/// The thresholds of the [CongestionDetector]; every time in nanoseconds, every delay is a
/// queuing delay (one-way delay above the path's base delay).
///
/// @param queueFloorWindowNs    the queuing delay is the *minimum* one-way delay over this window
///                              minus the base delay; longer than the longest delivery burst of
///                              a radio link (Wi-Fi aggregation, LTE scheduling: 20–40 ms), so that
///                              bursty delivery does not read as a queue
/// @param baseBucketNs          length of one base-delay bucket (LEDBAT, RFC 6817 §3.4.2: 1 min)
/// @param baseBuckets           buckets kept; the base delay is their minimum (RFC 6817: 10). The
///                              product bounds how much sender/sink clock skew can build up as a
///                              false queue, and how long a standing queue takes to be forgotten
/// @param gradientMinQueueNs    the delay gradient (GoogCC trendline over-use) counts only while
///                              the queuing delay is at least this: a gradient without a queue
///                              is jitter or a delivery burst
/// @param queueDelayThresholdNs the queuing delay that alone means congestion (LEDBAT++ target
///                              60 ms; RFC 6817 TARGET ≤ 100 ms)
/// @param lossWindowNs          window of the loss fraction
/// @param lossMinPackets        packets expected in the window before loss counts (GoogCC
///                              `kLimitNumPackets` = 20)
/// @param lossEnterFraction     loss that means congestion (GoogCC high-loss threshold 10 %)
/// @param lossExitFraction      loss that no longer does (GoogCC low-loss threshold 2 %)
/// @param enterHoldNs           a congestion condition must hold this long to enter CONGESTED
/// @param drainedQueueNs        the queue counts as drained at or below this queuing delay
/// @param exitHoldNs            the queue must stay drained (and loss low) this long to leave
///                              CONGESTED
/// @param trendlineWindow       groups in the trendline regression (GoogCC default 20)
/// @param trendlineSmoothing    trendline smoothing coefficient (GoogCC default 0.9)
/// @param trendlineGain         trendline threshold gain (GoogCC default 4)
/// @param jitterFloorSpreads    the standing jitter floor (how high the floor usually stands above
///                              the base on this path when it is calm, see [CongestionDetector]) is
///                              at most this many times the delays' mean deviation above the floor;
///                              0 turns the jitter floor off (every floor above the base is queue)
public record DetectorConfig(long queueFloorWindowNs, long baseBucketNs, int baseBuckets, long gradientMinQueueNs,
                             long queueDelayThresholdNs, long lossWindowNs, int lossMinPackets,
                             double lossEnterFraction, double lossExitFraction, long enterHoldNs,
                             long drainedQueueNs, long exitHoldNs, int trendlineWindow, double trendlineSmoothing,
                             double trendlineGain, double jitterFloorSpreads) {
    private static final long MS = 1_000_000L;

    /// Quaver's defaults, tuned with `DetectorBenchmark` / [io.quaver.internal.adaptive.sim.DetectorReplay]
    /// against goals G7–G9: the floor window as short as G9's longest delivery burst (the
    /// previous 50 ms detected a step-down about 10 ms later); a 5 ms enter hold (with a 12 or
    /// 15 ms gradient guard) raised alarms on the stress (correlated wander) path.
    public static final DetectorConfig DEFAULT = new DetectorConfig(
            40 * MS,          // queueFloorWindowNs: ≥ the longest delivery burst of G9 (40 ms)
            10_000 * MS,      // baseBucketNs: 10 s
            12,               // baseBuckets: 2 min of base history
            15 * MS,          // gradientMinQueueNs: above ±5 ms of correlated delay wander
            60 * MS,          // queueDelayThresholdNs: LEDBAT++
            250 * MS,         // lossWindowNs
            20,               // lossMinPackets: GoogCC kLimitNumPackets
            0.10,             // lossEnterFraction: GoogCC
            0.02,             // lossExitFraction: GoogCC
            10 * MS,          // enterHoldNs (0: about 1 alarm/h on the clean ±5 ms path; 5: alarms on the stress path)
            10 * MS,          // drainedQueueNs
            300 * MS,         // exitHoldNs
            TrendlineEstimator.DEFAULT_WINDOW_SIZE,
            TrendlineEstimator.DEFAULT_SMOOTHING_COEF,
            TrendlineEstimator.DEFAULT_THRESHOLD_GAIN,
            3.0);             // jitterFloorSpreads: in-order ±20 ms jitter needs 1.5 (floor 11-15 ms, deviation 10 ms)

    public DetectorConfig {
        if (queueFloorWindowNs <= 0 || baseBucketNs <= 0 || baseBuckets < 1 || gradientMinQueueNs < 0
                || queueDelayThresholdNs <= 0 || lossWindowNs <= 0 || lossMinPackets < 1
                || !(lossEnterFraction > 0 && lossEnterFraction <= 1)
                || !(lossExitFraction >= 0 && lossExitFraction <= lossEnterFraction) || enterHoldNs < 0
                || drainedQueueNs < 0 || drainedQueueNs > queueDelayThresholdNs || exitHoldNs < 0
                || trendlineWindow < 2 || !(trendlineSmoothing >= 0 && trendlineSmoothing < 1)
                || !(trendlineGain > 0) || !(jitterFloorSpreads >= 0 && jitterFloorSpreads <= 100)) {
            throw new IllegalArgumentException("inconsistent detector configuration (times > 0, fractions in [0, 1],"
                    + " lossExit ≤ lossEnter, drained ≤ queue threshold, window ≥ 2, smoothing in [0, 1)): "
                    + "floor " + queueFloorWindowNs + " ns, base " + baseBuckets + " × " + baseBucketNs + " ns, gradient queue "
                    + gradientMinQueueNs + " ns, queue " + queueDelayThresholdNs + " ns, loss window " + lossWindowNs
                    + " ns / " + lossMinPackets + " packets, loss " + lossEnterFraction + "/" + lossExitFraction
                    + ", holds " + enterHoldNs + "/" + exitHoldNs + " ns, drained " + drainedQueueNs + " ns, trendline "
                    + trendlineWindow + "/" + trendlineSmoothing + "/" + trendlineGain + ", jitter floor spreads "
                    + jitterFloorSpreads);
        }
    }

    /// The detector configuration of a handle's [io.quaver.CongestionThresholds] (already
    /// validated); the rest (base history, loss window, trendline) keeps the defaults.
    public static DetectorConfig of(io.quaver.CongestionThresholds t) {
        DetectorConfig d = DEFAULT;
        return new DetectorConfig(t.queueFloorWindow().toNanos(), d.baseBucketNs, d.baseBuckets,
                t.gradientMinQueue().toNanos(), t.queueDelay().toNanos(), d.lossWindowNs, d.lossMinPackets,
                t.lossEnter(), t.lossExit(), t.enterHold().toNanos(), t.drainedQueue().toNanos(), t.exitHold().toNanos(),
                d.trendlineWindow, d.trendlineSmoothing, d.trendlineGain, d.jitterFloorSpreads);
    }

    public DetectorConfig withEnterHoldNs(long ns) {
        return new DetectorConfig(queueFloorWindowNs, baseBucketNs, baseBuckets, gradientMinQueueNs,
                queueDelayThresholdNs, lossWindowNs, lossMinPackets, lossEnterFraction, lossExitFraction, ns,
                drainedQueueNs, exitHoldNs, trendlineWindow, trendlineSmoothing, trendlineGain, jitterFloorSpreads);
    }

    public DetectorConfig withExitHoldNs(long ns) {
        return new DetectorConfig(queueFloorWindowNs, baseBucketNs, baseBuckets, gradientMinQueueNs,
                queueDelayThresholdNs, lossWindowNs, lossMinPackets, lossEnterFraction, lossExitFraction, enterHoldNs,
                drainedQueueNs, ns, trendlineWindow, trendlineSmoothing, trendlineGain, jitterFloorSpreads);
    }

    public DetectorConfig withQueueThresholdsNs(long gradientMinQueue, long queueDelayThreshold, long drainedQueue) {
        return new DetectorConfig(queueFloorWindowNs, baseBucketNs, baseBuckets, gradientMinQueue,
                queueDelayThreshold, lossWindowNs, lossMinPackets, lossEnterFraction, lossExitFraction, enterHoldNs,
                drainedQueue, exitHoldNs, trendlineWindow, trendlineSmoothing, trendlineGain, jitterFloorSpreads);
    }

    public DetectorConfig withQueueFloorWindowNs(long ns) {
        return new DetectorConfig(ns, baseBucketNs, baseBuckets, gradientMinQueueNs,
                queueDelayThresholdNs, lossWindowNs, lossMinPackets, lossEnterFraction, lossExitFraction, enterHoldNs,
                drainedQueueNs, exitHoldNs, trendlineWindow, trendlineSmoothing, trendlineGain, jitterFloorSpreads);
    }

    public DetectorConfig withJitterFloorSpreads(double spreads) {
        return new DetectorConfig(queueFloorWindowNs, baseBucketNs, baseBuckets, gradientMinQueueNs,
                queueDelayThresholdNs, lossWindowNs, lossMinPackets, lossEnterFraction, lossExitFraction, enterHoldNs,
                drainedQueueNs, exitHoldNs, trendlineWindow, trendlineSmoothing, trendlineGain, spreads);
    }
}
