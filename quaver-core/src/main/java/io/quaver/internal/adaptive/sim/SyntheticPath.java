package io.quaver.internal.adaptive.sim;

import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/// A seeded, virtual-time model of one path for tests and benchmarks: a drop-tail bottleneck
/// queue (fluid model, 1 ms steps) fed by the flow's media and by cross traffic, crossed by
/// probes at a fixed interval whose one-way delays and losses it reports in arrival order.
///
/// What it models (RFC 8867 / RFC 8869 test cases, in the small):
/// - capacity steps (e.g. 50 % down) with a buffer of a given size;
/// - cross-traffic onset and removal;
/// - per-probe delay jitter (uniform ±`jitterNs`, probes may be reordered), or the same jitter
///   delivered in order (`inOrder`: a probe never overtakes the one sent before it, so probes
///   bunch behind a delayed one — head-of-line blocking as behind a link-layer retransmission
///   with a reordering buffer, and the link emulator's jitter without reordering);
/// - bursty delivery as on Wi-Fi or LTE (packets held and released together at intervals drawn
///   uniformly from [`burstMinNs`, `burstMaxNs`]);
/// - random loss, and drop-tail loss when the buffer overflows (a probe is dropped with the
///   probability that a bit offered in that step is);
/// - the sink's clock: a constant offset and a skew.
///
/// The time a sample is *reported* (`nowNs`) is its arrival at the sink plus the base one-way
/// delay back (the reflection's way home), so latencies measured against it include RTT/2.
/// Pure: no clock, no threads; the same seed gives the same series.
public final class SyntheticPath {
    private static final long STEP_NS = 1_000_000L;

    /// The path's fixed properties.
    ///
    /// @param baseOwdNs         one-way propagation delay (each way)
    /// @param probeIntervalNs   time between probes (1 ms for probegap; 10 ms = 100 pps)
    /// @param jitterNs          per-probe delay jitter, uniform in ±jitterNs (0 = none)
    /// @param burstMinNs        shortest interval between delivery bursts (0 = no bursts)
    /// @param burstMaxNs        longest interval between delivery bursts
    /// @param loadNoise         relative standard deviation of the offered load per 1 ms step
    /// @param randomLoss        probability that a probe is lost regardless of the queue
    /// @param sinkClockOffsetNs the sink's clock minus the sender's
    /// @param sinkClockSkewPpm  the sink's clock rate error, parts per million
    /// @param wanderNs          correlated delay variation: an Ornstein-Uhlenbeck process with a
    ///                          100 ms time constant and standard deviation wanderNs / 2, clamped
    ///                          to ±wanderNs (0 = none); shared by probes sent close together
    /// @param inOrder           jittered probes are delivered in sending order (never before the
    ///                          previous probe's arrival)
    /// @param probeDither       probe intervals are uniform in (1 ± this) × `probeIntervalNs` (the
    ///                          prober's dither; 0 = a fixed interval)
    public record Params(long baseOwdNs, long probeIntervalNs, long jitterNs, long burstMinNs, long burstMaxNs,
                         double loadNoise, double randomLoss, long sinkClockOffsetNs, double sinkClockSkewPpm,
                         long wanderNs, boolean inOrder, double probeDither) {
        /// A clean path: 10 ms each way, probegap every 1 ms, 5 % load noise, no jitter.
        public static final Params CLEAN = new Params(10_000_000L, 1_000_000L, 0, 0, 0, 0.05, 0, 987_654_321L, 0, 0,
                false, 0);

        public Params withWanderNs(long w) {
            return new Params(baseOwdNs, probeIntervalNs, jitterNs, burstMinNs, burstMaxNs, loadNoise, randomLoss,
                    sinkClockOffsetNs, sinkClockSkewPpm, w, inOrder, probeDither);
        }

        public Params withJitterNs(long j) {
            return new Params(baseOwdNs, probeIntervalNs, j, burstMinNs, burstMaxNs, loadNoise, randomLoss,
                    sinkClockOffsetNs, sinkClockSkewPpm, wanderNs, inOrder, probeDither);
        }

        public Params withBurstsNs(long min, long max) {
            return new Params(baseOwdNs, probeIntervalNs, jitterNs, min, max, loadNoise, randomLoss,
                    sinkClockOffsetNs, sinkClockSkewPpm, wanderNs, inOrder, probeDither);
        }

        public Params withProbeIntervalNs(long i) {
            return new Params(baseOwdNs, i, jitterNs, burstMinNs, burstMaxNs, loadNoise, randomLoss,
                    sinkClockOffsetNs, sinkClockSkewPpm, wanderNs, inOrder, probeDither);
        }

        public Params withRandomLoss(double p) {
            return new Params(baseOwdNs, probeIntervalNs, jitterNs, burstMinNs, burstMaxNs, loadNoise, p,
                    sinkClockOffsetNs, sinkClockSkewPpm, wanderNs, inOrder, probeDither);
        }

        public Params withSkewPpm(double ppm) {
            return new Params(baseOwdNs, probeIntervalNs, jitterNs, burstMinNs, burstMaxNs, loadNoise, randomLoss,
                    sinkClockOffsetNs, ppm, wanderNs, inOrder, probeDither);
        }

        /// Jitter delivered in order (see [#inOrder()]).
        public Params withInOrderDelivery() {
            return new Params(baseOwdNs, probeIntervalNs, jitterNs, burstMinNs, burstMaxNs, loadNoise, randomLoss,
                    sinkClockOffsetNs, sinkClockSkewPpm, wanderNs, true, probeDither);
        }

        public Params withProbeDither(double d) {
            return new Params(baseOwdNs, probeIntervalNs, jitterNs, burstMinNs, burstMaxNs, loadNoise, randomLoss,
                    sinkClockOffsetNs, sinkClockSkewPpm, wanderNs, inOrder, d);
        }
    }

    /// Receives the samples, in the order the sender learns of them.
    @FunctionalInterface
    public interface SampleSink {
        /// @param nowNs     when the sender learns of the probe (arrival + the way back)
        /// @param sequence  the probe's sequence number (lost probes leave gaps)
        /// @param sendNs    the sender's clock when it left
        /// @param receiveNs the sink's clock when it arrived
        void onSample(long nowNs, long sequence, long sendNs, long receiveNs);
    }

    private record Pending(long nowNs, long sequence, long sendNs, long receiveNs) {
    }

    private final Params params;
    private final SplittableRandom random;
    private final PriorityQueue<Pending> inFlight =
            new PriorityQueue<>((a, b) -> a.nowNs != b.nowNs ? Long.compare(a.nowNs, b.nowNs)
                    : Long.compare(a.sequence, b.sequence));
    private final ArrayDeque<Long> releases = new ArrayDeque<>();

    private long capacityBps;
    private long bufferBits;
    private long mediaBps;
    private long crossBps;
    private double queueBits;
    private double stepDropFraction;
    private long simNs;
    private long nextProbeNs;
    private long sequence;
    private long lastReleaseNs;
    private long lastArrivalNs = Long.MIN_VALUE;
    private double wanderValueNs;

    /// @param params      the path
    /// @param capacityBps bottleneck capacity, bits/s
    /// @param bufferBits  bottleneck buffer, bits
    /// @param seed        the random seed
    public SyntheticPath(Params params, long capacityBps, long bufferBits, long seed) {
        this.params = params;
        this.capacityBps = capacityBps;
        this.bufferBits = bufferBits;
        this.random = new SplittableRandom(seed);
    }

    public void setCapacityBps(long bps) {
        capacityBps = bps;
    }

    public void setBufferBits(long bits) {
        bufferBits = bits;
    }

    public void setMediaBps(long bps) {
        mediaBps = bps;
    }

    public void setCrossBps(long bps) {
        crossBps = bps;
    }

    public long capacityBps() {
        return capacityBps;
    }

    public long mediaBps() {
        return mediaBps;
    }

    public long crossBps() {
        return crossBps;
    }

    /// The simulated time reached.
    public long nowNs() {
        return simNs;
    }

    /// Ground truth: the bottleneck's queuing delay now.
    public long queueDelayNs() {
        return capacityBps <= 0 ? Long.MAX_VALUE : (long) (queueBits * 1e9 / capacityBps);
    }

    /// Ground truth: what the flow could send without building a queue (capacity − cross).
    public long headroomBps() {
        return Math.max(0, capacityBps - crossBps);
    }

    /// Ground truth: the path's available bandwidth (capacity − cross − media).
    public long availableBps() {
        return Math.max(0, capacityBps - crossBps - mediaBps);
    }

    /// Runs the model to `untilNs` and reports every sample the sender learns of by then.
    public void advance(long untilNs, SampleSink sink) {
        while (simNs < untilNs) {
            long stepEnd = Math.min(untilNs, (simNs / STEP_NS + 1) * STEP_NS);
            while (nextProbeNs < stepEnd) {
                sendProbe(nextProbeNs);
                long interval = params.probeIntervalNs();
                if (params.probeDither() > 0) {
                    interval += (long) (interval * params.probeDither() * (2 * random.nextDouble() - 1));
                }
                nextProbeNs += Math.max(1, interval);
            }
            stepQueue(stepEnd - simNs);
            simNs = stepEnd;
        }
        while (!inFlight.isEmpty() && inFlight.peek().nowNs <= untilNs) {
            Pending p = inFlight.poll();
            sink.onSample(p.nowNs, p.sequence, p.sendNs, p.receiveNs);
        }
    }

    private void stepQueue(long dtNs) {
        double load = (mediaBps + crossBps) * Math.max(0, 1 + params.loadNoise() * gaussian());
        double dt = dtNs / 1e9;
        double q = queueBits + (load - capacityBps) * dt;
        stepDropFraction = 0;
        if (q > bufferBits) {
            double offered = load * dt;
            stepDropFraction = offered > 0 ? Math.min(1, (q - bufferBits) / offered) : 0;
            q = bufferBits;
        }
        queueBits = Math.max(0, q);
        if (params.wanderNs() > 0) {
            double tau = 0.1;
            double sigma = params.wanderNs() / 2.0;
            wanderValueNs += -wanderValueNs * dt / tau + sigma * Math.sqrt(2 * dt / tau) * gaussian();
            wanderValueNs = Math.clamp(wanderValueNs, -params.wanderNs(), params.wanderNs());
        }
    }

    private void sendProbe(long sendNs) {
        long seq = sequence++;
        if (random.nextDouble() < params.randomLoss() || random.nextDouble() < stepDropFraction) {
            return;
        }
        long delay = params.baseOwdNs() + queueDelayNs() + (long) wanderValueNs;
        if (params.jitterNs() > 0) {
            delay += random.nextLong(-params.jitterNs(), params.jitterNs() + 1);
        }
        long arrival = sendNs + Math.max(0, delay);
        if (params.inOrder()) {
            arrival = Math.max(arrival, lastArrivalNs);
            lastArrivalNs = arrival;
        }
        if (params.burstMinNs() > 0) {
            arrival = nextRelease(arrival, sendNs);
        }
        long sinkClock = arrival + params.sinkClockOffsetNs() + (long) (arrival * params.sinkClockSkewPpm() / 1e6);
        inFlight.add(new Pending(arrival + params.baseOwdNs(), seq, sendNs, sinkClock));
    }

    private long nextRelease(long arrivalNs, long sendNs) {
        while (!releases.isEmpty() && releases.peekFirst() < sendNs) {
            releases.pollFirst();
        }
        if (releases.isEmpty() && lastReleaseNs < sendNs) {
            lastReleaseNs = sendNs + random.nextLong(0, params.burstMaxNs());
            releases.add(lastReleaseNs);
        }
        for (long r : releases) {
            if (r >= arrivalNs) {
                return r;
            }
        }
        while (lastReleaseNs < arrivalNs) {
            lastReleaseNs += random.nextLong(params.burstMinNs(), params.burstMaxNs() + 1);
            releases.add(lastReleaseNs);
        }
        return lastReleaseNs;
    }

    private double gaussian() {
        return random.nextGaussian();
    }
}
