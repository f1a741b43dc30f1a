package io.quaver.internal.adaptive;

/// A port of WebRTC GoogCC's delay-gradient over-use detector: `InterArrivalDelta` (packet
/// grouping by send time, burst-aware) feeding `TrendlineEstimator` (least-squares slope of the
/// smoothed accumulated delay variation, adaptive threshold, over-use timer).
///
/// Sources (libwebrtc, `modules/congestion_controller/goog_cc/`):
/// `inter_arrival_delta.{h,cc}`, `trendline_estimator.{h,cc}`, and `delay_based_bwe.cc` for the
/// stream time-out; the constants are GoogCC's and named after their C++ counterparts (see
/// `performance-anchors.md` §2.1). Differences from the original:
///
/// - times are `long` nanoseconds in and `double` milliseconds inside (as GoogCC computes);
/// - the group's *send* time and *arrival* time come from one probe each (GoogCC: the transport
///   feedback of media packets); the clocks of sender and receiver may differ by any constant
///   offset, only deltas are used;
/// - there is no packet-size delta and no "arrival time offset" against a system clock.
///
/// Pure and single-threaded: no clock, no I/O; the caller passes every time.
public final class TrendlineEstimator {
    /// `kSendTimeGroupLength` / `kTimestampGroupLengthMs`: packets sent within 5 ms form a group.
    public static final long SEND_TIME_GROUP_LENGTH_NS = 5_000_000L;
    /// `kBurstDeltaThreshold`: a packet arriving within 5 ms of its group, earlier than its send
    /// spacing implies, belongs to the group's arrival burst.
    public static final long BURST_DELTA_THRESHOLD_NS = 5_000_000L;
    /// `kMaxBurstDuration`: a burst group never spans more than 100 ms of arrivals.
    public static final long MAX_BURST_DURATION_NS = 100_000_000L;
    /// `kReorderedResetThreshold`: three consecutive reordered groups reset the grouping.
    public static final int REORDERED_RESET_THRESHOLD = 3;
    /// `kStreamTimeOut` (delay_based_bwe.cc): after 2 s without packets the state is reset.
    public static final long STREAM_TIMEOUT_NS = 2_000_000_000L;
    /// `kDefaultTrendlineWindowSize`: groups in the regression window.
    public static final int DEFAULT_WINDOW_SIZE = 20;
    /// `kDefaultTrendlineSmoothingCoeff`: exponential smoothing of the accumulated delay.
    public static final double DEFAULT_SMOOTHING_COEF = 0.9;
    /// `kDefaultTrendlineThresholdGain`: the slope is multiplied by this gain.
    public static final double DEFAULT_THRESHOLD_GAIN = 4.0;
    /// `kMinNumDeltas`: the slope is also multiplied by min(deltas seen, 60).
    public static final int MIN_NUM_DELTAS = 60;
    /// `kDeltaCounterMax`.
    public static final int DELTA_COUNTER_MAX = 1000;
    /// `kOverUsingTimeThreshold`: the modified trend must exceed the threshold for > 10 ms.
    public static final double OVER_USING_TIME_THRESHOLD_MS = 10.0;
    /// Initial adaptive threshold (`threshold_(12.5)`).
    public static final double INITIAL_THRESHOLD = 12.5;
    /// `k_up_`: threshold adaptation when the modified trend is above it, per ms.
    public static final double K_UP = 0.0087;
    /// `k_down_`: threshold adaptation when the modified trend is below it, per ms.
    public static final double K_DOWN = 0.039;
    /// `kMaxAdaptOffsetMs`: spikes larger than threshold + 15 do not adapt the threshold.
    public static final double MAX_ADAPT_OFFSET_MS = 15.0;
    /// `kMaxTimeDeltaMs` of `UpdateThreshold`.
    public static final double MAX_THRESHOLD_TIME_DELTA_MS = 100.0;
    /// Threshold clamp (`SafeClamp(threshold_, 6.f, 600.f)`).
    public static final double MIN_THRESHOLD = 6.0;
    /// Threshold clamp upper bound.
    public static final double MAX_THRESHOLD = 600.0;

    /// GoogCC's `BandwidthUsage`.
    public enum Hypothesis {
        NORMAL, UNDERUSING, OVERUSING
    }

    private final int windowSize;
    private final double smoothingCoef;
    private final double thresholdGain;

    // InterArrivalDelta: current and previous group
    private boolean hasCurrent;
    private long curFirstSendNs;
    private long curSendNs;
    private long curFirstArrivalNs;
    private long curCompleteNs;
    private boolean hasPrev;
    private long prevSendNs;
    private long prevCompleteNs;
    private int consecutiveReordered;
    private long lastPacketNs = Long.MIN_VALUE;

    // TrendlineEstimator
    private final double[] histX;
    private final double[] histY;
    private int histStart;
    private int histSize;
    private int numOfDeltas;
    private long firstArrivalNs = Long.MIN_VALUE;
    private double accumulatedDelayMs;
    private double smoothedDelayMs;
    private double prevTrend;
    private double prevModifiedTrend;
    private double timeOverUsingMs = -1;
    private int overuseCounter;
    private double thresholdValue = INITIAL_THRESHOLD;
    private long lastThresholdUpdateNs = Long.MIN_VALUE;
    private Hypothesis hypothesis = Hypothesis.NORMAL;
    private long groups;

    /// GoogCC's defaults: window 20, smoothing 0.9, gain 4.
    public TrendlineEstimator() {
        this(DEFAULT_WINDOW_SIZE, DEFAULT_SMOOTHING_COEF, DEFAULT_THRESHOLD_GAIN);
    }

    /// @param windowSize    groups in the regression window (GoogCC allows 10–200)
    /// @param smoothingCoef weight of the old value in the smoothing filter, in [0, 1)
    /// @param thresholdGain multiplier of the slope
    public TrendlineEstimator(int windowSize, double smoothingCoef, double thresholdGain) {
        if (windowSize < 2 || !(smoothingCoef >= 0 && smoothingCoef < 1) || !(thresholdGain > 0)) {
            throw new IllegalArgumentException("window " + windowSize + ", smoothing " + smoothingCoef
                    + ", gain " + thresholdGain);
        }
        this.windowSize = windowSize;
        this.smoothingCoef = smoothingCoef;
        this.thresholdGain = thresholdGain;
        this.histX = new double[windowSize];
        this.histY = new double[windowSize];
    }

    /// One packet: its send time (sender's clock) and arrival time (receiver's clock).
    ///
    /// @return the hypothesis after this packet (unchanged unless the packet closed a group)
    public Hypothesis onPacket(long sendNs, long arrivalNs) {
        if (lastPacketNs != Long.MIN_VALUE && arrivalNs - lastPacketNs > STREAM_TIMEOUT_NS) {
            reset();
        }
        lastPacketNs = arrivalNs;
        if (!hasCurrent) {
            startGroup(sendNs, arrivalNs);
            return hypothesis;
        }
        if (sendNs - curFirstSendNs < 0) {
            return hypothesis; // reordered packet of an older group
        }
        if (newGroup(sendNs, arrivalNs)) {
            if (hasPrev) {
                long sendDelta = curSendNs - prevSendNs;
                long arrivalDelta = curCompleteNs - prevCompleteNs;
                if (arrivalDelta < 0) {
                    if (++consecutiveReordered >= REORDERED_RESET_THRESHOLD) {
                        resetGrouping();
                        startGroup(sendNs, arrivalNs);
                        return hypothesis;
                    }
                } else {
                    consecutiveReordered = 0;
                    updateTrendline(arrivalDelta / 1e6, sendDelta / 1e6, arrivalNs);
                }
            }
            hasPrev = true;
            prevSendNs = curSendNs;
            prevCompleteNs = curCompleteNs;
            curFirstSendNs = sendNs;
            curSendNs = sendNs;
            curFirstArrivalNs = arrivalNs;
        } else {
            curSendNs = Math.max(curSendNs, sendNs);
        }
        curCompleteNs = arrivalNs;
        return hypothesis;
    }

    private void startGroup(long sendNs, long arrivalNs) {
        hasCurrent = true;
        curFirstSendNs = sendNs;
        curSendNs = sendNs;
        curFirstArrivalNs = arrivalNs;
        curCompleteNs = arrivalNs;
    }

    private boolean newGroup(long sendNs, long arrivalNs) {
        if (belongsToBurst(sendNs, arrivalNs)) {
            return false;
        }
        return sendNs - curFirstSendNs > SEND_TIME_GROUP_LENGTH_NS;
    }

    private boolean belongsToBurst(long sendNs, long arrivalNs) {
        long arrivalDelta = arrivalNs - curCompleteNs;
        long sendDelta = sendNs - curSendNs;
        if (sendDelta == 0) {
            return true;
        }
        long propagationDelta = arrivalDelta - sendDelta;
        return propagationDelta < 0 && arrivalDelta <= BURST_DELTA_THRESHOLD_NS
                && arrivalNs - curFirstArrivalNs < MAX_BURST_DURATION_NS;
    }

    private void updateTrendline(double recvDeltaMs, double sendDeltaMs, long arrivalNs) {
        groups++;
        double deltaMs = recvDeltaMs - sendDeltaMs;
        numOfDeltas = Math.min(numOfDeltas + 1, DELTA_COUNTER_MAX);
        if (firstArrivalNs == Long.MIN_VALUE) {
            firstArrivalNs = arrivalNs;
        }
        accumulatedDelayMs += deltaMs;
        smoothedDelayMs = smoothingCoef * smoothedDelayMs + (1 - smoothingCoef) * accumulatedDelayMs;
        int slot;
        if (histSize < windowSize) {
            slot = (histStart + histSize) % windowSize;
            histSize++;
        } else {
            slot = histStart;
            histStart = (histStart + 1) % windowSize;
        }
        histX[slot] = (arrivalNs - firstArrivalNs) / 1e6;
        histY[slot] = smoothedDelayMs;
        double trend = prevTrend;
        if (histSize == windowSize) {
            double slope = linearFitSlope();
            if (!Double.isNaN(slope)) {
                trend = slope;
            }
        }
        detect(trend, sendDeltaMs, arrivalNs);
    }

    private double linearFitSlope() {
        double sumX = 0;
        double sumY = 0;
        for (int i = 0; i < histSize; i++) {
            sumX += histX[i];
            sumY += histY[i];
        }
        double meanX = sumX / histSize;
        double meanY = sumY / histSize;
        double num = 0;
        double den = 0;
        for (int i = 0; i < histSize; i++) {
            double dx = histX[i] - meanX;
            num += dx * (histY[i] - meanY);
            den += dx * dx;
        }
        return den == 0 ? Double.NaN : num / den;
    }

    private void detect(double trend, double tsDeltaMs, long nowNs) {
        if (numOfDeltas < 2) {
            hypothesis = Hypothesis.NORMAL;
            return;
        }
        double modifiedTrend = Math.min(numOfDeltas, MIN_NUM_DELTAS) * trend * thresholdGain;
        prevModifiedTrend = modifiedTrend;
        if (modifiedTrend > thresholdValue) {
            if (timeOverUsingMs == -1) {
                timeOverUsingMs = tsDeltaMs / 2; // assume over-use for half the time since the last sample
            } else {
                timeOverUsingMs += tsDeltaMs;
            }
            overuseCounter++;
            if (timeOverUsingMs > OVER_USING_TIME_THRESHOLD_MS && overuseCounter > 1 && trend >= prevTrend) {
                timeOverUsingMs = 0;
                overuseCounter = 0;
                hypothesis = Hypothesis.OVERUSING;
            }
        } else if (modifiedTrend < -thresholdValue) {
            timeOverUsingMs = -1;
            overuseCounter = 0;
            hypothesis = Hypothesis.UNDERUSING;
        } else {
            timeOverUsingMs = -1;
            overuseCounter = 0;
            hypothesis = Hypothesis.NORMAL;
        }
        prevTrend = trend;
        updateThreshold(modifiedTrend, nowNs);
    }

    private void updateThreshold(double modifiedTrend, long nowNs) {
        if (lastThresholdUpdateNs == Long.MIN_VALUE) {
            lastThresholdUpdateNs = nowNs;
        }
        if (Math.abs(modifiedTrend) > thresholdValue + MAX_ADAPT_OFFSET_MS) {
            lastThresholdUpdateNs = nowNs; // a spike: do not adapt
            return;
        }
        double k = Math.abs(modifiedTrend) < thresholdValue ? K_DOWN : K_UP;
        double dtMs = Math.min((nowNs - lastThresholdUpdateNs) / 1e6, MAX_THRESHOLD_TIME_DELTA_MS);
        thresholdValue += k * (Math.abs(modifiedTrend) - thresholdValue) * dtMs;
        thresholdValue = Math.clamp(thresholdValue, MIN_THRESHOLD, MAX_THRESHOLD);
        lastThresholdUpdateNs = nowNs;
    }

    private void resetGrouping() {
        hasCurrent = false;
        hasPrev = false;
        consecutiveReordered = 0;
    }

    /// Forgets everything (GoogCC does so after [#STREAM_TIMEOUT_NS] without packets).
    public void reset() {
        resetGrouping();
        histStart = 0;
        histSize = 0;
        numOfDeltas = 0;
        firstArrivalNs = Long.MIN_VALUE;
        accumulatedDelayMs = 0;
        smoothedDelayMs = 0;
        prevTrend = 0;
        prevModifiedTrend = 0;
        timeOverUsingMs = -1;
        overuseCounter = 0;
        thresholdValue = INITIAL_THRESHOLD;
        lastThresholdUpdateNs = Long.MIN_VALUE;
        hypothesis = Hypothesis.NORMAL;
    }

    /// The current over-use hypothesis.
    public Hypothesis hypothesis() {
        return hypothesis;
    }

    /// The last modified trend: slope × min(deltas, 60) × gain (GoogCC's unit-less figure).
    public double modifiedTrend() {
        return prevModifiedTrend;
    }

    /// The slope of the smoothed delay, ms of delay per ms of time (≈ (send rate − capacity) / capacity).
    public double trend() {
        return prevTrend;
    }

    /// The current adaptive threshold.
    public double threshold() {
        return thresholdValue;
    }

    /// Groups closed since construction (diagnostics).
    public long groups() {
        return groups;
    }
}
