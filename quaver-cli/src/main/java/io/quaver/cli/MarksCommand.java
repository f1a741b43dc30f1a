package io.quaver.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;

/// `./quaver marks`: the marking showcase on loopback, with no set-up.
@Command(name = "marks", mixinStandardHelpOptions = true,
        description = "Show the marks Quaver applies: a flow of each traffic type on IPv4, IPv6 and dual-stack"
                + " sockets, the marks read back from the sockets and, where packet capture is possible (root +"
                + " tcpdump), seen on the wire.")
final class MarksCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print one JSON object with the results instead of tables.")
    boolean json;

    @Option(names = "--no-capture", description = "Do not capture packets to check the marks on the wire.")
    boolean noCapture;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        List<MarkingShowcase.Row> rows = MarkingShowcase.run(!noCapture, out, json);
        boolean ok = rows.stream().allMatch(MarkingShowcase.Row::ok);
        if (json) {
            out.println(MarkingShowcase.toJson(rows));
        } else {
            out.println(ok ? "All marks as expected." : "Some marks were not as expected (see above).");
        }
        return ok ? 0 : Main.EXIT_FAILED;
    }
}
