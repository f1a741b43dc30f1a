package io.quaver.cli;

import io.quaver.FlowMode;
import io.quaver.PacketPriority;
import io.quaver.QosFlow;
import io.quaver.QosSubsystem;
import io.quaver.TrafficType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/// `./quaver demo`: Quaver at work on loopback, with no set-up.
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Show Quaver at work on loopback: a flow of each traffic type, the marks applied on the"
                + " sockets and, where packet capture is possible (root + tcpdump), on the wire.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print one JSON object with the results instead of tables.")
    boolean json;

    @Option(names = "--no-capture", description = "Do not capture packets to check the marks on the wire.")
    boolean noCapture;

    @Option(names = "--duration", description = "How long the demo may take at most (default: ${DEFAULT-VALUE}).",
            defaultValue = "PT60S", converter = DurationConverter.class)
    Duration duration;

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
