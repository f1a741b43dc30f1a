package io.quaver.cli;

import io.quaver.FlowInfo;
import io.quaver.OutgoingRate;
import io.quaver.internal.daemon.DaemonClient;
import io.quaver.internal.daemon.DaemonFlow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/// `./quaver flows`: the daemon's flows with their marks, rates and estimates.
@Command(name = "flows", mixinStandardHelpOptions = true,
        description = "List the flows of the Quaver daemon on this host: owner, traffic type, marks, rate contract and"
                + " the estimates of their paths. Needs a privileged connection (see the daemon's policy).")
final class FlowsCommand implements Callable<Integer> {
    @Option(names = "--socket", paramLabel = "PATH", defaultValue = DaemonCommand.DEFAULT_SOCKET,
            description = "The daemon's control socket (default: ${DEFAULT-VALUE}).")
    Path socket;

    @Option(names = "--json", description = "Print one JSON array instead of a table.")
    boolean json;

    @Override
    public Integer call() {
        List<DaemonFlow> flows;
        try (DaemonClient client = DaemonClient.open(socket)) {
            flows = client.flows();
        }
        System.out.println(json ? json(flows) : table(flows));
        return 0;
    }

    static String table(List<DaemonFlow> flows) {
        if (flows.isEmpty()) {
            return "no flows";
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"FLOW", "OWNER", "MODE", "TYPE", "DSCP", "802.1p", "RATE", "SHAPING", "DESTINATION",
                "BOTTLENECK", "AVAILABLE"});
        for (DaemonFlow f : flows) {
            FlowInfo i = f.info();
            OutgoingRate r = i.rate();
            rows.add(new String[] {Integer.toUnsignedString(i.flowId()), f.owner(), lower(i.mode().name()),
                    lower(i.trafficType().name()), Integer.toString(i.applied().conformantDscp()),
                    Integer.toString(i.applied().conformantL2()), r == null ? "-" : rate(r.bandwidthBps()),
                    r == null ? "-" : lower(r.shaping().name()), destinations(i), rate(f.bottleneckBps()),
                    rate(f.availableBps())});
        }
        int[] width = new int[rows.getFirst().length];
        for (String[] row : rows) {
            for (int c = 0; c < row.length; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < row.length; c++) {
                line.append(String.format("%-" + (width[c] + 2) + "s", row[c]));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString().stripTrailing();
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    private static String destinations(FlowInfo i) {
        List<String> out = new ArrayList<>();
        for (FlowInfo.Member m : i.members()) {
            out.add(m.protocol() + " " + endpoint(m.destination()));
        }
        return String.join(", ", out);
    }

    private static String endpoint(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /// Bits/s for people: `2.5 Mbit/s`, `-` for none.
    static String rate(long bps) {
        if (bps < 0) {
            return "-";
        }
        if (bps >= 1_000_000_000) {
            return String.format(Locale.ROOT, "%.1f Gbit/s", bps / 1e9);
        }
        if (bps >= 1_000_000) {
            return String.format(Locale.ROOT, "%.1f Mbit/s", bps / 1e6);
        }
        if (bps >= 1_000) {
            return String.format(Locale.ROOT, "%.0f kbit/s", bps / 1e3);
        }
        return bps + " bit/s";
    }

    static String json(List<DaemonFlow> flows) {
        StringBuilder out = new StringBuilder("[");
        for (int k = 0; k < flows.size(); k++) {
            DaemonFlow f = flows.get(k);
            FlowInfo i = f.info();
            OutgoingRate r = i.rate();
            out.append(k == 0 ? "" : ",").append("{\"flowId\":").append(Integer.toUnsignedString(i.flowId()))
                    .append(",\"owner\":").append(string(f.owner()))
                    .append(",\"mode\":").append(string(i.mode().name()))
                    .append(",\"trafficType\":").append(string(i.trafficType().name()))
                    .append(",\"dscp\":").append(i.applied().conformantDscp())
                    .append(",\"nonConformantDscp\":").append(i.applied().nonConformantDscp())
                    .append(",\"userPriority\":").append(i.applied().conformantL2())
                    .append(",\"rateBps\":").append(r == null ? "null" : Long.toString(r.bandwidthBps()))
                    .append(",\"shaping\":").append(r == null ? "null" : string(r.shaping().name()))
                    .append(",\"destinations\":[");
            for (int m = 0; m < i.members().size(); m++) {
                FlowInfo.Member member = i.members().get(m);
                out.append(m == 0 ? "" : ",").append("{\"protocol\":").append(string(member.protocol()))
                        .append(",\"address\":").append(string(endpoint(member.destination()))).append('}');
            }
            out.append("],\"bottleneckBps\":").append(f.bottleneckBps() < 0 ? "null" : f.bottleneckBps())
                    .append(",\"availableBps\":").append(f.availableBps() < 0 ? "null" : f.availableBps())
                    .append('}');
        }
        return out.append(']').toString();
    }

    private static String string(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
