package io.quaver.internal.adaptive;

import java.util.OptionalLong;

/// The adaptive state of one path (tracked client): its [CongestionDetector] and its
/// [AvailableWatch], wired together so that every congestion transition reaches the watch
/// (with, on the way back to UNCONGESTED, since when the queue had drained).
/// This is what the engine keeps per client next to the path model, and feeds from the prober.
///
/// Pure and single-threaded (no clock, no I/O); the engine calls it under the lock that guards
/// the client's state, then hands each returned [Transition] to the
/// [NotificationRegistry] for every adaptive flow towards the client, and after each estimate
/// asks the registry to complete the flows' Available requests.
public final class PathMonitor {
    private final CongestionDetector detector;
    private final AvailableWatch watch;

    /// The defaults: [DetectorConfig#DEFAULT], G8's 500 ms / 5 % watch.
    public PathMonitor() {
        this(new CongestionDetector(), new AvailableWatch());
    }

    public PathMonitor(CongestionDetector detector, AvailableWatch watch) {
        this.detector = detector;
        this.watch = watch;
    }

    /// One probegap reflection; see [CongestionDetector#onProbe].
    ///
    /// @return the state change, or `null`
    public Transition onProbe(long nowNs, long sequence, long sendNs, long receiveNs) {
        return seen(detector.onProbe(nowNs, sequence, sendNs, receiveNs));
    }

    /// A probegap reflection without a delay sample; see [CongestionDetector#onArrival].
    ///
    /// @return the state change, or `null`
    public Transition onArrival(long nowNs, long sequence) {
        return seen(detector.onArrival(nowNs, sequence));
    }

    /// One `TCP_INFO` sample of a sinkless TCP flow; see [CongestionDetector#onTcpInfo].
    ///
    /// @return the state change, or `null`
    public Transition onTcpInfo(long nowNs, long srttUs, long minRttUs, long totalRetrans, long bytesAcked,
                                int sndMss) {
        return seen(detector.onTcpInfo(nowNs, srttUs, minRttUs, totalRetrans, bytesAcked, sndMss));
    }

    /// A timer tick without samples; see [CongestionDetector#onTick].
    ///
    /// @return the state change, or `null`
    public Transition onTick(long nowNs) {
        return seen(detector.onTick(nowNs));
    }

    /// A new available-bandwidth estimate of the path (from the path model).
    public void onEstimate(long nowNs, long availableBps) {
        watch.onEstimate(nowNs, availableBps, detector.state());
    }

    /// The path's congestion state now.
    public CongestionState state() {
        return detector.state();
    }

    /// See [AvailableWatch#availableFor].
    public OptionalLong availableFor(long targetBps, long ownRateBps, long nowNs) {
        return watch.availableFor(targetBps, ownRateBps, nowNs);
    }

    public CongestionDetector detector() {
        return detector;
    }

    public AvailableWatch watch() {
        return watch;
    }

    private Transition seen(Transition t) {
        if (t != null) {
            watch.onCongestion(t);
            if (t.cause() == Transition.Cause.DRAINED) {
                // the drained condition held for the whole exit hold before this transition
                watch.onDrainedSince(t.atNs() - detector.config().exitHoldNs());
            }
        }
        return t;
    }
}
