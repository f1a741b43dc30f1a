package io.quaver.internal.adaptive.sim;

import io.quaver.internal.adaptive.AvailableWatch;
import io.quaver.internal.adaptive.CongestionDetector;
import io.quaver.internal.adaptive.CongestionState;
import io.quaver.internal.adaptive.DetectorConfig;
import io.quaver.internal.adaptive.PathMonitor;
import io.quaver.internal.adaptive.Transition;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/// The benchmark core of goals G7–G9: replays [SyntheticPath] scenarios through a
/// [PathMonitor] (a [CongestionDetector] and an [AvailableWatch]) in virtual time, closing the loop the way the
/// QoS2 SDK sample does (qwave.md §7.5): on Congested the flow drops to a tenth of its rate and
/// waits for Available at the original rate, then restores it.
///
/// Scenarios (all seeded; a run's seed is printed with any failure):
/// - **step-down** (G7): 20 Mbit/s, the flow at 60–90 % of it; after 10–11 s the capacity halves
///   with a 100 ms buffer (queue grows at 0.2–0.8 ms per ms); 3 s after the reaction the
///   capacity returns;
/// - **cross traffic**: 20 Mbit/s, the flow at 35–50 %, cross traffic jumps from 10 % to
///   70–85 % (1.05–1.35× overload; 100 ms buffer) and is removed 3 s after the reaction;
/// - **clean** and **bursty** paths (G9): the flow at 50 %, 10 % cross traffic, ±5 ms jitter, or
///   20–40 ms delivery bursts with ±1 ms jitter, run for hours of virtual time counting
///   Congested transitions; the **in-order jitter** path ([#inOrderJitterParams]: what the link
///   emulator's ±20 ms jitter without reordering delivers, probes bunching behind delayed ones);
///   and a **stress** path beyond G9 ([#stressParams]).
///
/// Measured: detection latency (onset → Congested, including the way back, RTT/2 = 10 ms);
/// time from the queue draining (ground truth ≤ 1 ms) to Uncongested; time from the flow's
/// headroom reaching 1.05 × target (ground truth) to Available. The available-bandwidth
/// estimate fed to the watch is ground truth through a 100 ms EWMA with 3 % noise every 50 ms
/// (a stand-in for the probing estimator, which issue 3 measures on its own).
public final class DetectorReplay {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000 * MS;
    private static final long CAPACITY_BPS = 20_000_000L;
    private static final long ESTIMATE_EVERY_NS = 50 * MS;
    private static final double ESTIMATE_NOISE = 0.03;
    private static final double ESTIMATE_EWMA_TAU_NS = 100 * MS;
    private static final long GIVE_UP_NS = 5 * S;

    private DetectorReplay() {
    }

    /// One adaptive-loop run. Times in ns; -1 = did not happen within the run.
    ///
    /// @param seed           the seed
    /// @param detectionNs    onset → Congested
    /// @param cause          what detected it
    /// @param uncongestedNs  queue drained → Uncongested (negative: announced while draining)
    /// @param availableNs    headroom ≥ 1.05 × target → Available
    /// @param earlyAlarms    Congested transitions before the onset
    /// @param earlyAvailable whether Available fired before the headroom allowed it
    public record Run(long seed, long detectionNs, Transition.Cause cause, long uncongestedNs, long availableNs,
                      int earlyAlarms, boolean earlyAvailable) {
    }

    /// Percentiles of one metric over runs, in milliseconds.
    ///
    /// @param runs   runs measured
    /// @param misses runs where the event did not happen
    public record Stats(int runs, int misses, double p50Ms, double p95Ms, double maxMs) {
        static Stats of(long[] valuesNs, int misses) {
            long[] v = valuesNs.clone();
            Arrays.sort(v);
            if (v.length == 0) {
                return new Stats(misses, misses, Double.NaN, Double.NaN, Double.NaN);
            }
            return new Stats(v.length + misses, misses, rank(v, 0.50) / 1e6, rank(v, 0.95) / 1e6, v[v.length - 1] / 1e6);
        }

        private static long rank(long[] sorted, double q) {
            int i = (int) Math.ceil(q * sorted.length) - 1;
            return sorted[Math.clamp(i, 0, sorted.length - 1)];
        }
    }

    /// False alarms on a path without congestion.
    ///
    /// @param hours       virtual hours replayed
    /// @param alarms      UNCONGESTED → CONGESTED transitions
    /// @param perHour     alarms per hour
    /// @param congestedMs total time spent CONGESTED
    public record FalseAlarms(double hours, int alarms, double perHour, double congestedMs) {
    }

    /// A scenario's results over many seeds.
    public record ScenarioStats(String name, Stats detection, Stats uncongested, Stats available, int earlyAlarms,
                                int earlyAvailable, List<Run> runs) {
    }

    /// The whole benchmark.
    public record Report(DetectorConfig config, long probeIntervalNs, ScenarioStats stepDown,
                         ScenarioStats crossTraffic, FalseAlarms clean, FalseAlarms bursty, FalseAlarms inOrderJitter,
                         FalseAlarms stress) {
    }

    /// Which adaptive-loop scenario.
    public enum Scenario {
        STEP_DOWN, CROSS_TRAFFIC
    }

    /// Runs everything: `seeds` runs of each adaptive scenario and `falseAlarmHours` of each of
    /// the clean and bursty paths (split into one-hour runs with their own seeds).
    public static Report run(DetectorConfig config, long probeIntervalNs, int seeds, double falseAlarmHours,
                             long baseSeed) {
        SyntheticPath.Params params = SyntheticPath.Params.CLEAN.withProbeIntervalNs(probeIntervalNs);
        ScenarioStats step = scenario(Scenario.STEP_DOWN, config, params, seeds, baseSeed);
        ScenarioStats cross = scenario(Scenario.CROSS_TRAFFIC, config, params, seeds, baseSeed + 1_000_000);
        FalseAlarms clean = falseAlarms(config, params.withJitterNs(5 * MS), falseAlarmHours, baseSeed + 2_000_000);
        FalseAlarms bursty = falseAlarms(config, params.withJitterNs(MS).withBurstsNs(20 * MS, 40 * MS),
                falseAlarmHours, baseSeed + 3_000_000);
        FalseAlarms stress = falseAlarms(config, stressParams(params), falseAlarmHours, baseSeed + 4_000_000);
        FalseAlarms inOrder = falseAlarms(config, inOrderJitterParams(params), falseAlarmHours, baseSeed + 5_000_000);
        return new Report(config, probeIntervalNs, step, cross, clean, bursty, inOrder, stress);
    }

    /// The link emulator's "±20 ms jitter without reordering" (AdaptiveBenchmark's bursty row):
    /// 10 ms + uniform ±20 ms (clamped at 0, as the emulator does) per probe, delivered in
    /// order, probes every 1 ms ± 25 % (the prober's dither). Checked against a recording of the
    /// emulator's probegap samples (`DetectorTrace`, 5 min): one-way delay above the minimum p1 /
    /// p50 / p99 12.4 / 23.4 / 30.2 ms recorded, 12.9 / 23.3 / 29.6 ms here; the 40 ms floor
    /// above the minimum p5 / p50 / p95 10.2 / 16.1 / 20.6 ms recorded, 11.1 / 16.1 / 20.1 here.
    public static SyntheticPath.Params inOrderJitterParams(SyntheticPath.Params params) {
        return params.withJitterNs(20 * MS).withInOrderDelivery().withProbeDither(0.25);
    }

    /// The stress path (beyond G9): ±5 ms per-probe jitter plus ±5 ms of *correlated* delay
    /// wander (an Ornstein-Uhlenbeck process, 100 ms time constant) — delay variation that
    /// moves the queue floor and has a gradient, unlike i.i.d. jitter or delivery bursts.
    public static SyntheticPath.Params stressParams(SyntheticPath.Params params) {
        return params.withJitterNs(5 * MS).withWanderNs(5 * MS);
    }

    /// `seeds` runs of one adaptive scenario.
    public static ScenarioStats scenario(Scenario scenario, DetectorConfig config, SyntheticPath.Params params,
                                         int seeds, long baseSeed) {
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < seeds; i++) {
            runs.add(adaptiveRun(scenario, config, params, baseSeed + i));
        }
        return new ScenarioStats(scenario.name(), stats(runs, Run::detectionNs), stats(runs, Run::uncongestedNs),
                stats(runs, Run::availableNs), runs.stream().mapToInt(Run::earlyAlarms).sum(),
                (int) runs.stream().filter(Run::earlyAvailable).count(), runs);
    }

    private static Stats stats(List<Run> runs, java.util.function.ToLongFunction<Run> f) {
        long[] v = runs.stream().mapToLong(f).filter(x -> x != -1).toArray();
        return Stats.of(v, runs.size() - v.length);
    }

    /// One run of the SDK sample's adaptive loop over a scenario.
    public static Run adaptiveRun(Scenario scenario, DetectorConfig config, SyntheticPath.Params params, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        long media;
        long cross;
        long buffer;
        double utilisation = scenario == Scenario.STEP_DOWN ? 0.6 + 0.3 * rnd.nextDouble() : 0.35 + 0.15 * rnd.nextDouble();
        media = (long) (utilisation * CAPACITY_BPS);
        cross = scenario == Scenario.STEP_DOWN ? 0 : CAPACITY_BPS / 10;
        buffer = scenario == Scenario.STEP_DOWN ? CAPACITY_BPS / 2 / 10 : CAPACITY_BPS / 10; // 100 ms
        long onsetNs = 10 * S + rnd.nextLong(S);
        long crossOnsetBps = (long) ((0.70 + 0.15 * rnd.nextDouble()) * CAPACITY_BPS);

        SyntheticPath path = new SyntheticPath(params, CAPACITY_BPS, CAPACITY_BPS / 10, seed);
        path.setMediaBps(media);
        path.setCrossBps(cross);
        PathMonitor monitor = new PathMonitor(new CongestionDetector(config), new AvailableWatch());
        Tracker tr = new Tracker();
        SyntheticPath.SampleSink sink = (now, seq, send, recv) -> tr.record(monitor.onProbe(now, seq, send, recv));

        long target = media;
        long detectedAt = -1;
        Transition.Cause cause = null;
        long drainedAt = -1;
        long uncongestedAt = -1;
        long recoverAt = -1;
        long headroomAt = -1;
        long availableAt = -1;
        boolean earlyAvailable = false;
        double ewma = path.availableBps();
        long nextEstimate = 0;
        long end = onsetNs + 12 * S;
        for (long t = MS; t <= end; t += MS) {
            if (!tr.onset && t >= onsetNs) {
                tr.onset = true;
                if (scenario == Scenario.STEP_DOWN) {
                    path.setCapacityBps(CAPACITY_BPS / 2);
                    path.setBufferBits(buffer);
                } else {
                    path.setCrossBps(crossOnsetBps);
                    path.setBufferBits(buffer);
                }
            }
            path.advance(t, sink);
            tr.record(monitor.onTick(t));
            if (t >= nextEstimate) {
                nextEstimate = t + ESTIMATE_EVERY_NS;
                ewma += (path.availableBps() - ewma) * (1 - Math.exp(-ESTIMATE_EVERY_NS / ESTIMATE_EWMA_TAU_NS));
                long est = (long) Math.max(0, ewma * (1 + ESTIMATE_NOISE * rnd.nextGaussian()));
                monitor.onEstimate(t, est);
            }
            if (detectedAt == -1) {
                if (tr.onset && tr.congestedAt >= onsetNs) {
                    detectedAt = tr.congestedAt;
                    cause = tr.cause;
                    path.setMediaBps(media / 10); // the SDK sample: drop to a tenth
                    recoverAt = t + 3 * S;
                } else if (tr.onset && t - onsetNs > GIVE_UP_NS) {
                    break;
                }
                continue;
            }
            if (drainedAt == -1 && path.queueDelayNs() <= MS) {
                drainedAt = t;
            }
            if (uncongestedAt == -1 && tr.uncongestedAt > detectedAt) {
                uncongestedAt = tr.uncongestedAt;
            }
            if (recoverAt != -1 && t >= recoverAt && headroomAt == -1) {
                if (scenario == Scenario.STEP_DOWN) {
                    path.setCapacityBps(CAPACITY_BPS);
                } else {
                    path.setCrossBps(cross);
                }
            }
            if (headroomAt == -1 && path.headroomBps() >= 1.05 * target) {
                headroomAt = t;
            }
            if (availableAt == -1 && monitor.availableFor(target, path.mediaBps(), t).isPresent()) {
                availableAt = t;
                earlyAvailable = headroomAt == -1;
                path.setMediaBps(media); // restore
            }
            if (availableAt != -1 && uncongestedAt != -1) {
                break;
            }
        }
        long detection = detectedAt == -1 ? -1 : detectedAt - onsetNs;
        long uncongested = uncongestedAt == -1 || drainedAt == -1 ? -1 : uncongestedAt - drainedAt;
        long available = availableAt == -1 || headroomAt == -1 ? -1 : availableAt - headroomAt;
        return new Run(seed, detection, cause, uncongested, available, tr.early, earlyAvailable);
    }

    private static final class Tracker {
        long congestedAt = -1;
        long uncongestedAt = -1;
        Transition.Cause cause;
        int early;
        boolean onset;

        void record(Transition t) {
            if (t == null) {
                return;
            }
            if (t.to() == CongestionState.CONGESTED) {
                congestedAt = t.atNs();
                cause = t.cause();
                if (!onset) {
                    early++;
                }
            } else {
                uncongestedAt = t.atNs();
            }
        }
    }

    /// Replays `hours` of a congestion-free path (the flow at 50 %, 10 % cross traffic) and
    /// counts Congested transitions.
    public static FalseAlarms falseAlarms(DetectorConfig config, SyntheticPath.Params params, double hours,
                                          long baseSeed) {
        long totalNs = (long) (hours * 3600 * S);
        long chunkNs = 3600 * S;
        int alarms = 0;
        long congestedNs = 0;
        long done = 0;
        for (int i = 0; done < totalNs; i++) {
            long len = Math.min(chunkNs, totalNs - done);
            long[] r = falseAlarmRun(config, params, len, baseSeed + i);
            alarms += (int) r[0];
            congestedNs += r[1];
            done += len;
        }
        return new FalseAlarms(hours, alarms, alarms / hours, congestedNs / 1e6);
    }

    /// One run of `durationNs` on a congestion-free path: {alarms, ns spent CONGESTED}.
    public static long[] falseAlarmRun(DetectorConfig config, SyntheticPath.Params params, long durationNs, long seed) {
        SyntheticPath path = new SyntheticPath(params, CAPACITY_BPS, CAPACITY_BPS / 10, seed);
        path.setMediaBps(CAPACITY_BPS / 2);
        path.setCrossBps(CAPACITY_BPS / 10);
        CongestionDetector detector = new CongestionDetector(config);
        long[] out = new long[2];
        long[] since = {-1};
        SyntheticPath.SampleSink sink = (now, seq, send, recv) -> count(detector.onProbe(now, seq, send, recv), out, since);
        for (long t = 10 * MS; t <= durationNs; t += 10 * MS) {
            path.advance(t, sink);
            count(detector.onTick(t), out, since);
        }
        if (since[0] != -1) {
            out[1] += durationNs - since[0];
        }
        return out;
    }

    private static void count(Transition t, long[] out, long[] since) {
        if (t == null) {
            return;
        }
        if (t.to() == CongestionState.CONGESTED) {
            out[0]++;
            since[0] = t.atNs();
        } else if (since[0] != -1) {
            out[1] += t.atNs() - since[0];
            since[0] = -1;
        }
    }
}
