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

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("target");
        Files.createDirectories(dir);
        List<String> lines = new ArrayList<>();
        lines.add("| Benchmark | Threads | ns/op | ± (99.9 %) |");
        lines.add("| --- | --- | --- | --- |");
        String decisions = PacingDecisionBenchmark.class.getName() + ".(quaver|guava|bucket4j).*";
        String sends = PacingDecisionBenchmark.class.getName() + ".(rawSend|flowSend).*";
        for (int threads : new int[] {1, 2}) {
            run(new OptionsBuilder().include(decisions).threads(threads).resultFormat(
                    org.openjdk.jmh.results.format.ResultFormatType.JSON)
                    .result(dir.resolve("jmh-decisions-" + threads + "t.json").toString()), threads, lines);
        }
        run(new OptionsBuilder().include(sends).threads(1).resultFormat(org.openjdk.jmh.results.format.ResultFormatType.JSON)
                .result(dir.resolve("jmh-sends.json").toString()), 1, lines);
        System.out.println(String.join("\n", lines));
    }

    private static void run(org.openjdk.jmh.runner.options.ChainedOptionsBuilder b, int threads, List<String> lines) throws Exception {
        Options o = b.forks(1).warmupIterations(3).warmupTime(TimeValue.seconds(1)).measurementIterations(5)
                .measurementTime(TimeValue.seconds(1)).jvmArgsAppend("--enable-native-access=ALL-UNNAMED").build();
        Collection<RunResult> results = new Runner(o).run();
        for (RunResult r : results) {
            var p = r.getPrimaryResult();
            String name = r.getParams().getBenchmark();
            lines.add(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f |", name.substring(name.lastIndexOf('.') + 1),
                    threads, p.getScore(), p.getScoreError()));
        }
    }
}
