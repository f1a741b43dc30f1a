package io.quaver.internal.estimation;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.SplittableRandom;

/// A path in virtual time with known answers: the initiator's NIC, one FIFO bottleneck of
/// capacity C (optionally gated by a token bucket, like `tbf` on a line of rate C), cross
/// traffic sharing that FIFO (CBR or Poisson, seeded), propagation delays, and a sink whose
/// receive timestamps may be batched (interrupt coalescing), jittered, late after idle
/// (wake-up), and taken on a clock with its own offset and drift.
///
/// Sends must come in non-decreasing time order (the simulation is incremental). Internally
/// time is a `double` of nanoseconds (sub-ns exact over hours); everything handed out is an
/// integer of nanoseconds, or 100 ns ticks where [MS-QLPB] uses them.
final class SyntheticPath {
    enum CrossKind { NONE, CBR, POISSON, BURSTS }

    /// A train as the sink saw it.
    record Train(long[] sendNs, long[] sinkRecvNs, long[] deltas100ns, long summaryAtNs, int probeIpBytes,
                 long interfaceSpeedBps, boolean complete) {
        TrainSample sample() {
            return TrainSample.ofSummary(probeIpBytes, deltas100ns, interfaceSpeedBps);
        }

        /// The summary with the initiator's send times, as the prober hands it over (for a
        /// train and for a paced stream alike).
        TrainSample sampleWithSendTimes() {
            TrainSample s = sample();
            return new TrainSample(s.sizesIpBytes(), s.recvNs(), sendNs, interfaceSpeedBps);
        }
    }

    /// A reflected probegap probe.
    record Reply(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs, int probeIpBytes) {
    }

    static final class Builder {
        private final long capacityBps;
        private long senderLineBps;
        private long bucketRateBps;
        private long bucketBytes;
        private CrossKind cross = CrossKind.NONE;
        private long crossRateBps;
        private int[] crossSizes = {1500};
        private double[] crossWeights = {1};
        private long forwardPropNs = 5_000_000;
        private long reversePropNs = 5_000_000;
        private long coalescingPeriodNs;
        private long batchStepNs = 300;
        private long sinkOffsetNs = 123_456_789_012L;
        private double sinkDriftPpm;
        private long stampJitterNs;
        private long holdMinNs = 5_000;
        private long holdMaxNs = 30_000;
        private long coldIdleNs = Long.MAX_VALUE;
        private long coldExtraMinNs;
        private long coldExtraMaxNs;
        private long bufferBytes;
        private long interfaceSpeedBps;
        private double senderStallShare;
        private long senderStallMaxNs;
        private long senderBufferBytes;
        private long seed = 1;
        private long relayLatenessMeanNs;
        private int burstPackets = 1;
        private long burstLineBps = 1_000_000_000L;

        private Builder(long capacityBps) {
            this.capacityBps = capacityBps;
            this.senderLineBps = Math.max(1_000_000_000L, capacityBps);
        }

        Builder senderLine(long bps) {
            senderLineBps = bps;
            return this;
        }

        Builder tokenBucket(long rateBps, long burstBytes) {
            bucketRateBps = rateBps;
            bucketBytes = burstBytes;
            return this;
        }

        Builder cbrCross(long rateBps, int packetBytes) {
            cross = CrossKind.CBR;
            crossRateBps = rateBps;
            crossSizes = new int[] {packetBytes};
            crossWeights = new double[] {1};
            return this;
        }

        Builder poissonCross(long rateBps, int[] sizes, double[] weights) {
            cross = CrossKind.POISSON;
            crossRateBps = rateBps;
            crossSizes = sizes.clone();
            crossWeights = weights.clone();
            return this;
        }

        /// TCP-like on–off cross traffic: bursts of `burstPackets` packets back to back at
        /// `lineBps` (an application-limited TCP sender writing blocks), burst starts Poisson,
        /// `rateBps` on average.
        Builder burstCross(long rateBps, int packetBytes, int burstPackets, long lineBps) {
            cross = CrossKind.BURSTS;
            crossRateBps = rateBps;
            crossSizes = new int[] {packetBytes};
            crossWeights = new double[] {1};
            this.burstPackets = burstPackets;
            this.burstLineBps = lineBps;
            return this;
        }

        Builder propagation(long forwardNs, long reverseNs) {
            forwardPropNs = forwardNs;
            reversePropNs = reverseNs;
            return this;
        }

        Builder coalescing(long periodNs, long batchStepNs) {
            coalescingPeriodNs = periodNs;
            this.batchStepNs = batchStepNs;
            return this;
        }

        Builder sinkClock(long offsetNs, double driftPpm) {
            sinkOffsetNs = offsetNs;
            sinkDriftPpm = driftPpm;
            return this;
        }

        /// A loaded sender: before each train probe, with probability `share`, the sending
        /// thread is preempted for a uniform 0..`maxNs` (the 2-core test bed's sender).
        Builder senderStalls(double share, long maxNs) {
            senderStallShare = share;
            senderStallMaxNs = maxNs;
            return this;
        }

        /// The sender's socket send buffer, bytes: a probe's bytes count against it until the
        /// bottleneck has sent the probe on (Linux charges an skb to its socket until it is
        /// freed), and a write that would overflow it blocks until half of it is free. The
        /// send stamp is taken before the write, as [io.quaver.internal.probe.ClientProber]
        /// does, so a blocked probe's stamp is early; cross traffic enters the queue meanwhile.
        Builder senderBuffer(long bytes) {
            senderBufferBytes = bytes;
            return this;
        }

        Builder stampJitter(long jitterNs) {
            stampJitterNs = jitterNs;
            return this;
        }

        Builder sinkHold(long minNs, long maxNs) {
            holdMinNs = minNs;
            holdMaxNs = maxNs;
            return this;
        }

        Builder coldStart(long idleNs, long extraMinNs, long extraMaxNs) {
            coldIdleNs = idleNs;
            coldExtraMinNs = extraMinNs;
            coldExtraMaxNs = extraMaxNs;
            return this;
        }

        Builder buffer(long bytes) {
            bufferBytes = bytes;
            return this;
        }

        Builder interfaceSpeed(long bps) {
            interfaceSpeedBps = bps;
            return this;
        }

        /// A user-space relay on the path (like the in-process link emulator): every packet, in
        /// both directions, is forwarded late by an exponential lateness of this mean, in order
        /// (a packet never overtakes the one before it). It lies beyond the bottleneck, so it
        /// moves timestamps, not queues.
        Builder relayLateness(long meanNs) {
            relayLatenessMeanNs = meanNs;
            return this;
        }

        Builder seed(long s) {
            seed = s;
            return this;
        }

        SyntheticPath build() {
            return new SyntheticPath(this);
        }
    }

    static Builder builder(long capacityBps) {
        return new Builder(capacityBps);
    }

    /// A `tbf`-like bucket of `rateBps` with a 2,500-byte burst behind a 1 Gbit/s line, and
    /// CBR cross traffic of `crossBps` in 1,242-byte packets: the shaper that hides smooth
    /// cross traffic from small probes.
    static Builder tokenBucketWithCbr(long rateBps, long crossBps) {
        return builder(1_000_000_000L).tokenBucket(rateBps, 2_500).cbrCross(crossBps, 1242);
    }

    private final Builder c;
    private final SplittableRandom crossRnd;
    private final SplittableRandom noiseRnd;
    private final SplittableRandom senderRnd;
    private final double coalescingPhaseNs;
    private final double crossMeanBytes;

    private double linkFreeNs = Double.NEGATIVE_INFINITY;
    private double tokens;
    private double tokensAtNs = Double.NaN;
    private double senderFreeNs = Double.NEGATIVE_INFINITY;
    private double nextCrossNs = Double.NaN;
    private int nextCrossBytes;
    private int burstLeft;
    private final ArrayDeque<double[]> queue = new ArrayDeque<>();
    private final ArrayDeque<double[]> ownQueue = new ArrayDeque<>(); // {depart, bytes} of the sender's probes
    private double queuedBytes;
    private double lastStampNs = Double.NEGATIVE_INFINITY;
    private double lastSinkActivityNs = Double.NEGATIVE_INFINITY;
    private double lastBoundaryNs = Double.NaN;
    private int inBatch;
    private double clockNs = Double.NEGATIVE_INFINITY;
    // cross-traffic log for ground truth
    private double[] crossAt = new double[1024];
    private long[] crossCum = new long[1024];
    private int crossLogged;
    private long crossTotal;
    private long crossDropped;

    private SyntheticPath(Builder b) {
        this.c = b;
        SplittableRandom root = new SplittableRandom(b.seed);
        this.crossRnd = root.split();
        this.noiseRnd = root.split();
        this.senderRnd = root.split();
        this.coalescingPhaseNs = b.coalescingPeriodNs > 0 ? noiseRnd.nextDouble() * b.coalescingPeriodNs : 0;
        double mean = 0;
        double wsum = 0;
        for (int i = 0; i < b.crossSizes.length; i++) {
            mean += b.crossSizes[i] * b.crossWeights[i];
            wsum += b.crossWeights[i];
        }
        this.crossMeanBytes = mean / wsum;
        this.tokens = b.bucketBytes;
    }

    long capacityBps() {
        return c.capacityBps;
    }

    long seed() {
        return c.seed;
    }

    /// The true base RTT of a probegap probe of `bytes` (no queueing, no holding).
    long baseRttNs(int bytes) {
        return Math.round(c.forwardPropNs + c.reversePropNs + bytes * 8e9 / c.senderLineBps
                + bytes * 8e9 / c.capacityBps + bytes * 8e9 / c.capacityBps);
    }

    /// Cross-traffic bits per second offered to the bottleneck in `[fromNs, toNs)`.
    double crossRateBetween(long fromNs, long toNs) {
        advanceCross(toNs);
        return (cumCrossAt(toNs) - cumCrossAt(fromNs)) * 8e9 / (toNs - fromNs);
    }

    /// The true available bandwidth in `[fromNs, toNs)`: capacity minus the cross traffic.
    double availableBetween(long fromNs, long toNs) {
        return c.capacityBps - crossRateBetween(fromNs, toNs);
    }

    long crossDropped() {
        return crossDropped;
    }

    private long cumCrossAt(double t) {
        int lo = 0;
        int hi = crossLogged; // first index with crossAt >= t
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (crossAt[mid] < t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo == 0 ? 0 : crossCum[lo - 1];
    }

    // ------------------------------------------------------------------ probes

    /// Sends a back-to-back train at `startNs` (initiator clock = true time).
    Train sendTrain(long startNs, int probeIpBytes, int count) {
        return sendTrain(startNs, probeIpBytes, count, 0);
    }

    /// Sends a train whose probe `i` leaves at `startNs + i·gapNs` (or when the sender's line
    /// is free, if later): a paced stream when `gapNs > 0`.
    Train sendTrain(long startNs, int probeIpBytes, int count, long gapNs) {
        advanceTo(startNs);
        long[] send = new long[count];
        long[] stamp = new long[count];
        double[] stampTrue = new double[count];
        boolean complete = true;
        double sendAt = Math.max(startNs, senderFreeNs);
        double tx = probeIpBytes * 8e9 / c.senderLineBps;
        for (int i = 0; i < count; i++) {
            sendAt = Math.max(sendAt, startNs + (double) i * gapNs);
            if (c.senderStallShare > 0 && i > 0 && senderRnd.nextDouble() < c.senderStallShare) {
                sendAt += senderRnd.nextDouble() * c.senderStallMaxNs;
            }
            send[i] = (long) Math.floor(sendAt);
            sendAt = afterSendBuffer(sendAt, probeIpBytes);
            double leaves = sendAt + tx;
            sendAt = leaves;
            advanceCross(leaves);
            double depart = serve(leaves, probeIpBytes);
            if (Double.isNaN(depart)) {
                complete = false;
                continue;
            }
            if (c.senderBufferBytes > 0) {
                ownQueue.addLast(new double[] {depart, probeIpBytes});
            }
            double arrive = relayForward(depart + c.forwardPropNs);
            stampTrue[i] = sinkReceive(arrive);
            stamp[i] = sinkClock(stampTrue[i]);
        }
        senderFreeNs = sendAt;
        long[] deltas = new long[count - 1];
        for (int i = 1; i < count; i++) {
            deltas[i - 1] = Math.max(0, Math.floorDiv(stamp[i], 100) - Math.floorDiv(stamp[i - 1], 100));
        }
        double last = 0;
        for (double s : stampTrue) {
            last = Math.max(last, s);
        }
        long summaryAt = (long) Math.ceil(last + 50_000 + c.reversePropNs);
        return new Train(send, stamp, deltas, summaryAt, probeIpBytes, c.interfaceSpeedBps, complete);
    }

    /// When a write of `bytes` at `atNs` completes: at once, or, when the sender's buffer
    /// holds too many of its probes still waiting at the bottleneck, once half of it is free.
    private double afterSendBuffer(double atNs, int bytes) {
        if (c.senderBufferBytes <= 0) {
            return atNs;
        }
        double held = 0;
        while (!ownQueue.isEmpty() && ownQueue.peekFirst()[0] <= atNs) {
            ownQueue.pollFirst();
        }
        for (double[] q : ownQueue) {
            held += q[1];
        }
        if (held + bytes <= c.senderBufferBytes) {
            return atNs;
        }
        double t = atNs;
        while (!ownQueue.isEmpty() && held > c.senderBufferBytes / 2.0) {
            double[] q = ownQueue.pollFirst();
            held -= q[1];
            t = Math.max(t, q[0]);
        }
        return t;
    }

    /// Sends one probegap probe at `sendNs`; `null` if it was lost.
    Reply sendProbegap(long sendNs, long sequence, int probeIpBytes) {
        advanceTo(sendNs);
        double leaves = Math.max(sendNs, senderFreeNs) + probeIpBytes * 8e9 / c.senderLineBps;
        senderFreeNs = leaves;
        advanceCross(leaves);
        double depart = serve(leaves, probeIpBytes);
        if (Double.isNaN(depart)) {
            return null;
        }
        double arrive = relayForward(depart + c.forwardPropNs);
        double recvTrue = sinkReceive(arrive);
        double hold = c.holdMinNs + noiseRnd.nextDouble() * (c.holdMaxNs - c.holdMinNs);
        double sendTrue = recvTrue + hold;
        lastSinkActivityNs = Math.max(lastSinkActivityNs, sendTrue);
        double back = relayReverse(sendTrue + c.reversePropNs + probeIpBytes * 8e9 / c.capacityBps);
        long sinkRecv100 = Math.floorDiv(sinkClock(recvTrue), 100);
        long sinkSend100 = Math.floorDiv(sinkClock(sendTrue), 100);
        return new Reply(sequence, sendNs, sinkRecv100, sinkSend100, (long) Math.ceil(back), probeIpBytes);
    }

    private double relayForwardFreeNs = Double.NEGATIVE_INFINITY;
    private double relayReverseFreeNs = Double.NEGATIVE_INFINITY;

    private double relayForward(double t) {
        if (c.relayLatenessMeanNs <= 0) {
            return t;
        }
        relayForwardFreeNs = Math.max(relayForwardFreeNs, t + relayLateness());
        return relayForwardFreeNs;
    }

    private double relayReverse(double t) {
        if (c.relayLatenessMeanNs <= 0) {
            return t;
        }
        relayReverseFreeNs = Math.max(relayReverseFreeNs, t + relayLateness());
        return relayReverseFreeNs;
    }

    private double relayLateness() {
        return -Math.log(1 - noiseRnd.nextDouble()) * c.relayLatenessMeanNs;
    }

    private void advanceTo(long t) {
        if (t < clockNs) {
            throw new IllegalStateException("sends must come in time order: " + t + " < " + clockNs);
        }
        clockNs = t;
    }

    /// Receive stamp (true time) of a packet arriving at the sink at `arrive`.
    private double sinkReceive(double arrive) {
        double t = arrive;
        if (arrive - lastSinkActivityNs > c.coldIdleNs) {
            t += c.coldExtraMinNs + noiseRnd.nextDouble() * (c.coldExtraMaxNs - c.coldExtraMinNs);
        }
        lastSinkActivityNs = Math.max(lastSinkActivityNs, arrive);
        if (c.coalescingPeriodNs > 0) {
            double p = c.coalescingPeriodNs;
            double boundary = coalescingPhaseNs + Math.ceil((t - coalescingPhaseNs) / p) * p;
            if (boundary == lastBoundaryNs) {
                inBatch++;
            } else {
                inBatch = 0;
                lastBoundaryNs = boundary;
            }
            t = boundary + inBatch * (double) c.batchStepNs;
        }
        if (c.stampJitterNs > 0) {
            t += (noiseRnd.nextDouble() * 2 - 1) * c.stampJitterNs;
        }
        t = Math.max(t, lastStampNs + 1);
        lastStampNs = t;
        return t;
    }

    private long sinkClock(double trueNs) {
        return c.sinkOffsetNs + (long) Math.floor(trueNs * (1 + c.sinkDriftPpm * 1e-6));
    }

    // ------------------------------------------------------------------ the bottleneck

    private void advanceCross(double untilNs) {
        if (c.cross == CrossKind.NONE) {
            return;
        }
        if (Double.isNaN(nextCrossNs)) {
            drawCross(true);
        }
        while (nextCrossNs < untilNs) {
            double at = nextCrossNs;
            int bytes = nextCrossBytes;
            logCross(at, bytes);
            if (Double.isNaN(serve(at, bytes))) {
                crossDropped++;
            }
            drawCross(false);
        }
    }

    private void drawCross(boolean first) {
        double meanGapNs = crossMeanBytes * 8e9 / c.crossRateBps;
        int bytes = c.crossSizes[pick()];
        if (c.cross == CrossKind.CBR) {
            nextCrossNs = first ? crossRnd.nextDouble() * meanGapNs : nextCrossNs + meanGapNs;
        } else if (c.cross == CrossKind.BURSTS) {
            double wire = bytes * 8e9 / c.burstLineBps;
            if (!first && burstLeft > 0) {
                burstLeft--;
                nextCrossNs += wire;
            } else {
                // between burst starts: mean burst period minus the burst's own duration
                double period = meanGapNs * c.burstPackets;
                double idle = Math.max(0, period - c.burstPackets * wire);
                double gap = -Math.log(1 - crossRnd.nextDouble()) * idle;
                nextCrossNs = (first ? crossRnd.nextDouble() * period : nextCrossNs + wire) + gap;
                burstLeft = c.burstPackets - 1;
            }
        } else {
            double gap = -Math.log(1 - crossRnd.nextDouble()) * meanGapNs;
            nextCrossNs = (first ? 0 : nextCrossNs) + gap;
        }
        nextCrossBytes = bytes;
    }

    private int pick() {
        if (c.crossSizes.length == 1) {
            return 0;
        }
        double total = 0;
        for (double w : c.crossWeights) {
            total += w;
        }
        double u = crossRnd.nextDouble() * total;
        for (int i = 0; i < c.crossWeights.length; i++) {
            u -= c.crossWeights[i];
            if (u < 0) {
                return i;
            }
        }
        return c.crossWeights.length - 1;
    }

    private void logCross(double at, int bytes) {
        if (crossLogged == crossAt.length) {
            crossAt = Arrays.copyOf(crossAt, crossAt.length * 2);
            crossCum = Arrays.copyOf(crossCum, crossCum.length * 2);
        }
        crossTotal += bytes;
        crossAt[crossLogged] = at;
        crossCum[crossLogged] = crossTotal;
        crossLogged++;
    }

    /// FIFO service with an optional token bucket and drop-tail buffer; returns the departure
    /// time (end of transmission) or NaN when dropped.
    private double serve(double arrival, int bytes) {
        while (!queue.isEmpty() && queue.peekFirst()[0] <= arrival) {
            queuedBytes -= queue.pollFirst()[1];
        }
        if (c.bufferBytes > 0 && queuedBytes + bytes > c.bufferBytes) {
            return Double.NaN;
        }
        double start = Math.max(arrival, linkFreeNs);
        if (c.bucketRateBps > 0) {
            refill(start);
            if (tokens < bytes) {
                start += (bytes - tokens) * 8e9 / c.bucketRateBps;
                refill(start);
            }
            tokens = Math.max(0, tokens - bytes);
        }
        double depart = start + bytes * 8e9 / c.capacityBps;
        linkFreeNs = depart;
        queue.addLast(new double[] {depart, bytes});
        queuedBytes += bytes;
        return depart;
    }

    private void refill(double t) {
        if (Double.isNaN(tokensAtNs)) {
            tokensAtNs = t;
            return;
        }
        if (t > tokensAtNs) {
            tokens = Math.min(c.bucketBytes, tokens + (t - tokensAtNs) * c.bucketRateBps / 8e9);
            tokensAtNs = t;
        }
    }
}
