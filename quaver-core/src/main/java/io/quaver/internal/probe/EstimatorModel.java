package io.quaver.internal.probe;

import io.quaver.internal.estimation.PathEstimator;
import io.quaver.internal.estimation.PathSnapshot;
import io.quaver.internal.estimation.TrainSample;

/// The [PathModel] of the estimation package: [PathEstimator] (bottleneck from train
/// dispersion robust to token buckets and coalescing, available bandwidth from ProbeGap and
/// Spruce streams, RTT).
/// Pure and not thread-safe, like the estimator; the prober calls it under its lock.
public final class EstimatorModel implements PathModel {
    private final PathEstimator estimator;

    public EstimatorModel() {
        this(new PathEstimator());
    }

    public EstimatorModel(PathEstimator estimator) {
        this.estimator = estimator;
    }

    /// The estimator itself (diagnostics; the caller must hold the prober's lock or have
    /// closed the prober).
    public PathEstimator estimator() {
        return estimator;
    }

    /// The estimator's own snapshot (for the planner).
    public PathSnapshot snapshot(long nowNs) {
        return estimator.snapshot(nowNs);
    }

    @Override
    public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
        estimator.onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps);
    }

    @Override
    public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps, long[] sendNs) {
        if (sendNs == null || sendNs.length != deltas100ns.length + 1) {
            onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps);
            return;
        }
        TrainSample s = TrainSample.ofSummary(probeIpBytes, deltas100ns, interfaceSpeedBps);
        estimator.onTrain(nowNs, new TrainSample(s.sizesIpBytes(), s.recvNs(), sendNs, interfaceSpeedBps));
    }

    @Override
    public void onStream(long nowNs, int probeIpBytes, long[] deltas100ns, long[] sendNs) {
        if (sendNs != null && sendNs.length == deltas100ns.length + 1) {
            TrainSample s = TrainSample.ofSummary(probeIpBytes, deltas100ns, 0);
            estimator.onStream(nowNs, new TrainSample(s.sizesIpBytes(), s.recvNs(), sendNs, 0));
        }
    }

    @Override
    public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                           int probeIpBytes) {
        estimator.onProbegap(sequence, sendNs, sinkRecv100ns, sinkSend100ns, recvNs, probeIpBytes);
    }

    @Override
    public PathEstimates estimates(long nowNs) {
        PathSnapshot s = estimator.snapshot(nowNs);
        return new PathEstimates(s.bottleneckBps(), s.availableBps(), s.rttUs(), s.minRttUs(), s.burstAllowanceBytes(),
                s.burstAtLeastBytes(),
                s.bottleneckAtNs(), s.availableAtNs(), s.rttAtNs());
    }
}
