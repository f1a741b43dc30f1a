package io.quaver.testkit;

import java.util.SplittableRandom;

/// Generates the arrival times of a [CrossTraffic] model, in virtual time, from a seed.
///
/// Usage: look at [#nextArrivalNs()] / [#nextSizeBytes()], then [#advance()] to the following
/// arrival. Deterministic for a given model, start time and seed. Not thread-safe.
public final class CrossTrafficGenerator {
    private static final long NS_PER_S = 1_000_000_000L;

    private final SplittableRandom random;
    private final long phaseStartNs;
    private CrossTraffic model;
    private long nextArrivalNs;
    /// Remainder of the exact CBR gap, in units of 1/rateBps ns.
    private long carry;

    /// A generator whose first arrival is one gap after `startNs` (at `startNs` for an on/off
    /// period start). On/off periods are counted from `startNs`.
    public CrossTrafficGenerator(CrossTraffic model, long startNs, long seed) {
        this.random = new SplittableRandom(seed);
        this.phaseStartNs = startNs;
        this.model = model;
        this.nextArrivalNs = startNs;
        schedule(startNs, true);
    }

    /// The time of the next virtual datagram, or [Long#MAX_VALUE] if the model is silent (rate 0).
    public long nextArrivalNs() {
        return nextArrivalNs;
    }

    /// The size of the next virtual datagram, bytes on the wire.
    public int nextSizeBytes() {
        return model.packetSizeBytes();
    }

    public CrossTraffic model() {
        return model;
    }

    /// Consumes the next arrival and computes the one after it.
    public void advance() {
        if (nextArrivalNs != Long.MAX_VALUE) {
            schedule(nextArrivalNs, false);
        }
    }

    /// Switches to another model at `nowNs`: the next arrival is computed afresh from `nowNs`
    /// (on/off periods keep their original phase).
    public void reconfigure(long nowNs, CrossTraffic newModel) {
        this.model = newModel;
        this.carry = 0;
        schedule(nowNs, true);
    }

    /// Jumps to `nowNs` without generating the arrivals in between (used to skip long idle spans);
    /// returns the number of datagrams skipped, estimated from the mean rate.
    public long skipTo(long nowNs) {
        if (nextArrivalNs == Long.MAX_VALUE || nextArrivalNs >= nowNs) {
            return 0;
        }
        double spanNs = (double) nowNs - nextArrivalNs;
        long skipped = 1 + (long) (spanNs * model.meanRateBps() / (8.0 * model.packetSizeBytes() * NS_PER_S));
        carry = 0;
        schedule(nowNs, true);
        return skipped;
    }

    private void schedule(long fromNs, boolean fresh) {
        long rate = model.rateBps();
        if (rate <= 0) {
            nextArrivalNs = Long.MAX_VALUE;
            return;
        }
        long bits = model.packetSizeBytes() * 8L;
        switch (model) {
            case CrossTraffic.Cbr _ -> nextArrivalNs = fromNs + cbrGap(bits, rate);
            case CrossTraffic.Poisson _ -> nextArrivalNs = fromNs + exponentialGap(bits, rate);
            case CrossTraffic.OnOff onOff -> {
                long candidate = fresh ? fromNs : fromNs + cbrGap(bits, rate);
                long cycleNs = onOff.onNs() + onOff.offNs();
                long phaseNs = Math.floorMod(candidate - phaseStartNs, cycleNs);
                if (phaseNs >= onOff.onNs()) {
                    candidate += cycleNs - phaseNs;
                    carry = 0;
                }
                nextArrivalNs = candidate;
            }
        }
    }

    private long cbrGap(long bits, long rateBps) {
        long numerator = bits * NS_PER_S + carry;
        carry = numerator % rateBps;
        return numerator / rateBps;
    }

    private long exponentialGap(long bits, long rateBps) {
        double meanNs = (double) bits * NS_PER_S / rateBps;
        // 1 − U is in (0, 1], so the logarithm is finite.
        return Math.round(-Math.log(1.0 - random.nextDouble()) * meanNs);
    }
}
