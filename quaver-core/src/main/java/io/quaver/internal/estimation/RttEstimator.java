package io.quaver.internal.estimation;

import java.util.Optional;

/// Round-trip time from [MS-QLPB] probegap timestamps.
///
/// Each reflected probe gives `RTT = (initiatorRecv − initiatorSend) − (sinkSend − sinkRecv)`:
/// the sink's holding time is removed, and each difference is taken on one clock, so the
/// clock offset between initiator and sink cancels (drift matters only over the µs of
/// holding).
///
/// * **Cold start** (goal G16, performance-anchors.md §1.4: the first packet after idle showed
///   60–700 µs of extra delay from sender/receiver wake-up): a *run* is a sequence of probes
///   sent at most [Config#coldGapNs()] apart. The first [Config#coldProbes()] probes of every
///   run are discarded, and at the very start of measurement everything sent within
///   [Config#startupNs()] of the first probe as well.
/// * **Average** (`rttUs`): the mean of the warm samples received within
///   [Config#meanWindowNs()] of the newest, at most [Config#meanMaxSamples()] of them.
/// * **Minimum** (`minRttUs`): a windowed minimum over [Config#minWindowNs()] (10 s, like
///   BBR's RTprop), kept with Kathleen Nichols' three-sample running min-max filter (Linux
///   `lib/win_minmax.c`): constant memory, exact up to sub-window granularity.
///
/// Pure: time and samples are arguments; not thread-safe.
public final class RttEstimator {
    /// Tunables.
    ///
    /// @param coldProbes     probes discarded at the start of every run
    /// @param coldGapNs      a send gap longer than this starts a new run
    /// @param startupNs      at the very start, probes within this of the first are discarded
    /// @param meanWindowNs   the mean covers samples received within this of the newest
    /// @param meanMaxSamples at most this many samples in the mean
    /// @param minWindowNs    the min filter's window
    public record Config(int coldProbes, long coldGapNs, long startupNs, long meanWindowNs, int meanMaxSamples,
                         long minWindowNs) {
        /// 3 cold probes, runs broken by 50 ms of silence, 50 ms start-up, mean over 1 s / 128
        /// samples, min over 10 s.
        public static final Config DEFAULT = new Config(3, 50_000_000L, 50_000_000L, 1_000_000_000L, 128,
                10_000_000_000L);

        public Config {
            if (coldProbes < 0 || coldGapNs <= 0 || startupNs < 0 || meanWindowNs <= 0 || meanMaxSamples < 1
                    || minWindowNs <= 0) {
                throw new IllegalArgumentException("invalid config " + this);
            }
        }
    }

    private final Config config;
    private final long[] ringNs;
    private final long[] ringAtNs;
    private int ringCount;
    private int ringNext;
    private boolean started;
    private long firstSendNs;
    private long lastSendNs;
    private int runIndex;
    private long latestNs;
    private long latestAtNs = Long.MIN_VALUE;
    private final WindowedMin min;

    public RttEstimator() {
        this(Config.DEFAULT);
    }

    public RttEstimator(Config config) {
        this.config = config;
        this.ringNs = new long[config.meanMaxSamples()];
        this.ringAtNs = new long[config.meanMaxSamples()];
        this.min = new WindowedMin(config.minWindowNs());
    }

    /// One reflected probe.
    ///
    /// @param sendNs     initiator clock when the probe left
    /// @param recvNs     initiator clock when the reflection arrived
    /// @param sinkHoldNs sink send − sink receive (the sink's clock), ns
    /// @return whether the sample was used (warm and plausible)
    public boolean onProbe(long sendNs, long recvNs, long sinkHoldNs) {
        boolean warm = warm(sendNs);
        long rtt = (recvNs - sendNs) - Math.max(0, sinkHoldNs);
        if (!warm || rtt <= 0 || recvNs < sendNs) {
            return false;
        }
        ringNs[ringNext] = rtt;
        ringAtNs[ringNext] = recvNs;
        ringNext = (ringNext + 1) % ringNs.length;
        ringCount = Math.min(ringCount + 1, ringNs.length);
        latestNs = rtt;
        latestAtNs = Math.max(latestAtNs, recvNs);
        min.update(recvNs, rtt);
        return true;
    }

    private boolean warm(long sendNs) {
        if (!started) {
            started = true;
            firstSendNs = sendNs;
            lastSendNs = sendNs;
            runIndex = 0;
        } else if (sendNs - lastSendNs > config.coldGapNs()) {
            runIndex = 0;
            lastSendNs = sendNs;
        } else {
            runIndex++;
            lastSendNs = Math.max(lastSendNs, sendNs);
        }
        return runIndex >= config.coldProbes() && sendNs - firstSendNs >= config.startupNs();
    }

    /// The current estimate, absent before the first warm sample.
    public Optional<RttEstimate> estimate() {
        if (ringCount == 0) {
            return Optional.empty();
        }
        long from = latestAtNs - config.meanWindowNs();
        long sum = 0;
        int k = 0;
        for (int i = 0; i < ringCount; i++) {
            if (ringAtNs[i] >= from) {
                sum += ringNs[i];
                k++;
            }
        }
        long meanNs = k == 0 ? latestNs : Math.round((double) sum / k);
        return Optional.of(new RttEstimate(toUs(meanNs), toUs(min.value()), toUs(latestNs), Math.max(k, 1),
                latestAtNs));
    }

    private static long toUs(long ns) {
        return Math.max(1, Math.round(ns / 1000.0));
    }

    /// Kathleen Nichols' windowed running minimum (Linux `lib/win_minmax.c`): the best, second
    /// best and third best samples of three sub-windows.
    static final class WindowedMin {
        private final long windowNs;
        private final long[] t = new long[3];
        private final long[] v = new long[3];
        private boolean empty = true;

        WindowedMin(long windowNs) {
            this.windowNs = windowNs;
        }

        long value() {
            return v[0];
        }

        long update(long nowNs, long meas) {
            if (empty || meas <= v[0] || nowNs - t[2] > windowNs) {
                empty = false;
                for (int i = 0; i < 3; i++) {
                    t[i] = nowNs;
                    v[i] = meas;
                }
                return v[0];
            }
            if (meas <= v[1]) {
                t[2] = t[1] = nowNs;
                v[2] = v[1] = meas;
            } else if (meas <= v[2]) {
                t[2] = nowNs;
                v[2] = meas;
            }
            long dt = nowNs - t[0];
            if (dt > windowNs) {
                shift(nowNs, meas);
                if (nowNs - t[0] > windowNs) {
                    shift(nowNs, meas);
                }
            } else if (t[1] == t[0] && dt > windowNs / 4) {
                t[2] = t[1] = nowNs;
                v[2] = v[1] = meas;
            } else if (t[2] == t[1] && dt > windowNs / 2) {
                t[2] = nowNs;
                v[2] = meas;
            }
            return v[0];
        }

        private void shift(long nowNs, long meas) {
            t[0] = t[1];
            v[0] = v[1];
            t[1] = t[2];
            v[1] = v[2];
            t[2] = nowNs;
            v[2] = meas;
        }
    }
}
