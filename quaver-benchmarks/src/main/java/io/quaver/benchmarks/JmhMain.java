package io.quaver.benchmarks;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/// Runs [PacingDecisionBenchmark]: the decisions with 1 and 2 threads, the sends with 1; prints
/// a table (ns per operation) and keeps JMH's JSON in `target/`.
public final class JmhMain {
    private JmhMain() {
    }

    private static final String USAGE = """
            Usage: scripts/bench.sh JmhMain [--only decisions|sends] [--forks N] [--iterations N] [--gc]
              --only decisions   only the pacing decisions (1 and 2 threads)
              --only sends       only the raw send against flow.send (1 thread)
              --forks N          JMH forks per benchmark (default 1)
              --iterations N     measurement iterations of 1 s (default 5; 3 warm-up)
              --gc               add JMH's GC profiler (bytes allocated per operation)
            JSON goes to target/jmh-decisions-{1,2}t.json and target/jmh-sends.json.""";

    public static void main(String[] args) throws Exception {
        String only = null;
        int forks = 1;
        int iterations = 5;
        boolean gc = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--only" -> only = args[++i];
                case "--forks" -> forks = Integer.parseInt(args[++i]);
                case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                case "--gc" -> gc = true;
                case "--help", "-h" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    System.err.println("unknown option " + args[i] + "\n" + USAGE);
                    System.exit(2);
                }
            }
        }
        Path dir = Path.of("target");
        Files.createDirectories(dir);
        List<String> lines = new ArrayList<>();
        lines.add("| Benchmark | Threads | ns/op | ± (99.9 %) |" + (gc ? " B/op |" : ""));
        lines.add("| --- | --- | --- | --- |" + (gc ? " --- |" : ""));
        String decisions = PacingDecisionBenchmark.class.getName() + ".(quaver|guava|bucket4j).*";
        String sends = PacingDecisionBenchmark.class.getName() + ".(rawSend|flowSend).*";
        Settings settings = new Settings(forks, iterations, gc);
        if (!"sends".equals(only)) {
            for (int threads : new int[] {1, 2}) {
                run(new OptionsBuilder().include(decisions).threads(threads).resultFormat(
                        org.openjdk.jmh.results.format.ResultFormatType.JSON)
                        .result(dir.resolve("jmh-decisions-" + threads + "t.json").toString()), threads, settings, lines);
            }
        }
        if (!"decisions".equals(only)) {
            run(new OptionsBuilder().include(sends).threads(1).resultFormat(org.openjdk.jmh.results.format.ResultFormatType.JSON)
                    .result(dir.resolve("jmh-sends.json").toString()), 1, settings, lines);
        }
        System.out.println(String.join("\n", lines));
    }

    private record Settings(int forks, int iterations, boolean gc) {
    }

    private static void run(org.openjdk.jmh.runner.options.ChainedOptionsBuilder b, int threads, Settings settings,
                            List<String> lines) throws Exception {
        if (settings.gc()) {
            b.addProfiler("gc");
        }
        Options o = b.forks(settings.forks()).warmupIterations(3).warmupTime(TimeValue.seconds(1))
                .measurementIterations(settings.iterations()).measurementTime(TimeValue.seconds(1))
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED").build();
        Collection<RunResult> results = new Runner(o).run();
        for (RunResult r : results) {
            var p = r.getPrimaryResult();
            String name = r.getParams().getBenchmark();
            String line = String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f |", name.substring(name.lastIndexOf('.') + 1),
                    threads, p.getScore(), p.getScoreError());
            if (settings.gc()) {
                var alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
                line += alloc == null ? " ? |" : String.format(Locale.ROOT, " %.2f |", alloc.getScore());
            }
            lines.add(line);
        }
    }
}
