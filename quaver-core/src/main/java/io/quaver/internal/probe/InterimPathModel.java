package io.quaver.internal.probe;

import java.util.Arrays;
import java.util.OptionalLong;

/// A deliberately small stand-in, written before the estimators of
/// `io.quaver.internal.estimation` existed, so that the prober, the tracking registry and
/// their tests could run end to end. It is **not** the estimator (the engine uses
/// [EstimatorModel]); it knows nothing of token buckets, interrupt coalescing beyond summing,
/// or cross-traffic bias, and is kept only as a baseline for the benchmark's `--interim`.
///
/// * bottleneck: probe bytes over the summed receive-time deltas of the train's second half
///   (the tail is past a token bucket's burst; sums are immune to timestamp batching), lower median
///   of the last 5 trains;
/// * available: ProbeGap (Lakshminarayanan, Padmanabhan, Padhye, IMC 2004): the share of the
///   last 200 probegap probes whose one-way delay is within a small margin of the minimum is
///   the bottleneck's idle fraction; available = bottleneck × idle fraction;
/// * RTT: mean of the last 64 samples and minimum over 10 s, each sample being
///   (receive − send) − (sink send − sink receive); the first sample after 100 ms of silence
///   is dropped (cold-start wake-up skew).
public final class InterimPathModel implements PathModel {
    private static final int TRAINS_KEPT = 5;
    private static final int OWD_WINDOW = 200;
    private static final int RTT_WINDOW = 64;
    private static final long MIN_RTT_WINDOW_NS = 10_000_000_000L;
    private static final long COLD_START_GAP_NS = 100_000_000L;
    private static final long IDLE_MARGIN_NS = 100_000;

    private final long[] trainBps = new long[TRAINS_KEPT];
    private int trains;
    private long bottleneckAtNs = Long.MIN_VALUE;

    private final long[] owdNs = new long[OWD_WINDOW];
    private final long[] owdAtNs = new long[OWD_WINDOW];
    private int owdCount;
    private int owdNext;
    private long availableAtNs = Long.MIN_VALUE;

    private final long[] rttNs = new long[RTT_WINDOW];
    private int rttCount;
    private int rttNext;
    private long rttAtNs = Long.MIN_VALUE;
    private long minRttNs = Long.MAX_VALUE;
    private long minRttAtNs;
    private long lastProbegapNs = Long.MIN_VALUE;

    @Override
    public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
        int n = deltas100ns.length;
        if (n < 1) {
            return;
        }
        int from = n / 2;
        long sum100ns = 0;
        for (int i = from; i < n; i++) {
            sum100ns += Math.max(0, deltas100ns[i]);
        }
        if (sum100ns <= 0) {
            return;
        }
        long bps = (long) ((double) probeIpBytes * 8 * (n - from) * 10_000_000.0 / sum100ns);
        trainBps[trains % TRAINS_KEPT] = bps;
        trains++;
        bottleneckAtNs = nowNs;
    }

    @Override
    public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                           int probeIpBytes) {
        boolean coldStart = lastProbegapNs == Long.MIN_VALUE || sendNs - lastProbegapNs > COLD_START_GAP_NS;
        lastProbegapNs = sendNs;
        long owd = sinkRecv100ns * 100 - sendNs;
        owdNs[owdNext] = owd;
        owdAtNs[owdNext] = recvNs;
        owdNext = (owdNext + 1) % OWD_WINDOW;
        owdCount = Math.min(owdCount + 1, OWD_WINDOW);
        if (bottleneckAtNs != Long.MIN_VALUE && owdCount >= 10) {
            availableAtNs = recvNs;
        }
        long rtt = (recvNs - sendNs) - (sinkSend100ns - sinkRecv100ns) * 100;
        if (coldStart || rtt <= 0) {
            return;
        }
        rttNs[rttNext] = rtt;
        rttNext = (rttNext + 1) % RTT_WINDOW;
        rttCount = Math.min(rttCount + 1, RTT_WINDOW);
        rttAtNs = recvNs;
        if (rtt <= minRttNs || recvNs - minRttAtNs > MIN_RTT_WINDOW_NS) {
            minRttNs = rtt;
            minRttAtNs = recvNs;
        }
    }

    @Override
    public PathEstimates estimates(long nowNs) {
        OptionalLong bottleneck = OptionalLong.empty();
        if (trains > 0) {
            long[] kept = Arrays.copyOf(trainBps, Math.min(trains, TRAINS_KEPT));
            Arrays.sort(kept);
            bottleneck = OptionalLong.of(kept[(kept.length - 1) / 2]); // lower median: compressed
            // receive timestamps (a descheduled sink) only ever inflate a train's rate
        }
        OptionalLong available = OptionalLong.empty();
        if (bottleneck.isPresent() && availableAtNs != Long.MIN_VALUE) {
            long min = Long.MAX_VALUE;
            for (int i = 0; i < owdCount; i++) {
                min = Math.min(min, owdNs[i]);
            }
            int idle = 0;
            for (int i = 0; i < owdCount; i++) {
                if (owdNs[i] - min <= IDLE_MARGIN_NS) {
                    idle++;
                }
            }
            available = OptionalLong.of(bottleneck.getAsLong() * idle / owdCount);
        }
        OptionalLong rtt = OptionalLong.empty();
        OptionalLong minRtt = OptionalLong.empty();
        if (rttCount > 0) {
            long sum = 0;
            for (int i = 0; i < rttCount; i++) {
                sum += rttNs[i];
            }
            rtt = OptionalLong.of(Math.max(1, sum / rttCount / 1000));
            minRtt = OptionalLong.of(Math.max(1, minRttNs / 1000));
        }
        return new PathEstimates(bottleneck, available, rtt, minRtt, OptionalLong.empty(), OptionalLong.empty(),
                bottleneckAtNs,
                availableAtNs, rttAtNs);
    }
}
