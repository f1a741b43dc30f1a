package io.quaver.internal.estimation;

import java.util.Optional;

/// Available bandwidth by **Spruce** (Strauss, Katabi, Kaashoek, "A measurement study of
/// available bandwidth estimation tools", IMC 2003), applied to the tail of a paced stream.
///
/// Spruce's gap model: two probes of `L` bytes enter a FIFO bottleneck of capacity `C`
/// `Δin = L/C` apart; the cross traffic that arrives in between is served between them, so
/// they leave `Δout = Δin + λ·Δin/C` apart and `A = C − λ = C·(1 − (Δout − Δin)/Δin)`.
/// Spruce averages that over ~100 pairs.
///
/// Why a stream and not isolated pairs: a token-bucket shaper (`tbf`, `htb`, a provider's
/// policer) lets smooth cross traffic below its rate through at line rate out of the bucket's
/// burst allowance; nothing ever waits, so neither a pair nor a small probe (ProbeGap) sees
/// that traffic (measured: 10 Mbit/s `tbf` with 30 % and 60 % UDP CBR read as 99–100 %
/// available with ProbeGap). A stream paced at `C` takes tokens at `C`, the cross traffic at
/// `λ`, the bucket refills at `C`: it is empty after `B/λ` and from then on the bottleneck is
/// a FIFO queue served at `C` that never empties (input rate `C ≥ A`). Each consecutive pair
/// of the stream's *tail* is a Spruce pair; their mean `(Δout − Δin)/Δin` is taken as the
/// least-squares slope `s` of one-way delay over send time (the mean of the pairs' ratios
/// weighted by `Δin`: a send that left late and the catch-up after it barely move it, while
/// they move the plain mean of ratios a lot), with the stream's actual tail input rate `R`:
/// `A = R − C·s` (the direct-probing equation; `= C·(1 − s)` at `R = C`). A median of pair
/// slopes (Theil–Sen) was tried and rejected: CBR cross traffic makes the one-way delay a
/// staircase, and the median then picks one stair count (−6 % at 80 % CBR, 10 Mbit/s).
///
/// The tail starts at the knee of the one-way delay (flat while the bucket drains, rising
/// after): the split that minimises the squared error of "constant head, straight tail",
/// with the tail at least half the stream. One-way delays need no clock synchronisation
/// (only their slope is used; a 100 ppm drift is 10⁻⁴ of `s`).
///
/// The estimate is the mean over the newest streams (up to [Config#maxStreams()] within
/// [Config#maxAgeNs()], and back to the last change of the path: an older stream further than
/// [#CHANGE_ERRORS] combined errors from the newer streams' mean ends the series), each
/// weighted by its tail pairs as Spruce averages pairs, recomputed with the current capacity. It also reports how much the streams disagree
/// ([SpruceEstimate#spreadShare()]): smooth cross traffic (CBR, Poisson, none) gives the same
/// answer in every stream; on–off traffic (an application-limited TCP stream's bursts) gives
/// streams that caught a burst and streams that did not.
///
/// Pure: time and samples are arguments; not thread-safe.
public final class SpruceEstimator {
    /// Tunables.
    ///
    /// @param maxStreams    streams averaged at most
    /// @param maxAgeNs      streams older than this (from the newest) are not used
    /// @param minTailProbes fewest probes in a stream's tail (a shorter stream is ignored)
    public record Config(int maxStreams, long maxAgeNs, int minTailProbes) {
        /// The newest 6 streams within 60 s; tails of at least 8 probes.
        public static final Config DEFAULT = new Config(6, 60_000_000_000L, 8);

        public Config {
            if (maxStreams < 1 || maxAgeNs <= 0 || minTailProbes < 3) {
                throw new IllegalArgumentException("invalid config " + this);
            }
        }
    }

    /// One stream's tail.
    ///
    /// @param atNs        the caller's clock when the stream's result arrived
    /// @param kneeIndex   the tail's first probe
    /// @param pairs       consecutive pairs in the tail
    /// @param inputBps    the tail's input rate `R` (IP bits over send span)
    /// @param slope       one-way delay growth per unit of send time over the tail, `s`
    /// @param firstSendNs the stream's first send time (initiator clock)
    /// @param lastSendNs  the stream's last send time
    /// @param slopeError  the slope's standard error from the tail's residuals, adjusted for
    ///                    their autocorrelation ([#fit]) and scaled by [#ERROR_CALIBRATION]
    public record Stream(long atNs, int kneeIndex, int pairs, double inputBps, double slope, long firstSendNs,
                         long lastSendNs, double slopeError) {
        /// `A = R − C·s`, within [0, C].
        public double availableBps(long capacityBps) {
            return Math.clamp(inputBps - capacityBps * slope, 0, (double) capacityBps);
        }
    }

    /// The tail's slope error is [#fit]'s, adjusted for correlated residuals (Santer et al.),
    /// times this: the lag-1 autocorrelation of 10–60 residuals is biased low, so the adjusted
    /// error still falls short for random-walk residuals (set on virtual time, 200 single
    /// streams per case: behind Poisson cross traffic at 30–80 % and 2–50 Mbit/s, twice the
    /// adjusted error covered 47–66 % of the streams' actual errors, twice this multiple
    /// 81–96 %; behind CBR, twice the adjusted error alone covered 97–100 %, at 0.5 % of the
    /// capacity at 10 Mbit/s). The former rule, 20 × the plain regression error, made a CBR
    /// stream's error 12–16 % of the capacity at 10 Mbit/s, so that a single stream could not
    /// outvote ProbeGap behind a token bucket (the benchmark's `tbf`/`htb` 10 Mbit/s CBR rows
    /// then read 42 % high in some runs).
    static final double ERROR_CALIBRATION = 3;

    private final Config config;
    private final Stream[] streams;
    private int count;
    private int next;

    public SpruceEstimator() {
        this(Config.DEFAULT);
    }

    public SpruceEstimator(Config config) {
        this.config = config;
        this.streams = new Stream[config.maxStreams()];
    }

    /// One paced stream as the sink received it (send times are required).
    ///
    /// @param nowNs the caller's clock when the result arrived
    /// @return the stream's tail, absent when the stream is unusable (too short, no send
    ///         times, time going backwards)
    public Optional<Stream> onStream(long nowNs, TrainSample train) {
        Optional<Stream> s = analyse(nowNs, train, config.minTailProbes());
        s.ifPresent(x -> {
            streams[next] = x;
            next = (next + 1) % streams.length;
            count = Math.min(count + 1, streams.length);
        });
        return s;
    }

    /// The streams kept, oldest first (for diagnostics).
    public java.util.List<Stream> streams() {
        java.util.List<Stream> out = new java.util.ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(streams[(next - count + i + streams.length) % streams.length]);
        }
        return out;
    }

    /// Forgets every stream.
    public void reset() {
        count = 0;
        next = 0;
    }

    /// The pair-weighted mean over the usable streams, relative to `capacityBps`.
    public Optional<SpruceEstimate> estimate(long capacityBps) {
        if (capacityBps <= 0 || count == 0) {
            return Optional.empty();
        }
        long newest = Long.MIN_VALUE;
        for (int i = 0; i < count; i++) {
            newest = Math.max(newest, streams[i].atNs());
        }
        double sum = 0;
        double sumSq = 0;
        double errSq = 0;
        long pairs = 0;
        int used = 0;
        long from = Long.MAX_VALUE;
        long to = Long.MIN_VALUE;
        for (int k = 0; k < count; k++) { // newest first
            Stream s = streams[(next - 1 - k + streams.length) % streams.length];
            if (newest - s.atNs() > config.maxAgeNs() || !usable(s, capacityBps)) {
                continue;
            }
            double a = s.availableBps(capacityBps);
            if (used > 0) {
                // a change of the path (a step of capacity or load) between this stream and the
                // newer ones: the newer ones alone describe the path now
                double newerMean = sum / pairs;
                double newerErr = Math.sqrt(errSq) / pairs * capacityBps;
                double err = s.slopeError() * capacityBps;
                if (Math.abs(a - newerMean) > CHANGE_ERRORS * Math.sqrt(err * err + newerErr * newerErr)) {
                    break;
                }
            }
            sum += a * s.pairs();
            sumSq += a * a * s.pairs();
            errSq += Math.pow(s.slopeError() * s.pairs(), 2);
            pairs += s.pairs();
            used++;
            from = Math.min(from, s.firstSendNs());
            to = Math.max(to, s.lastSendNs());
        }
        if (used == 0) {
            return Optional.empty();
        }
        double mean = sum / pairs;
        double sd = Math.sqrt(Math.max(0, sumSq / pairs - mean * mean));
        double standardError = Math.max(Math.sqrt(errSq) / pairs, used > 1 ? sd / capacityBps / Math.sqrt(used - 1) : 0);
        return Optional.of(new SpruceEstimate(Math.round(mean), used, pairs, sd / capacityBps, standardError, to - from,
                capacityBps, newest));
    }

    /// How many combined errors apart a stream and the newer streams' mean must be for the
    /// older streams to be left out of the mean: the path changed between them (a CUSUM-like
    /// change test on the stream series; Santer-adjusted errors cover 97–100 % of CBR and
    /// 78–96 % of Poisson streams at two errors, so three combined errors rarely cut a
    /// stationary series, and a cut only shortens the mean).
    static final double CHANGE_ERRORS = 3;

    /// Whether a stream's tail fits Spruce's gap model at this capacity: its probes entered
    /// about `L/C` apart (input rate within [#MIN_INPUT_SHARE]..[#MAX_INPUT_SHARE] of the
    /// capacity; a sender that stalled and then sent the rest in a burst, or a capacity
    /// estimate that changed since, breaks the model: seen on a loaded host, a tail sent at 2.1
    /// Gbit/s into 20 Mbit/s read 0 available and halved the mean). A large slope error alone
    /// does not disqualify a stream: a stream that caught a burst of on–off cross traffic is
    /// what tells the streams' spread.
    static boolean usable(Stream s, long capacityBps) {
        return s.inputBps() >= MIN_INPUT_SHARE * capacityBps && s.inputBps() <= MAX_INPUT_SHARE * capacityBps;
    }

    /// See [#usable].
    static final double MIN_INPUT_SHARE = 0.5;
    /// See [#usable].
    static final double MAX_INPUT_SHARE = 1.5;

    /// A stream's tail: knee, input rate and one-way-delay slope.
    static Optional<Stream> analyse(long nowNs, TrainSample train, int minTailProbes) {
        long[] send = train.sendNs();
        long[] recv = train.recvNs();
        int n = recv.length;
        if (send == null || n < 2 * minTailProbes - 1) {
            return Optional.empty();
        }
        double[] t = new double[n];
        double[] o = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = send[i] - send[0];
            o[i] = (recv[i] - recv[0]) - t[i];
            if (i > 0 && t[i] < t[i - 1]) {
                return Optional.empty();
            }
        }
        int knee = knee(t, o, n / 2);
        double span = t[n - 1] - t[knee];
        if (span <= 0) {
            return Optional.empty();
        }
        long bits = 0;
        for (int i = knee + 1; i < n; i++) {
            bits += 8L * train.sizesIpBytes()[i];
        }
        double[] fit = fit(t, o, knee, n);
        return Optional.of(new Stream(nowNs, knee, n - 1 - knee, bits * 1e9 / span, fit[0], send[0], send[n - 1],
                ERROR_CALIBRATION * fit[1]));
    }

    /// The split `k ≤ maxKnee` minimising the squared error of a constant over `[0, k]` plus
    /// a least-squares line over `[k, n)` (prefix sums: O(n)).
    static int knee(double[] t, double[] o, int maxKnee) {
        int n = t.length;
        // suffix sums for the tail line
        double[] st = new double[n + 1];
        double[] so = new double[n + 1];
        double[] stt = new double[n + 1];
        double[] sto = new double[n + 1];
        double[] soo = new double[n + 1];
        for (int i = n - 1; i >= 0; i--) {
            st[i] = st[i + 1] + t[i];
            so[i] = so[i + 1] + o[i];
            stt[i] = stt[i + 1] + t[i] * t[i];
            sto[i] = sto[i + 1] + t[i] * o[i];
            soo[i] = soo[i + 1] + o[i] * o[i];
        }
        double headSum = 0;
        double headSq = 0;
        int best = 0;
        double bestErr = Double.MAX_VALUE;
        for (int k = 0; k <= maxKnee; k++) {
            headSum += o[k];
            headSq += o[k] * o[k];
            double headErr = k == 0 ? 0 : headSq - headSum * headSum / (k + 1);
            int m = n - k;
            double vt = stt[k] - st[k] * st[k] / m;
            double vo = soo[k] - so[k] * so[k] / m;
            double cov = sto[k] - st[k] * so[k] / m;
            double tailErr = vt > 0 ? vo - cov * cov / vt : vo;
            // the knee probe belongs to both parts; count its error once
            double err = headErr + tailErr;
            if (err < bestErr - 1e-9 * Math.abs(bestErr)) {
                bestErr = err;
                best = k;
            }
        }
        return best;
    }

    /// Least-squares slope of `o` over `t` on `[from, to)`.
    static double slope(double[] t, double[] o, int from, int to) {
        return fit(t, o, from, to)[0];
    }

    /// Least-squares slope of `o` over `t` on `[from, to)`, its standard error adjusted for
    /// correlated residuals, and the residuals' lag-1 autocorrelation `r₁` (0 with fewer than 3
    /// points).
    ///
    /// The adjustment is the effective sample size of AR(1) residuals, `n_eff = n·(1 − r₁)/(1 +
    /// r₁)`, in the residual variance's denominator, as Santer et al. adjust a trend's standard
    /// error ("Statistical significance of trends and trend differences in layer-average
    /// atmospheric temperature time series", J. Geophys. Res. 105, 2000), with `n_eff ≥ 3`.
    /// Queueing behind Poisson cross traffic makes the residuals a random walk (`r₁` near 1:
    /// the error grows to `√(SSE/Σ(t − t̄)²)`, the slope's error when only the end points
    /// count); CBR's staircase and timestamp noise leave them short-range (`r₁` small: close
    /// to the plain regression error).
    static double[] fit(double[] t, double[] o, int from, int to) {
        int m = to - from;
        double mt = 0;
        double mo = 0;
        for (int i = from; i < to; i++) {
            mt += t[i];
            mo += o[i];
        }
        mt /= m;
        mo /= m;
        double vt = 0;
        double cov = 0;
        for (int i = from; i < to; i++) {
            vt += (t[i] - mt) * (t[i] - mt);
            cov += (t[i] - mt) * (o[i] - mo);
        }
        if (vt <= 0) {
            return new double[] {0, 0, 0};
        }
        double slope = cov / vt;
        if (m < 3) {
            return new double[] {slope, 0, 0};
        }
        double sse = 0;
        double lag = 0;
        double prev = Double.NaN;
        for (int i = from; i < to; i++) {
            double r = o[i] - mo - slope * (t[i] - mt);
            sse += r * r;
            if (i > from) {
                lag += r * prev;
            }
            prev = r;
        }
        double r1 = sse > 0 ? Math.clamp(lag / sse, -1.0, 1.0) : 0;
        double nEff = Math.clamp(m * (1 - r1) / (1 + r1), MIN_EFFECTIVE_PAIRS, m);
        return new double[] {slope, Math.sqrt(sse / (nEff - 2) / vt), r1};
    }

    /// See [#fit]: the fewest effective samples of a tail (its error is then that of its end
    /// points).
    static final double MIN_EFFECTIVE_PAIRS = 3;
}
