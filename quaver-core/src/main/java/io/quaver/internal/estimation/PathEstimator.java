package io.quaver.internal.estimation;

import java.util.Optional;

/// The per-client façade over the three estimators: the prober feeds it [MS-QLPB] samples
/// with its own clock, and reads a [PathSnapshot].
///
/// * [#onTrain(long, int, long[], long)]: a Packet Pair Summary → [BottleneckEstimator];
/// * [#onStream(long, TrainSample)]: a paced stream → [SpruceEstimator];
/// * [#onProbegap(long, long, long, long, long, int)]: a reflected probegap probe →
///   [AvailableBandwidthEstimator] (ProbeGap, relative to the bottleneck) and [RttEstimator];
///
/// The available bandwidth reported ([AvailableMethod#AUTO]) combines the two methods by
/// their errors ([#decide]): ProbeGap when it saw queues built by bursts ([#burstyQueues]:
/// on–off cross traffic, an application-limited TCP stream's bursts, which a few 40 ms streams
/// sample poorly and ProbeGap's seconds-long time average sees well); their inverse-variance
/// mean when they agree; the more precise one when they differ by up to twice their combined
/// error; and beyond that Spruce only where it shows what ProbeGap misses — Spruce lower and
/// ProbeGap seeing a fraction of its load (smooth cross traffic that a token bucket lets
/// through out of its burst allowance, which no small probe sees: a `tbf` with CBR), or Spruce
/// higher while the probegap reflections' return trips show timestamp noise (ProbeGap then
/// counts that noise as queueing: a user-space relay's lateness) — otherwise ProbeGap.
/// Spruce's error is its streams' slope error adjusted for correlated residuals
/// ([SpruceEstimator#fit]); ProbeGap's is [#PROBEGAP_ERROR] plus the bias the return trips'
/// noise implies ([#probegapError]). Everything before the first stream came back is ProbeGap's.
/// * [#snapshot(long)]: the current estimates, each optional, with freshness.
///
/// Probegap probes sent while a train was crossing the bottleneck are excluded from the
/// available-bandwidth window: probes sent within `[arrival − span − RTT − m, arrival − RTT
/// + m]` of the summary's arrival (initiator clock; m = 2 ms + RTT/16: the send time follows
/// from the round trip whatever the asymmetry, m covers the sink's delays and jitter), or
/// within the train's own send times plus its span when they are given. Until the RTT
/// estimate is warm the smallest raw round trip stands in for it, and before any probegap
/// reply every probe sent before the arrival is excluded.
///
/// Pure (time is an argument; no I/O, no threads) and not thread-safe: the prober calls it
/// under its own lock.
public final class PathEstimator {
    /// Configuration of the estimators.
    ///
    /// @param availableMethod how the available bandwidth is chosen
    public record Config(BottleneckEstimator.Config bottleneck, AvailableBandwidthEstimator.Config available,
                         RttEstimator.Config rtt, SpruceEstimator.Config spruce, AvailableMethod availableMethod) {
        public static final Config DEFAULT = new Config(BottleneckEstimator.Config.DEFAULT,
                AvailableBandwidthEstimator.Config.DEFAULT, RttEstimator.Config.DEFAULT);

        /// Spruce's defaults and [AvailableMethod#AUTO].
        public Config(BottleneckEstimator.Config bottleneck, AvailableBandwidthEstimator.Config available,
                      RttEstimator.Config rtt) {
            this(bottleneck, available, rtt, SpruceEstimator.Config.DEFAULT, AvailableMethod.AUTO);
        }

        /// The same with another available-bandwidth method.
        public Config withAvailableMethod(AvailableMethod method) {
            return new Config(bottleneck, available, rtt, spruce, method);
        }
    }

    /// Which available-bandwidth estimate [#snapshot(long)] reports.
    public enum AvailableMethod {
        /// ProbeGap alone (probegap one-way delays).
        PROBEGAP,
        /// Spruce over paced streams alone (absent until a stream came back).
        SPRUCE,
        /// Spruce when the streams agree (smooth cross traffic), otherwise ProbeGap.
        AUTO
    }

    private static final long TRAIN_MARGIN_NS = 2_000_000L;

    private final BottleneckEstimator bottleneck;
    private final AvailableBandwidthEstimator available;
    private final RttEstimator rtt;
    private final SpruceEstimator spruce;
    private final AvailableMethod method;
    private long roughRttNs = Long.MAX_VALUE;
    private long trains;
    private long streams;
    private long probegaps;

    public PathEstimator() {
        this(Config.DEFAULT);
    }

    public PathEstimator(Config config) {
        this.bottleneck = new BottleneckEstimator(config.bottleneck());
        this.available = new AvailableBandwidthEstimator(config.available());
        this.rtt = new RttEstimator(config.rtt());
        this.spruce = new SpruceEstimator(config.spruce());
        this.method = config.availableMethod();
    }

    /// One [MS-QLPB] Packet Pair Summary.
    ///
    /// @param nowNs             the initiator's clock when the summary arrived
    /// @param probeIpBytes      the size of every probe at the IP level
    /// @param deltas100ns       the sink's receive-time deltas (newer − older), 100 ns units
    /// @param interfaceSpeedBps the summary's `Interface_Speed`, 0 = unknown
    /// @return the train's own analysis
    public TrainAnalysis onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
        return onTrain(nowNs, TrainSample.ofSummary(probeIpBytes, deltas100ns, interfaceSpeedBps));
    }

    /// One train, with per-probe sizes and, when known, the initiator's send times.
    ///
    /// @param nowNs the initiator's clock when the train's result arrived
    /// @return the train's own analysis
    public TrainAnalysis onTrain(long nowNs, TrainSample train) {
        trains++;
        excludeTrain(nowNs, train, 0);
        return bottleneck.onTrain(nowNs, train);
    }

    /// One paced stream (a packet-pair train sent at the capacity estimate's rate, with the
    /// initiator's send times) → [SpruceEstimator]. It does not feed the bottleneck.
    ///
    /// @param nowNs the initiator's clock when the stream's summary arrived
    /// @return the stream's tail, absent when unusable
    public Optional<SpruceEstimator.Stream> onStream(long nowNs, TrainSample stream) {
        streams++;
        Optional<SpruceEstimator.Stream> s = spruce.onStream(nowNs, stream);
        long drainNs = s.map(x -> drainNs(x, bottleneck.estimate().map(BottleneckEstimate::rateBps)
                .orElse((long) x.inputBps()))).orElse(0L);
        excludeTrain(nowNs, stream, drainNs);
        return s;
    }

    /// How long the queue a stream left behind takes to drain: the one-way delay it added
    /// over its tail, served at the capacity while the cross traffic keeps arriving, at most
    /// 1 s. ProbeGap probes sent meanwhile would see the stream's queue, not the cross
    /// traffic's (at 80 % load a 40 ms stream leaves ~160 ms of it).
    static long drainNs(SpruceEstimator.Stream s, long capacityBps) {
        double built = Math.max(0, s.slope()) * (s.lastSendNs() - s.firstSendNs());
        double share = Math.max(0.05, s.availableBps(capacityBps) / Math.max(1, capacityBps));
        return (long) Math.min(MAX_DRAIN_NS, built / share);
    }

    private static final long MAX_DRAIN_NS = 1_000_000_000L;

    private void excludeTrain(long nowNs, TrainSample train, long drainNs) {
        long span = train.recvSpanNs() + drainNs;
        if (train.sendNs() != null) {
            long[] s = train.sendNs();
            available.excludeSendWindow(s[0] - TRAIN_MARGIN_NS, s[s.length - 1] + span + TRAIN_MARGIN_NS);
        } else {
            // the summary left the sink when the last probe arrived: the train was sent about
            // one RTT plus its span before now, and crossed the bottleneck for about its span
            Optional<RttEstimate> r = rtt.estimate();
            long rttNs = r.map(x -> x.rttUs() * 1000).orElse(roughRttNs);
            if (rttNs != Long.MAX_VALUE) {
                long margin = TRAIN_MARGIN_NS + rttNs / 16;
                available.excludeSendWindow(nowNs - span - rttNs - margin, nowNs - rttNs + margin);
            } else {
                available.excludeSendWindow(Long.MIN_VALUE, nowNs); // no RTT yet: all earlier probes
            }
        }
    }

    /// One reflected probegap probe ([MS-QLPB] message 0x06).
    ///
    /// @param sequence      the probe's sequence number
    /// @param sendNs        the initiator's clock when the probe actually left
    /// @param sinkRecv100ns the sink's `Sink_Recv_Timestamp`, 100 ns units (its own epoch)
    /// @param sinkSend100ns the sink's `Sink_Send_Timestamp`, 100 ns units
    /// @param recvNs        the initiator's clock when the reflection arrived
    /// @param probeIpBytes  the probe's size at the IP level (ProbeGap corrects for the
    ///                      probes' own load)
    public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                           int probeIpBytes) {
        probegaps++;
        long sinkRecvNs = sinkRecv100ns * TrainSample.QLPB_TICK_NS;
        long holdNs = (sinkSend100ns - sinkRecv100ns) * TrainSample.QLPB_TICK_NS;
        available.onProbe(sequence, sendNs, sinkRecvNs, recvNs - sinkSend100ns * TrainSample.QLPB_TICK_NS, probeIpBytes,
                recvNs);
        long raw = (recvNs - sendNs) - holdNs;
        if (raw > 0) {
            roughRttNs = Math.min(roughRttNs, raw); // cold samples too: good enough to place trains
        }
        rtt.onProbe(sendNs, recvNs, holdNs);
    }

    /// The current estimates; the available bandwidth never exceeds the bottleneck it is
    /// relative to (qwave.md §6.5).
    public PathSnapshot snapshot(long nowNs) {
        Optional<BottleneckEstimate> b = bottleneck.estimate();
        Optional<AvailableEstimate> a = b.flatMap(x -> choose(x.rateBps()));
        return new PathSnapshot(b, a, rtt.estimate(), nowNs);
    }

    /// ProbeGap's busy probes waiting longer than this many MTU transmission times at the
    /// capacity (median)...
    static final double LONG_QUEUE_MTUS = 8;
    /// ...and at least this long...
    static final long LONG_QUEUE_MIN_NS = 2_000_000L;
    /// ...with at least this busy share: cross traffic arrives in bursts that build queues
    /// (an application-limited TCP stream), which ProbeGap's seconds-long time average sees
    /// and a few 40 ms streams sample poorly.
    static final double LONG_QUEUE_MIN_BUSY = 0.05;
    /// Spruce and ProbeGap within this share of the capacity agree: ProbeGap's time average
    /// over thousands of probes is then the steadier of the two.
    static final double AGREE_SHARE = 0.08;

    /// How [#choose] combines the two methods.
    enum Choice {
        /// ProbeGap alone.
        PROBEGAP,
        /// Spruce alone.
        SPRUCE,
        /// Their inverse-variance mean ([#spruceWeight]).
        MEAN
    }

    /// How Spruce's and ProbeGap's estimates combine when both exist.
    ///
    /// * ProbeGap saw queues built by bursts ([#burstyQueues]): ProbeGap (a few 40 ms streams
    ///   sample on–off cross traffic poorly).
    /// * They agree (within [#AGREE_SHARE] of the capacity or their combined error): their
    ///   inverse-variance mean.
    /// * They differ by up to twice their combined error ([#agreeBps]): the one with the
    ///   smaller error alone (a single stream behind Poisson cross traffic is that far off
    ///   often enough that mixing it in moved ProbeGap's estimate from 12 % to 20 % low at 80 %
    ///   load, virtual time; ProbeGap under heavy timestamp noise is as far off the other way).
    /// * They disagree beyond that: one of them misses something. Spruce, when it sees the
    ///   signature of what ProbeGap misses — Spruce lower with a load at most [#LOAD_RATIO] of
    ///   Spruce's (a token bucket lets smooth cross traffic through out of its burst allowance,
    ///   unseen by small probes), or Spruce higher while the return trips show timestamp noise
    ///   ([#NOISY_SHARE]: ProbeGap then counts that noise as queueing; a user-space relay read
    ///   35–60 % low) or by [#FAR_ERRORS] combined errors with ProbeGap seeing the larger load
    ///   by that factor — and ProbeGap otherwise: a single stream behind Poisson cross traffic
    ///   strays beyond twice its error in ~10 % of cases (virtual time), ProbeGap's seconds-long
    ///   time average does not.
    static Choice decide(AvailableEstimate pg, SpruceEstimate s, long capacityBps) {
        if (burstyQueues(pg, capacityBps)) {
            return Choice.PROBEGAP;
        }
        double diff = Math.abs(s.availableBps() - pg.availableBps());
        if (diff <= Math.max(AGREE_SHARE, combinedError(s, pg)) * capacityBps) {
            return Choice.MEAN;
        }
        if (diff <= agreeBps(s, pg, capacityBps)) {
            return spruceError(s) < probegapError(pg) ? Choice.SPRUCE : Choice.PROBEGAP;
        }
        double loadPg = 1 - pg.availableBps() / (double) capacityBps;
        double loadSpruce = 1 - s.availableBps() / (double) capacityBps;
        if (s.availableBps() < pg.availableBps()) {
            return loadPg <= LOAD_RATIO * loadSpruce ? Choice.SPRUCE : Choice.PROBEGAP;
        }
        boolean factor = loadSpruce <= LOAD_RATIO * loadPg
                && diff > FAR_ERRORS * combinedError(s, pg) * capacityBps;
        return pg.reverseNoiseShare() >= NOISY_SHARE || factor ? Choice.SPRUCE : Choice.PROBEGAP;
    }

    /// See [#decide]: Spruce higher than ProbeGap by more than this many combined errors,
    /// and ProbeGap seeing the larger load by the factor [#LOAD_RATIO], is noise that the
    /// return trips did not show (an emulator's forward relay late more often than its reverse
    /// one) rather than a stray stream (a single stream behind Poisson cross traffic strayed by
    /// 2.1 combined errors in the virtual-time G1 runs; three cover ~97 % of them).
    static final double FAR_ERRORS = 3;

    /// Whether Spruce's estimate replaces ProbeGap's outright ([#decide]).
    static boolean spruceOverrides(AvailableEstimate pg, SpruceEstimate s, long capacityBps) {
        return decide(pg, s, capacityBps) == Choice.SPRUCE;
    }

    /// See [#decide].
    static final double LOAD_RATIO = 0.7;

    /// See [#decide]: return trips standing more than ε above their floor this often show
    /// timestamp noise (measured: 0.00 on the namespace test bed, idle or loaded; 0.11–0.26
    /// through the in-process emulator's user-space relay).
    static final double NOISY_SHARE = 0.05;

    /// ProbeGap's typical error over its 2 s window, as a share of the capacity (virtual-time
    /// pipeline at 80 % load: 2–4 %), with exact timestamps.
    static final double PROBEGAP_ERROR = 0.03;

    /// ProbeGap's error as a share of the capacity: [#PROBEGAP_ERROR] plus the bias timestamp
    /// noise may cause. Noise that lifts a share `q` of the probes that found the bottleneck
    /// idle above ε makes ProbeGap read an idle share `(1 − ρ)(1 − q)`, low by `idle·q/(1 − q)`
    /// of the capacity; `q` is taken from the reflections' return trips
    /// ([AvailableEstimate#reverseNoiseShare()]), which carry no probe load.
    static double probegapError(AvailableEstimate pg) {
        double q = Math.min(MAX_NOISE_SHARE, pg.reverseNoiseShare());
        double idle = 1 - pg.utilisation();
        double bias = idle * q / (1 - q);
        return Math.sqrt(PROBEGAP_ERROR * PROBEGAP_ERROR + bias * bias);
    }

    /// See [#probegapError]: return-trip noise shares are capped at this.
    static final double MAX_NOISE_SHARE = 0.9;

    /// When the two agree, Spruce's weight in their inverse-variance mean: streams whose
    /// one-way delay rises in a straight line (CBR: to ~1 % of the capacity) outweigh
    /// ProbeGap, streams full of queueing noise (Poisson: 5–10 %) count for little, and
    /// ProbeGap counts for little when timestamp noise biases it ([#probegapError]).
    static double spruceWeight(SpruceEstimate s, AvailableEstimate pg) {
        double se = Math.max(0.002, spruceError(s));
        double pe = probegapError(pg);
        double wSpruce = 1 / (se * se);
        double wProbegap = 1 / (pe * pe);
        return wSpruce / (wSpruce + wProbegap);
    }

    /// Spruce's standard error as a share of the capacity ([SpruceEstimate#errorShare()]).
    static double spruceError(SpruceEstimate s) {
        return s.errorShare();
    }

    /// How far Spruce and ProbeGap may differ before one of them must be missing something:
    /// [#AGREE_SHARE] of the capacity, or twice their combined error when that is more — noisy
    /// streams (on–off or Poisson cross traffic) do not outvote ProbeGap, nor does ProbeGap
    /// biased by timestamp noise outvote steady streams.
    static double agreeBps(SpruceEstimate s, AvailableEstimate pg, long capacityBps) {
        return Math.max(AGREE_SHARE, 2 * combinedError(s, pg)) * capacityBps;
    }

    /// The two methods' combined standard error, as a share of the capacity.
    static double combinedError(SpruceEstimate s, AvailableEstimate pg) {
        double se = spruceError(s);
        double pe = probegapError(pg);
        return Math.sqrt(se * se + pe * pe);
    }

    /// Whether ProbeGap saw queues built by bursts rather than the short waits of smooth cross
    /// traffic (a packet or two) or timestamp noise.
    static boolean burstyQueues(AvailableEstimate pg, long capacityBps) {
        double mtuNs = AvailableBandwidthEstimator.MTU_BYTES * 8e9 / capacityBps;
        return pg.utilisation() >= LONG_QUEUE_MIN_BUSY
                && pg.busyDelayNs() >= Math.max(LONG_QUEUE_MIN_NS, LONG_QUEUE_MTUS * mtuNs);
    }

    private Optional<AvailableEstimate> choose(long capacityBps) {
        Optional<AvailableEstimate> pg = available.estimate(capacityBps).map(e -> atMost(e, capacityBps));
        if (method == AvailableMethod.PROBEGAP) {
            return pg;
        }
        Optional<SpruceEstimate> sp = spruce.estimate(capacityBps);
        if (sp.isEmpty()) {
            return method == AvailableMethod.SPRUCE ? Optional.empty() : pg;
        }
        SpruceEstimate s = sp.get();
        long av = Math.min(s.availableBps(), capacityBps);
        long window = s.windowNs();
        if (method == AvailableMethod.AUTO && pg.isPresent()) {
            Choice c = decide(pg.get(), s, capacityBps);
            if (c == Choice.PROBEGAP) {
                return pg;
            }
            if (c == Choice.MEAN) {
                double w = spruceWeight(s, pg.get());
                long mixed = Math.round(w * av + (1 - w) * pg.get().availableBps());
                if (w < 0.5) {
                    AvailableEstimate p = pg.get();
                    return Optional.of(new AvailableEstimate(mixed, 1 - mixed / (double) capacityBps, p.samples(),
                            p.windowNs(), capacityBps, p.idleThresholdNs(), p.lostProbes(), p.skewPpm(),
                            p.updatedAtNs(), p.busyDelayNs(), AvailableEstimate.Method.PROBEGAP,
                            p.reverseNoiseShare()));
                }
                av = mixed;
                window = Math.max(window, pg.get().windowNs());
            }
        }
        long updated = pg.map(e -> Math.max(e.updatedAtNs(), s.updatedAtNs())).orElse(s.updatedAtNs());
        return Optional.of(new AvailableEstimate(av, 1 - av / (double) capacityBps, (int) Math.min(Integer.MAX_VALUE,
                s.pairs()), window, capacityBps, pg.map(AvailableEstimate::idleThresholdNs).orElse(0L), 0,
                pg.map(AvailableEstimate::skewPpm).orElse(0.0), method == AvailableMethod.SPRUCE ? s.updatedAtNs()
                : updated, pg.map(AvailableEstimate::busyDelayNs).orElse(0L), AvailableEstimate.Method.SPRUCE,
                pg.map(AvailableEstimate::reverseNoiseShare).orElse(0.0)));
    }

    /// ProbeGap's estimate alone, relative to the bottleneck estimate.
    public Optional<AvailableEstimate> probegap() {
        return bottleneck.estimate().flatMap(b -> available.estimate(b.rateBps()));
    }

    /// The paced streams Spruce keeps, oldest first (for diagnostics).
    public java.util.List<SpruceEstimator.Stream> spruceStreams() {
        return spruce.streams();
    }

    /// Spruce's estimate alone, relative to the bottleneck estimate.
    public Optional<SpruceEstimate> spruce() {
        return bottleneck.estimate().flatMap(b -> spruce.estimate(b.rateBps()));
    }

    private static AvailableEstimate atMost(AvailableEstimate e, long capacityBps) {
        if (e.availableBps() <= capacityBps && e.capacityBps() == capacityBps) {
            return e;
        }
        return new AvailableEstimate(Math.min(e.availableBps(), capacityBps), e.utilisation(), e.samples(),
                e.windowNs(), capacityBps, e.idleThresholdNs(), e.lostProbes(), e.skewPpm(), e.updatedAtNs(),
                e.busyDelayNs(), e.method(), e.reverseNoiseShare());
    }

    /// The bottleneck estimate alone.
    public Optional<BottleneckEstimate> bottleneck() {
        return bottleneck.estimate();
    }

    /// Trains fed so far.
    public long trainsSeen() {
        return trains;
    }

    /// Paced streams fed so far.
    public long streamsSeen() {
        return streams;
    }

    /// Probegap replies fed so far.
    public long probegapsSeen() {
        return probegaps;
    }
}
