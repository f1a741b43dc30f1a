package io.quaver.benchmarks;

import io.quaver.internal.adaptive.DetectorConfig;
import io.quaver.internal.adaptive.sim.DetectorReplay;
import io.quaver.internal.adaptive.sim.DetectorReplay.FalseAlarms;
import io.quaver.internal.adaptive.sim.DetectorReplay.Report;
import io.quaver.internal.adaptive.sim.DetectorReplay.ScenarioStats;
import io.quaver.internal.adaptive.sim.DetectorReplay.Stats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/// Goals G7–G9 for the congestion detector, in virtual time on synthetic paths
/// ([DetectorReplay]): detection latency after a 50 % capacity step-down and after cross-traffic
/// onset, time from the queue draining to Uncongested, time from headroom to Available, and
/// false alarms per hour on a clean (±5 ms jitter) and a bursty (20–40 ms delivery) path.
///
/// Usage: `DetectorBenchmark [--seeds N] [--hours H] [--probe-interval-ms I] [--seed S]
/// [--jitter-floor-spreads K] [--json FILE]` (`--jitter-floor-spreads 0`: the detector without its
/// standing jitter floor, for comparison)
/// (defaults: 200 seeds, 10 hours of each false-alarm path, probes every 1 ms; also runs 100 pps).
/// Prints a table and writes JSON (default `target/detector-benchmark.json`).
public final class DetectorBenchmark {
    private DetectorBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        int seeds = 200;
        double hours = 10;
        long seed = 20261124L;
        Path json = Path.of("target", "detector-benchmark.json");
        long[] intervalsMs = {1, 10};
        DetectorConfig config = DetectorConfig.DEFAULT;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seeds" -> seeds = Integer.parseInt(args[++i]);
                case "--hours" -> hours = Double.parseDouble(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                case "--probe-interval-ms" -> intervalsMs = new long[] {Long.parseLong(args[++i])};
                case "--jitter-floor-spreads" -> config = config.withJitterFloorSpreads(Double.parseDouble(args[++i]));
                default -> {
                    System.err.println("usage: DetectorBenchmark [--seeds N] [--hours H] [--probe-interval-ms I]"
                            + " [--seed S] [--jitter-floor-spreads K (0: off)] [--json FILE]");
                    System.exit(2);
                }
            }
        }
        StringBuilder js = new StringBuilder("{\n  \"benchmark\": \"detector\",\n  \"seed\": " + seed
                + ",\n  \"seeds\": " + seeds + ",\n  \"falseAlarmHours\": " + hours + ",\n  \"results\": [\n");
        for (int k = 0; k < intervalsMs.length; k++) {
            long t0 = System.nanoTime();
            Report r = DetectorReplay.run(config, intervalsMs[k] * 1_000_000L, seeds, hours, seed);
            double wallS = (System.nanoTime() - t0) / 1e9;
            print(r, intervalsMs[k], wallS);
            js.append(json(r, intervalsMs[k]));
            js.append(k + 1 < intervalsMs.length ? ",\n" : "\n");
        }
        js.append("  ]\n}\n");
        if (json.getParent() != null) {
            Files.createDirectories(json.getParent());
        }
        Files.writeString(json, js);
        System.out.println("JSON written to " + json.toAbsolutePath());
    }

    private static void print(Report r, long intervalMs, double wallS) {
        System.out.printf(Locale.ROOT, "%nDetector, probes every %d ms (%d pps), %d seeds per scenario, %.1f s wall%n",
                intervalMs, 1000 / intervalMs, r.stepDown().runs().size(), wallS);
        System.out.printf(Locale.ROOT, "%-44s %9s %9s %9s %7s  %s%n", "metric", "p50 ms", "p95 ms", "max ms", "misses",
                "goal");
        row("step-down 50 %: onset -> Congested", r.stepDown().detection(), "G7: <=150 p50, <=250 p95");
        row("step-down: queue drained -> Uncongested", r.stepDown().uncongested(), "G8: <=1000");
        row("step-down: headroom -> Available", r.stepDown().available(), "G8: <=1000 (500 dwell)");
        row("cross traffic: onset -> Congested", r.crossTraffic().detection(), "(1.05-1.35x overload)");
        row("cross traffic: drained -> Uncongested", r.crossTraffic().uncongested(), "G8: <=1000");
        row("cross traffic: headroom -> Available", r.crossTraffic().available(), "G8: <=1000");
        System.out.printf(Locale.ROOT, "%-44s %d / %d%n", "alarms before onset / early Available",
                r.stepDown().earlyAlarms() + r.crossTraffic().earlyAlarms(),
                r.stepDown().earlyAvailable() + r.crossTraffic().earlyAvailable());
        fa("false alarms, clean path +-5 ms jitter", r.clean(), "G9: <=1/h");
        fa("false alarms, bursty 20-40 ms delivery", r.bursty(), "G9: <=6/h");
        fa("false alarms, +-20 ms jitter in order", r.inOrderJitter(), "G9: <=6/h (emulator's bursty path)");
        fa("false alarms, stress: jitter+5 ms wander", r.stress(), "(beyond G9)");
    }

    private static void row(String name, Stats s, String goal) {
        System.out.printf(Locale.ROOT, "%-44s %9.1f %9.1f %9.1f %7d  %s%n", name, s.p50Ms(), s.p95Ms(), s.maxMs(),
                s.misses(), goal);
    }

    private static void fa(String name, FalseAlarms f, String goal) {
        System.out.printf(Locale.ROOT, "%-44s %9.2f/h over %.1f h (%d alarms, %.0f ms congested)  %s%n", name,
                f.perHour(), f.hours(), f.alarms(), f.congestedMs(), goal);
    }

    private static String json(Report r, long intervalMs) {
        return String.format(Locale.ROOT, """
                    {
                      "probeIntervalMs": %d,
                      "stepDown": %s,
                      "crossTraffic": %s,
                      "falseAlarmsClean": %s,
                      "falseAlarmsBursty": %s,
                      "falseAlarmsInOrderJitter": %s,
                      "falseAlarmsStress": %s
                    }""", intervalMs, json(r.stepDown()), json(r.crossTraffic()), json(r.clean()), json(r.bursty()),
                json(r.inOrderJitter()), json(r.stress()));
    }

    private static String json(ScenarioStats s) {
        return String.format(Locale.ROOT, "{\"detection\": %s, \"uncongested\": %s, \"available\": %s,"
                        + " \"alarmsBeforeOnset\": %d, \"earlyAvailable\": %d}", json(s.detection()),
                json(s.uncongested()), json(s.available()), s.earlyAlarms(), s.earlyAvailable());
    }

    private static String json(Stats s) {
        return String.format(Locale.ROOT, "{\"runs\": %d, \"misses\": %d, \"p50Ms\": %s, \"p95Ms\": %s, \"maxMs\": %s}",
                s.runs(), s.misses(), num(s.p50Ms()), num(s.p95Ms()), num(s.maxMs()));
    }

    private static String json(FalseAlarms f) {
        return String.format(Locale.ROOT, "{\"hours\": %s, \"alarms\": %d, \"perHour\": %s, \"congestedMs\": %s}",
                num(f.hours()), f.alarms(), num(f.perHour()), num(f.congestedMs()));
    }

    private static String num(double d) {
        return Double.isNaN(d) ? "null" : String.format(Locale.ROOT, "%.3f", d);
    }
}
