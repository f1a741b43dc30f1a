package io.quaver.internal.estimation;

import java.util.Arrays;

/// Bottleneck capacity from the receive-time dispersion of one packet-pair train: a pure
/// function of a [TrainSample].
///
/// The packet-pair principle (Keshav 1991; Dovrolis, Ramanathan, Moore, "Packet dispersion
/// techniques and a capacity-estimation methodology", IEEE/ACM ToN 2004): probes sent back to
/// back leave the narrow link spaced by their own transmission time there, so capacity ≈
/// probe bytes / receive gap. Raw gaps are wrong in three well-known ways, each handled here
/// (performance-anchors.md §1.4):
///
/// 1. **Receive-timestamp batching** (interrupt coalescing, NAPI/GRO; Prasad, Jain, Dovrolis,
///    PAM 2004): several probes are stamped within a few µs, then a gap. Detected from a
///    bimodal gap distribution whose long gaps start batches at multiples of a common period
///    P̂ (pathload's `check_intr_coalescence` looks for the same signature). The train is then
///    read batch by batch: the bytes of batch *j* arrived between the stamps of batches
///    *j−1* and *j*, so rates come from batch-to-batch spacing over windows of ≥ 4·P̂, never
///    from gaps inside a batch.
/// 2. **Token-bucket shapers with a burst allowance**: the head of a long train passes at the
///    line (peak) rate until the bucket is empty, then the tail leaves at the bucket rate R.
///    A two-segment least-squares fit of arrival time against cumulative bytes finds the knee;
///    it is accepted only if the head is ≥ 1.5× faster than the tail and the tail is regular
///    (a shaper's output is evenly spaced; cross traffic's is not: ≤ 15 % of tail windows may
///    run ≥ 1.3 R). The sustained rate is the tail's rate; the burst allowance follows from
///    the tail line: for every tail probe *j*, bytes through *j* = B + R·(t_j − t_0), so
///    B̂ = median over the tail of (Y_j − R·(t_j − t_0)) — "tail-of-train dispersion and knee
///    detection" from the local tbf measurements (§1.4).
/// 3. **Cross traffic** only ever widens gaps at a FIFO bottleneck (a pair with no cross
///    packet between its probes leaves exactly one transmission time apart). The estimate is
///    therefore the *fastest dense cluster* of per-gap rates (a mode, as in Dovrolis et al.'s
///    capacity mode and bprobe/nettimer's filtering), re-centred on its median. When the whole
///    train's dispersion is within 1 % of that cluster the train was clean and the whole-train
///    figure (less noisy) is used instead.
///
/// 4. **A loaded host** (performance-anchors.md's "arrival-burst grouping"): a preempted
///    sink, relay or emulator holds probes and releases them back to back. Gaps shorter than
///    twice the sender's own spacing, or than an eighth of the train's mean gap, are such
///    pile-ups; the train is read by arrival groups like timestamp batches, unless a pile-up
///    follows more than 1 ms of silence (a stall, not coalescing) and then fewer than three
///    probes arrived one by one or their rate disagrees (±25 %) with the group reading — the
///    pile-ups were stamped late, and the train is invalid. A train that arrives at half the
///    rate it was sent at or faster is *sender-limited* ([TrainAnalysis#senderLimited()]).
///
/// The first arrival group is excluded from whole-train figures: the first probe after idle is
/// often stamped late (receiver wake-up, 60–700 µs, §1.4). Finally the estimate is capped at
/// the sink's reported interface speed, an upper bound ([MS-QLPB] Interface_Speed).
///
/// All rates are at the IP level, in bits per second.
public final class TrainDispersion {
    /// Gaps below this are treated as this, so that ratios between gap classes stay finite.
    static final long GAP_FLOOR_NS = 50;
    /// Smallest ratio between the long and the short gap class for batching.
    static final double BATCH_RATIO = 4.0;
    /// Ratio above which two or more batches are read as batches even without a period.
    static final double BATCH_RATIO_UNFLAGGED = 8.0;
    /// Smallest share of short gaps for batching.
    static final double MIN_SHORT_FRACTION = 0.2;
    /// Multi-probe batches needed before coalescing is reported.
    static final int MIN_FLAGGED_BATCHES = 3;
    /// Batch starts within ±20 % of a multiple of the period count as periodic.
    static final double PERIOD_TOLERANCE = 0.2;
    /// Share of batch starts that must be periodic.
    static final double PERIODIC_SHARE = 0.75;
    /// Batched windows span at least this many periods.
    static final int PERIODS_PER_WINDOW = 4;
    /// Head/tail rate ratio for a token-bucket knee.
    static final double KNEE_MIN_RATIO = 1.5;
    /// A tail window this much faster than the tail rate is "fast" (cross-traffic signature).
    static final double KNEE_FAST_WINDOW = 1.3;
    /// Largest share of fast tail windows for a knee.
    static final double KNEE_MAX_FAST_SHARE = 0.15;
    /// Two-segment SSE must be below this share of the one-line SSE.
    static final double KNEE_SSE_SHARE = 0.3;
    /// Smallest number of arrival groups in the tail after a knee.
    static final int KNEE_MIN_TAIL_GROUPS = 5;
    /// Half-width of the rate cluster, relative.
    static final double CLUSTER_HALF_WIDTH = 0.05;
    /// Whole-train dispersion within 1 % of the clean cluster: the train was clean.
    static final double CLEAN_WHOLE_SHARE = 0.99;
    /// Quantised stamps widen at least this share of the gaps (one cross packet widens one).
    static final double QUANTISED_WIDE_SHARE = 0.15;
    /// Timestamp resolution assumed for per-gap rates ([MS-QLPB] 100 ns units).
    static final long TIMESTAMP_QUANTUM_NS = 100;

    private TrainDispersion() {
    }

    /// Gaps shorter than the sender's own spacing × this are compressed.
    static final double COMPRESSED_SEND_GAP_FACTOR = 2.0;
    /// Gaps shorter than the train's mean gap / this are compressed too: at a FIFO bottleneck
    /// every gap is at least one transmission time, and cross traffic below ~85 % cannot
    /// stretch the mean to this many transmission times.
    static final long COMPRESSED_MEAN_GAP_DIVISOR = 8;
    /// A compressed train is read only with at least this many arrival-group intervals ending
    /// in a single probe (a stall that outlasts the train leaves none: its pile-ups are
    /// stamped late by an unknown amount, and nothing in it tells the bottleneck's spacing).
    static final int MIN_CLEAN_INTERVALS = 3;
    /// Irregular batches further apart than this (typically) are not a receiver's interrupt
    /// coalescing (tens to hundreds of µs) but a preempted host's stalls and pile-ups.
    static final long MAX_BATCH_PERIOD_NS = 1_000_000L;
    /// A stalled train's group reading must agree this well with its one-by-one probes.
    static final double STALL_AGREEMENT = 0.25;
    /// A train read at this share of its own send rate or faster is sender-limited.
    static final double SENDER_LIMITED_SHARE = 0.5;
    /// Smallest compression threshold (timestamp resolution).
    static final long MIN_COMPRESSED_GAP_NS = 100;

    /// Analyses one train.
    public static TrainAnalysis analyse(TrainSample train) {
        if (train.sendNs() != null && train.count() >= MIN_QUEUE_PROBES) {
            return withQueueing(train);
        }
        return analyseArrivals(train);
    }

    // ------------------------------------------------------------------ queueing (send times)

    /// A probe whose one-way delay is this much above the least seen so far waited in a queue
    /// (twice the batching period when the sink's stamps come in batches).
    static final long QUEUED_NS = 50_000;
    /// Queued probes count only in runs of at least this many (a sender preempted between
    /// stamping and writing one probe makes a lone spike).
    static final int MIN_QUEUED_RUN = 4;
    /// Fewest bottleneck-spaced gaps for a dispersion reading; fewer: the train was not slowed.
    static final int MIN_QUEUED_GAPS = 6;
    /// Share of the gaps that must be queued for the train to be read whole, as before.
    static final double WHOLE_QUEUED_SHARE = 0.9;
    /// Trains shorter than this are read from arrivals alone.
    static final int MIN_QUEUE_PROBES = 8;
    /// A head that passed unqueued is a token bucket's burst when a FIFO at the tail's rate
    /// would have queued it by at least this many thresholds.
    static final int BUCKET_HEAD_THRESHOLDS = 3;

    /// **Queue-onset reading** when the initiator's send times are known (Jain & Dovrolis's
    /// one-way-delay trend in pathload, applied probe by probe): a probe's one-way delay minus
    /// the least one-way delay before it (the clocks' offset cancels; probe 0 is left out of
    /// the minimum, as its stamp may be late after idle) is the time it waited in a queue. Only
    /// a probe that waited left the bottleneck right behind what was ahead of it, so only the
    /// gaps ending in a queued probe carry the bottleneck's spacing. The other gaps carry the
    /// sender's own spacing — on the 2-core test bed the sender writes 1500-byte probes at
    /// 0.1–3 Gbit/s, so at 200 Mbit/s a train's unqueued stretches (before the queue builds,
    /// after a sender stall let it drain, or while a token bucket still had tokens) read
    /// anywhere from 200 Mbit/s to 2 Gbit/s, and the fastest-cluster reading picked them.
    ///
    /// * No queued run at all: the path carried the train as fast as it was sent; the rate is
    ///   a lower bound ([TrainAnalysis#senderLimited()]).
    /// * Queued almost throughout (the usual case below ~100 Mbit/s): read whole, as before.
    /// * Otherwise the queued gaps are joined into a train of their own (the unqueued gaps cut
    ///   out) and read as before: its rate is the bottleneck's. When an unqueued **head** was
    ///   sent so much faster than that rate that a FIFO would have queued it by
    ///   [#BUCKET_HEAD_THRESHOLDS] × [#QUEUED_NS] (and by two probe times), something let it
    ///   through faster than the sustained rate: a token bucket's burst allowance (tbf, htb;
    ///   at 200 Mbit/s even tbf's smallest burst, 2 ms, is 50 KB, more than an upkeep train).
    ///   The tail's rate is the bucket rate R and B̂ = head bytes − R × head time (the tokens
    ///   spent beyond those refilled while the head passed). This needs no head/tail rate ratio
    ///   (when the sender is only 1.5× faster than R, the arrival-time knee fit fails) and no
    ///   regular tail (tbf releases packets in timer-driven clumps at high rates).
    static TrainAnalysis withQueueing(TrainSample train) {
        int n = train.count();
        int[] sizes = train.sizesIpBytes();
        long[] s = train.sendNs();
        long[] r = train.recvNs().clone();
        for (int i = 1; i < n; i++) {
            r[i] = Math.max(r[i], r[i - 1]);
        }
        // gaps the sender filled with its own blocking are no batching signature
        boolean[] held = senderHeld(s, r);
        boolean anyHeld = false;
        for (boolean h : held) {
            anyHeld |= h;
        }
        // a sink that stamps in batches delays each stamp by up to one period: no queue
        long threshold = QUEUED_NS;
        TrainSample unheld = anyHeld ? joined(r, sizes, not(held)) : null;
        Groups arrivals = unheld != null ? Groups.of(unheld.recvNs(), unheld.sizesIpBytes()) : Groups.of(r, sizes);
        if (arrivals.batched) {
            threshold = Math.max(threshold, 2 * arrivals.periodNs);
        }
        boolean[] queued = new boolean[n];
        long least = Long.MAX_VALUE;
        for (int i = 1; i < n; i++) {
            long owd = r[i] - s[i];
            least = Math.min(least, owd);
            queued[i] = owd - least >= threshold;
        }
        boolean[] busy = new boolean[n];
        int busyGaps = 0;
        int firstBusy = -1;
        boolean heldCut = false;
        for (int i = 1; i < n; ) {
            int j = i;
            while (j < n && queued[j]) {
                j++;
            }
            if (j - i >= MIN_QUEUED_RUN) {
                for (int k = i; k < j; k++) {
                    busy[k] = !held[k];
                    heldCut |= held[k];
                    if (k >= 2 && busy[k]) {
                        busyGaps++;
                    }
                }
                if (firstBusy < 0) {
                    firstBusy = i;
                }
            }
            i = j == i ? i + 1 : j;
        }
        // The joined or whole train is read from its arrivals alone: where the sender is not
        // much faster than the path, compression filtering from send times would take the
        // bottleneck's (or the sender's) own spacing for pile-ups; pile-ups of a stalled relay
        // are still grouped by the mean-gap rule.
        if (busyGaps < MIN_QUEUED_GAPS) {
            TrainAnalysis a = analyseArrivals(new TrainSample(sizes, r, null, train.interfaceSpeedBps()));
            return a.valid() ? a.asSenderLimited() : a;
        }
        if (busyGaps >= WHOLE_QUEUED_SHARE * (n - 2) && !heldCut) {
            return analyseArrivals(new TrainSample(sizes, r, null, train.interfaceSpeedBps()));
        }
        // the bottleneck-spaced gaps, joined
        busy[1] = false; // the first gap ends in probe 1, which may follow a late first stamp
        TrainSample joinedTail = joined(r, sizes, busy);
        TrainAnalysis tail = analyseArrivals(new TrainSample(joinedTail.sizesIpBytes(), joinedTail.recvNs(), null,
                train.interfaceSpeedBps()));
        if (!tail.valid()) {
            return TrainAnalysis.invalid(n, train.totalBytes(), r[n - 1] - r[0]);
        }
        long span = r[n - 1] - r[0];
        double rate = tail.rateBps() / 8e9; // bytes per ns
        int k = firstBusy; // probes 0..k-1 passed unqueued
        if (k >= 3) {
            long headBytes = 0;
            for (int i = 1; i < k; i++) {
                headBytes += sizes[i];
            }
            long headSendNs = s[k - 1] - s[1];
            long headRecvNs = r[k - 1] - r[1];
            double fifoQueueNs = headBytes / rate - headSendNs;
            double probeNs = sizes[k] / rate;
            if (fifoQueueNs >= Math.max(BUCKET_HEAD_THRESHOLDS * threshold, 2 * probeNs)) {
                long burst = Math.round(headBytes + sizes[0] - rate * (r[k - 1] - r[0]));
                long peak = headRecvNs > 0 ? Math.round(headBytes * 8e9 / headRecvNs) : Long.MAX_VALUE;
                long ifSpeed = train.interfaceSpeedBps();
                if (ifSpeed > 0) {
                    peak = Math.min(peak, ifSpeed);
                }
                if (burst > 0) {
                    return new TrainAnalysis(TrainAnalysis.Method.TOKEN_BUCKET_TAIL, tail.rateBps(),
                            Math.max(tail.rateBps(), peak), burst, false, 0, tail.quality(), n, train.totalBytes(),
                            span, tail.interfaceLimited(), false);
                }
            }
        }
        return new TrainAnalysis(tail.method(), tail.rateBps(), tail.rateBps(), -1, tail.coalescingDetected(),
                tail.coalescingPeriodNs(), tail.quality(), n, train.totalBytes(), span, tail.interfaceLimited(), false);
    }

    /// A write that took at least this long blocked on a full socket buffer (a write takes
    /// 2–30 µs, a preempted sender's stall rarely 1 ms; the buffer frees half of its ~90
    /// probes in 2.7 ms at 200 Mbit/s, 55 ms at 10 Mbit/s).
    static final long HELD_MIN_NS = 1_000_000;

    /// The gaps (`held[i]`: from probe `i − 1` to `i`) ending in a probe the sender could not
    /// write at once: its write lasted (until the next probe's stamp, taken right after it)
    /// at least [#HELD_MIN_NS] and at least as long as the gap itself. The sender's socket
    /// buffer was full (a long train waiting in a shaper's queue is charged to it) or the
    /// sender was preempted; whatever crossed the bottleneck meanwhile — cross traffic that
    /// queued behind probe `i − 1` — is in that gap, which is then neither the bottleneck's
    /// spacing of probe `i` nor a sign of timestamp batching. The last probe has no next stamp.
    static boolean[] senderHeld(long[] s, long[] r) {
        int n = s.length;
        boolean[] held = new boolean[n];
        for (int i = 1; i < n - 1; i++) {
            long write = s[i + 1] - s[i];
            held[i] = write >= HELD_MIN_NS && write >= r[i] - r[i - 1];
        }
        return held;
    }

    private static boolean[] not(boolean[] b) {
        boolean[] x = new boolean[b.length];
        for (int i = 0; i < b.length; i++) {
            x[i] = !b[i];
        }
        return x;
    }

    /// The arrivals of the gaps marked `keep` (`keep[i]`: from probe `i − 1` to `i`; `keep[0]`
    /// is ignored) joined on one time axis from 0, the other gaps cut out: the first probe is
    /// the one before the first kept gap, each kept gap adds its probe.
    static TrainSample joined(long[] r, int[] sizes, boolean[] keep) {
        int n = r.length;
        int first = 1;
        while (first < n && !keep[first]) {
            first++;
        }
        int m = 1;
        for (int i = first; i < n; i++) {
            if (keep[i]) {
                m++;
            }
        }
        long[] t = new long[Math.max(2, m)];
        int[] z = new int[t.length];
        z[0] = sizes[Math.min(n - 1, first - 1)];
        z[t.length - 1] = z[0];
        int w = 0;
        for (int i = first; i < n; i++) {
            if (keep[i]) {
                w++;
                t[w] = t[w - 1] + (r[i] - r[i - 1]);
                z[w] = sizes[i];
            }
        }
        return new TrainSample(z, t, null, 0);
    }

    /// Analyses one train from its arrivals (send times only flag compression and sender limits).
    static TrainAnalysis analyseArrivals(TrainSample train) {
        int n = train.count();
        int[] sizes = train.sizesIpBytes();
        long[] r = train.recvNs().clone();
        for (int i = 1; i < n; i++) {
            r[i] = Math.max(r[i], r[i - 1]); // a stamp may not go backwards
        }
        long trainBytes = train.totalBytes();
        long span = r[n - 1] - r[0];
        if (n < 3 || span <= 0) {
            return TrainAnalysis.invalid(n, trainBytes, Math.max(0, span));
        }
        Groups g = Groups.of(r, sizes);
        if (g.size < 2 || g.t[g.size - 1] - g.t[0] <= 0) {
            return TrainAnalysis.invalid(n, trainBytes, span);
        }
        long minWindowNs = g.batched ? PERIODS_PER_WINDOW * g.periodNs : 0;
        double lengthFactor = Math.min(1.0, g.size / 16.0);

        TrainAnalysis.Method method;
        double rate; // bytes per ns
        double peak;
        long burst = -1;
        double quality;
        Knee knee = findKnee(g, minWindowNs);
        if (knee != null) {
            method = TrainAnalysis.Method.TOKEN_BUCKET_TAIL;
            rate = knee.tailRate;
            peak = Double.isFinite(knee.headRate) ? knee.headRate : rate;
            burst = Math.round(knee.burstBytes);
            quality = (1 - knee.fastShare) * Math.min(1.0, (g.size - knee.index) / 8.0);
        } else {
            boolean stalls = !g.batched || (!g.coalescing && g.periodNs > MAX_BATCH_PERIOD_NS);
            Groups c = !stalls ? null : compressed(r, sizes, Math.max(compressionThresholdNs(train.sendNs()),
                    span / (n - 1) / COMPRESSED_MEAN_GAP_DIVISOR));
            double singleRate = Double.NaN;
            if (c != null) {
                // a compressed segment: read the train by arrival groups, like timestamp batches,
                // provided enough of it arrived probe by probe to be read at all
                if (c.size < 2) {
                    return TrainAnalysis.invalid(n, trainBytes, span);
                }
                if (stalled(c)) {
                    if (c.size < 3 || singleProbeIntervals(c) < MIN_CLEAN_INTERVALS) {
                        return TrainAnalysis.invalid(n, trainBytes, span); // too little left uncompressed
                    }
                    singleRate = singleProbeRate(c);
                }
                g = c;
                minWindowNs = PERIODS_PER_WINDOW * g.periodNs;
                lengthFactor = Math.min(1.0, g.size / 16.0);
            }
            Robust rr = robustRate(g, minWindowNs);
            if (rr == null) {
                return TrainAnalysis.invalid(n, trainBytes, span);
            }
            if (!Double.isNaN(singleRate) && Math.abs(rr.rate - singleRate) > STALL_AGREEMENT * singleRate) {
                // the pile-ups were stamped late (a stall that outlasted their arrival): the
                // group reading disagrees with the probes that arrived one by one
                return TrainAnalysis.invalid(n, trainBytes, span);
            }
            method = rr.clean ? TrainAnalysis.Method.WHOLE_TRAIN : TrainAnalysis.Method.CLEAN_MODE;
            rate = rr.rate;
            peak = rate;
            quality = rr.support * lengthFactor;
        }
        long rateBps = toBps(rate);
        long peakBps = Math.max(rateBps, toBps(peak));
        boolean limited = false;
        long ifSpeed = train.interfaceSpeedBps();
        if (ifSpeed > 0) {
            if (rateBps > ifSpeed) {
                rateBps = ifSpeed;
                limited = true;
            }
            if (peakBps > ifSpeed) {
                peakBps = ifSpeed;
                limited = true;
            }
        }
        return new TrainAnalysis(method, rateBps, peakBps, burst, g.coalescing, g.coalescing ? g.periodNs : 0,
                Math.clamp(quality, 0.0, 1.0), n, trainBytes, span, limited,
                senderLimited(train.sendNs(), sizes, rate));
    }

    private static long toBps(double bytesPerNs) {
        double bps = bytesPerNs * 8e9;
        return bps >= Long.MAX_VALUE ? Long.MAX_VALUE : Math.round(bps);
    }

    // ------------------------------------------------------------------ arrival groups

    /// Arrival groups: single probes, or timestamp batches. Group *j*'s bytes arrived in
    /// `(t[j-1], t[j]]`.
    static final class Groups {
        final long[] t;
        final long[] bytes;
        final long[] cum; // bytes through group j, group 0 included
        final int size;
        final boolean batched;
        final boolean coalescing;
        final long periodNs;
        final double meanProbeBytes;

        private Groups(long[] t, long[] bytes, int size, boolean batched, boolean coalescing, long periodNs,
                       double meanProbeBytes) {
            this.t = t;
            this.bytes = bytes;
            this.size = size;
            this.batched = batched;
            this.coalescing = coalescing;
            this.periodNs = periodNs;
            this.meanProbeBytes = meanProbeBytes;
            this.cum = new long[size];
            long c = 0;
            for (int j = 0; j < size; j++) {
                c += bytes[j];
                cum[j] = c;
            }
        }

        static Groups perProbe(long[] r, int[] sizes) {
            long[] b = new long[r.length];
            long total = 0;
            for (int i = 0; i < r.length; i++) {
                b[i] = sizes[i];
                total += sizes[i];
            }
            return new Groups(r, b, r.length, false, false, 0, (double) total / r.length);
        }

        static Groups of(long[] r, int[] sizes) {
            int n = r.length;
            Groups single = perProbe(r, sizes);
            int gapCount = n - 1;
            if (n < 6) {
                return single;
            }
            long[] sorted = new long[gapCount];
            for (int i = 0; i < gapCount; i++) {
                sorted[i] = Math.max(GAP_FLOOR_NS, r[i + 1] - r[i]);
            }
            Arrays.sort(sorted);
            int minShort = Math.max(1, (int) Math.ceil(MIN_SHORT_FRACTION * gapCount));
            int split = -1;
            double bestRatio = 0;
            for (int m = minShort; m <= gapCount - 2; m++) { // m short gaps, at least 2 long ones
                double ratio = (double) sorted[m] / sorted[m - 1];
                if (ratio > bestRatio) {
                    bestRatio = ratio;
                    split = m;
                }
            }
            if (split < 0 || bestRatio < BATCH_RATIO) {
                return single;
            }
            long tau = sorted[split - 1];
            long[] t = new long[n];
            long[] b = new long[n];
            int[] count = new int[n];
            int gs = 0;
            t[0] = r[0];
            b[0] = sizes[0];
            count[0] = 1;
            for (int i = 1; i < n; i++) {
                long gap = Math.max(GAP_FLOOR_NS, r[i] - r[i - 1]);
                if (gap <= tau) {
                    b[gs] += sizes[i];
                    count[gs]++;
                } else {
                    gs++;
                    t[gs] = r[i];
                    b[gs] = sizes[i];
                    count[gs] = 1;
                }
            }
            gs++;
            int multi = 0;
            for (int j = 0; j < gs; j++) {
                if (count[j] >= 2) {
                    multi++;
                }
            }
            double meanProbe = single.meanProbeBytes;
            if (gs >= 4 && multi >= MIN_FLAGGED_BATCHES) {
                long[] intervals = new long[gs - 1];
                for (int j = 0; j < gs - 1; j++) {
                    intervals[j] = t[j + 1] - t[j];
                }
                long period = period(intervals);
                if (period > 0 && tau <= period / 4 && periodicShare(intervals, period) >= PERIODIC_SHARE) {
                    return new Groups(Arrays.copyOf(t, gs), Arrays.copyOf(b, gs), gs, true, true, period, meanProbe);
                }
            }
            if (bestRatio >= BATCH_RATIO_UNFLAGGED && multi >= 2 && gs >= 3) {
                long[] intervals = new long[gs - 1];
                for (int j = 0; j < gs - 1; j++) {
                    intervals[j] = t[j + 1] - t[j];
                }
                long[] s = intervals.clone();
                Arrays.sort(s);
                long typical = Math.max(1, s[s.length / 2]);
                return new Groups(Arrays.copyOf(t, gs), Arrays.copyOf(b, gs), gs, true, false, typical, meanProbe);
            }
            return single;
        }
    }

    /// The compression threshold from the initiator's send times: a receive gap shorter than
    /// twice the sender's own spacing between back-to-back probes (its lower quartile, so that
    /// a preempted sender does not raise it) cannot be a bottleneck's spacing slower than
    /// half the sender's rate; 0 without send times (no threshold is safe then: a 10 Gbit/s
    /// link spaces 1200-byte probes by under 1 µs).
    static long compressionThresholdNs(long[] sendNs) {
        if (sendNs == null || sendNs.length < 3) {
            return 0;
        }
        long[] gaps = new long[sendNs.length - 1];
        for (int i = 0; i < gaps.length; i++) {
            gaps[i] = Math.max(0, sendNs[i + 1] - sendNs[i]);
        }
        Arrays.sort(gaps);
        long q = gaps[gaps.length / 4];
        return Math.max(MIN_COMPRESSED_GAP_NS, Math.round(COMPRESSED_SEND_GAP_FACTOR * q));
    }

    // ------------------------------------------------------------------ compression

    /// Arrival groups after **compression filtering** (the "arrival-burst grouping" of
    /// performance-anchors.md, after Prasad, Jain, Dovrolis's treatment of coalesced stamps):
    /// a receiver, relay or emulator that was preempted releases the probes it held back to
    /// back, faster than any bottleneck slower than the sender could space them. Such a run is
    /// one arrival group stamped at its *last* probe, whose bytes arrived between the previous
    /// group's stamp and its own, so a stall and its burst together count as one long
    /// interval instead of a stall (ignored as cross-traffic widening) plus a burst (read as a
    /// multi-Gbit/s cluster). `null` when no gap is below `thresholdNs` (or it is 0).
    static Groups compressed(long[] r, int[] sizes, long thresholdNs) {
        int n = r.length;
        if (thresholdNs <= 0) {
            return null;
        }
        long[] t = new long[n];
        long[] b = new long[n];
        int gs = 0;
        boolean any = false;
        long total = sizes[0];
        t[0] = r[0];
        b[0] = sizes[0];
        for (int i = 1; i < n; i++) {
            total += sizes[i];
            if (r[i] - r[i - 1] < thresholdNs) {
                any = true;
                t[gs] = r[i];
                b[gs] += sizes[i];
            } else {
                gs++;
                t[gs] = r[i];
                b[gs] = sizes[i];
            }
        }
        gs++;
        if (!any) {
            return null;
        }
        long[] intervals = new long[Math.max(1, gs - 1)];
        for (int j = 0; j + 1 < gs; j++) {
            intervals[j] = t[j + 1] - t[j];
        }
        Arrays.sort(intervals);
        long typical = Math.max(1, intervals[intervals.length / 2]);
        return new Groups(Arrays.copyOf(t, gs), Arrays.copyOf(b, gs), gs, true, false, typical, (double) total / n);
    }

    /// Whether a compressed train shows a pile-up after more than [#MAX_BATCH_PERIOD_NS] of
    /// silence: a stall, not a receiver's interrupt coalescing.
    static boolean stalled(Groups c) {
        for (int j = 1; j < c.size; j++) {
            if (c.bytes[j] > c.meanProbeBytes * 1.5 && c.t[j] - c.t[j - 1] > MAX_BATCH_PERIOD_NS) {
                return true;
            }
        }
        return false;
    }

    /// The rate of the probes that arrived one by one (bytes/ns): the median of their
    /// intervals.
    static double singleProbeRate(Groups c) {
        double[] rates = new double[c.size];
        int m = 0;
        for (int j = 1; j < c.size; j++) {
            long dt = c.t[j] - c.t[j - 1];
            if (c.bytes[j] <= c.meanProbeBytes * 1.5 && dt > 0) {
                rates[m++] = (double) c.bytes[j] / dt;
            }
        }
        Arrays.sort(rates, 0, m);
        return m == 0 ? Double.NaN : rates[m / 2];
    }

    /// Whether the train's rate (bytes/ns) is at least [#SENDER_LIMITED_SHARE] of the rate
    /// at which the initiator sent it (over the same probes, the first one excluded): such a
    /// train measured the sender, or was compressed on the way, and says at most that the
    /// path is at least that fast. `false` without send times.
    static boolean senderLimited(long[] sendNs, int[] sizes, double rate) {
        if (sendNs == null || sendNs.length < 3) {
            return false;
        }
        long spanNs = sendNs[sendNs.length - 1] - sendNs[1];
        if (spanNs <= 0) {
            return true;
        }
        long bytes = 0;
        for (int i = 2; i < sizes.length; i++) {
            bytes += sizes[i];
        }
        return rate >= SENDER_LIMITED_SHARE * bytes / spanNs;
    }

    /// Intervals between consecutive arrival groups whose later group is one probe.
    static int singleProbeIntervals(Groups c) {
        int clean = 0;
        for (int j = 1; j < c.size; j++) {
            if (c.bytes[j] <= c.meanProbeBytes * 1.5) {
                clean++;
            }
        }
        return clean;
    }

    /// The batching period: the median of the batch-start intervals near the low end (the
    /// 20th percentile), so that an occasional empty period (an interval of 2P) is ignored.
    static long period(long[] intervals) {
        long[] s = intervals.clone();
        Arrays.sort(s);
        long q = s[(int) (0.2 * (s.length - 1))];
        if (q <= 0) {
            return 0;
        }
        long lo = q * 3 / 4;
        long hi = q * 4 / 3 + 1;
        int from = 0;
        while (from < s.length && s[from] < lo) {
            from++;
        }
        int to = from;
        while (to < s.length && s[to] <= hi) {
            to++;
        }
        if (to == from) {
            return q;
        }
        return s[(from + to - 1) / 2];
    }

    static double periodicShare(long[] intervals, long period) {
        int ok = 0;
        for (long d : intervals) {
            long k = Math.max(1, Math.round((double) d / period));
            if (Math.abs(d - k * period) <= PERIOD_TOLERANCE * period) {
                ok++;
            }
        }
        return (double) ok / intervals.length;
    }

    // ------------------------------------------------------------------ token-bucket knee

    record Knee(int index, double tailRate, double headRate, double burstBytes, double fastShare) {
    }

    /// Two-segment fit of time against cumulative bytes (prefix sums, O(groups)).
    static Knee findKnee(Groups g, long minWindowNs) {
        int size = g.size;
        if (size < KNEE_MIN_TAIL_GROUPS + 2) {
            return null;
        }
        // x: cumulative kilobytes; y: microseconds since the first group (well-conditioned doubles)
        double[] px = new double[size + 1];
        double[] py = new double[size + 1];
        double[] pxx = new double[size + 1];
        double[] pxy = new double[size + 1];
        double[] pyy = new double[size + 1];
        for (int j = 0; j < size; j++) {
            double x = g.cum[j] / 1000.0;
            double y = (g.t[j] - g.t[0]) / 1000.0;
            px[j + 1] = px[j] + x;
            py[j + 1] = py[j] + y;
            pxx[j + 1] = pxx[j] + x * x;
            pxy[j + 1] = pxy[j] + x * y;
            pyy[j + 1] = pyy[j] + y * y;
        }
        double sseAll = sse(px, py, pxx, pxy, pyy, 0, size - 1);
        if (!(sseAll > 0)) {
            return null; // perfectly straight
        }
        int best = -1;
        double bestSse = Double.MAX_VALUE;
        for (int k = 1; k <= size - KNEE_MIN_TAIL_GROUPS; k++) {
            double s = sse(px, py, pxx, pxy, pyy, 0, k) + sse(px, py, pxx, pxy, pyy, k, size - 1);
            if (s < bestSse) {
                bestSse = s;
                best = k;
            }
        }
        if (best < 0 || bestSse > KNEE_SSE_SHARE * sseAll) {
            return null;
        }
        int k = best;
        long tailNs = g.t[size - 1] - g.t[k];
        if (tailNs <= 0) {
            return null;
        }
        double tailRate = (double) (g.cum[size - 1] - g.cum[k]) / tailNs;
        double headRate = headRate(g, k, minWindowNs);
        if (headRate < KNEE_MIN_RATIO * tailRate) {
            return null;
        }
        int windows = 0;
        int fast = 0;
        for (int j = k; j < size - 1; j++) {
            int e = j + 1;
            while (e < size - 1 && g.t[e] - g.t[j] < minWindowNs) {
                e++;
            }
            long dt = g.t[e] - g.t[j];
            if (dt <= 0) {
                fast++;
                windows++;
                continue;
            }
            windows++;
            if ((double) (g.cum[e] - g.cum[j]) / dt >= KNEE_FAST_WINDOW * tailRate) {
                fast++;
            }
        }
        double fastShare = windows == 0 ? 1 : (double) fast / windows;
        if (fastShare > KNEE_MAX_FAST_SHARE) {
            return null;
        }
        // the train's true start: the first stamp, or earlier if it came late after idle
        double t0 = g.t[0];
        if (k >= 2 && Double.isFinite(headRate)) {
            t0 = Math.min(t0, g.t[1] - g.bytes[1] / headRate);
        }
        double[] b = new double[size - 1 - k];
        for (int j = k + 1; j < size; j++) {
            b[j - k - 1] = g.cum[j] - tailRate * (g.t[j] - t0);
        }
        Arrays.sort(b);
        double burst = b[b.length / 2];
        if (!(burst > 0)) {
            return null;
        }
        return new Knee(k, tailRate, headRate, burst, fastShare);
    }

    /// The head's rate: the median of its window rates from group 1 on (the first stamp may be
    /// late after idle, and the last head window may already hold the first slow gap);
    /// infinite when the head arrived as one batch.
    static double headRate(Groups g, int k, long minWindowNs) {
        int from = k >= 2 ? 1 : 0;
        double[] rates = new double[k - from];
        int m = 0;
        for (int j = from; j < k; j++) {
            int e = j + 1;
            while (e < k && g.t[e] - g.t[j] < minWindowNs) {
                e++;
            }
            long dt = g.t[e] - g.t[j];
            rates[m++] = dt > 0 ? (double) (g.cum[e] - g.cum[j]) / dt : Double.POSITIVE_INFINITY;
        }
        if (m == 0) {
            return Double.POSITIVE_INFINITY;
        }
        Arrays.sort(rates, 0, m);
        return rates[m / 2];
    }

    private static double sse(double[] px, double[] py, double[] pxx, double[] pxy, double[] pyy, int a, int b) {
        int m = b - a + 1;
        if (m <= 2) {
            return 0;
        }
        double sx = px[b + 1] - px[a];
        double sy = py[b + 1] - py[a];
        double sxx = pxx[b + 1] - pxx[a] - sx * sx / m;
        double sxy = pxy[b + 1] - pxy[a] - sx * sy / m;
        double syy = pyy[b + 1] - pyy[a] - sy * sy / m;
        if (sxx <= 0) {
            return Math.max(0, syy);
        }
        return Math.max(0, syy - sxy * sxy / sxx);
    }

    // ------------------------------------------------------------------ cross-traffic filter

    /// Share of the gaps from group `from` on that are longer than `thresholdNs`.
    static double wideShare(Groups g, int from, double thresholdNs) {
        int wide = 0;
        for (int j = from + 1; j < g.size; j++) {
            if (g.t[j] - g.t[j - 1] > thresholdNs) {
                wide++;
            }
        }
        return (double) wide / Math.max(1, g.size - 1 - from);
    }

    /// Whether every arrival stays within `boundNs` of the straight line through the train at
    /// `rate` (bytes/ns) from group `from`.
    static boolean withinOneProbeOfLine(Groups g, int from, double rate, double boundNs) {
        for (int j = from; j < g.size; j++) {
            double expected = (g.cum[j] - g.cum[from]) / rate;
            if (Math.abs((g.t[j] - g.t[from]) - expected) > boundNs) {
                return false;
            }
        }
        return true;
    }

    record Robust(double rate, double support, boolean clean) {
    }

    /// The fastest dense cluster of window rates (windows of one gap, or of ≥ `minWindowNs`
    /// when batched), compared with the whole train's dispersion.
    static Robust robustRate(Groups g, long minWindowNs) {
        int size = g.size;
        int from = size >= 8 ? 1 : 0; // skip the first group: late first stamp after idle
        long wholeNs = g.t[size - 1] - g.t[from];
        if (wholeNs <= 0) {
            from = 0;
            wholeNs = g.t[size - 1] - g.t[0];
            if (wholeNs <= 0) {
                return null;
            }
        }
        double whole = (double) (g.cum[size - 1] - g.cum[from]) / wholeNs;
        int cap = size - 1;
        double[] x = new double[cap]; // ns per byte
        long[] dts = new long[cap];
        long[] dbs = new long[cap];
        int w = 0;
        for (int j = 0; j < size - 1; j++) {
            int e = j + 1;
            while (e < size - 1 && g.t[e] - g.t[j] < minWindowNs) {
                e++;
            }
            long dt = g.t[e] - g.t[j];
            long db = g.cum[e] - g.cum[j];
            if (dt <= 0 || db <= 0) {
                continue;
            }
            x[w] = (double) dt / db;
            dts[w] = dt;
            dbs[w] = db;
            w++;
            if (e == size - 1 && minWindowNs > 0) {
                break; // further windows would all be shorter than the minimum
            }
        }
        if (w < 2) {
            return new Robust(whole, 0.5, true);
        }
        Integer[] order = new Integer[w];
        for (int i = 0; i < w; i++) {
            order[i] = i;
        }
        double[] xs = Arrays.copyOf(x, w);
        Arrays.sort(order, (a, b) -> Double.compare(xs[a], xs[b]));
        double[] sx = new double[w];
        for (int i = 0; i < w; i++) {
            sx[i] = xs[order[i]];
        }
        long[] sortedDt = Arrays.copyOf(dts, w);
        Arrays.sort(sortedDt);
        long medianDt = sortedDt[w / 2];
        long[] sortedDb = Arrays.copyOf(dbs, w);
        Arrays.sort(sortedDb);
        long medianDb = sortedDb[w / 2];
        double h = CLUSTER_HALF_WIDTH;
        if (g.batched) {
            h = Math.max(h, 1.5 * g.meanProbeBytes / Math.max(1, medianDb));
        } else {
            h = Math.max(h, 1.5 * TIMESTAMP_QUANTUM_NS / Math.max(1.0, medianDt));
        }
        double width = 1 + 2 * h;
        int[] counts = new int[w];
        int best = 0;
        int hi = 0;
        for (int i = 0; i < w; i++) {
            hi = Math.max(hi, i);
            while (hi + 1 < w && sx[hi + 1] <= sx[i] * width) {
                hi++;
            }
            counts[i] = hi - i + 1;
            best = Math.max(best, counts[i]);
        }
        if (best < 2) {
            return new Robust(whole, 0.5, true); // no two windows agree: nothing to prefer
        }
        int threshold = Math.max(2, (best + 1) / 2);
        int start = 0;
        while (start < w && counts[start] < threshold) {
            start++;
        }
        // re-centre on the cluster's median and take everything within ±h of it
        double centre = sx[start + (counts[start] - 1) / 2];
        double lo = centre / width;
        double up = centre * width;
        double sumDt = 0;
        double sumDb = 0;
        int members = 0;
        for (int i = 0; i < w; i++) {
            if (x[i] >= lo && x[i] <= up) {
                sumDt += dts[i];
                sumDb += dbs[i];
                members++;
            }
        }
        double mode = sumDb / sumDt;
        if (whole >= CLEAN_WHOLE_SHARE * mode) {
            return new Robust(whole, 1.0, true);
        }
        double probeNs = g.meanProbeBytes / mode;
        if (!g.batched && wideShare(g, from, 1.25 * probeNs) >= QUANTISED_WIDE_SHARE
                && withinOneProbeOfLine(g, from, whole, probeNs)) {
            // Many widened gaps that never add up to more than one probe time: stamps
            // quantised to a timer grid (a coalescing period longer than the probe spacing),
            // not cross traffic, whose extra delays accumulate.
            return new Robust(whole, 1.0, true);
        }
        return new Robust(mode, (double) members / w, false);
    }
}
