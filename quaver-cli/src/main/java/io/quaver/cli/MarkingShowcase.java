package io.quaver.cli;

import io.quaver.FlowMode;
import io.quaver.MarkingPolicy;
import io.quaver.QosFlow;
import io.quaver.QosSubsystem;
import io.quaver.TrafficType;
import io.quaver.testkit.Availability;
import io.quaver.testkit.CapturedPacket;
import io.quaver.testkit.PacketCapture;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/// A flow of each traffic type on IPv4, IPv6 and a dual-stack socket, with the marks read back
/// from the socket and, where capture works, from the packets on loopback.
final class MarkingShowcase {
    private MarkingShowcase() {
    }

    /// One traffic type on one stack.
    ///
    /// @param wireTos the TOS/traffic class seen on the wire, or -1 when not captured
    /// @param wireAfterTos the TOS seen after the handle closed, or -1
    record Row(String stack, TrafficType type, int expectedDscp, int socketTos, int wireTos, int wireAfterTos) {
        boolean ok() {
            int expectedTos = expectedDscp << 2;
            return socketTos == expectedTos && (wireTos < 0 || wireTos == expectedTos) && wireAfterTos <= 0;
        }
    }

    static List<Row> run(boolean capture, PrintStream out, boolean quiet) throws IOException, InterruptedException {
        Availability can = capture ? PacketCapture.availability() : new Availability(false, "disabled by --no-capture");
        if (!quiet) {
            out.println("Quaver marking showcase: one non-adaptive flow per traffic type on loopback.");
            out.println(can.ok() ? "Marks on the wire: captured with tcpdump on lo."
                    : "Marks on the wire: not captured (" + can.reason() + "); showing the sockets' marks.");
            out.println();
            out.printf("%-20s %-17s %5s %10s %10s %12s  %s%n", "stack", "traffic type", "DSCP", "socket TOS",
                    "wire TOS", "after close", "");
        }
        List<Row> rows = new ArrayList<>();
        String[][] stacks = {{"IPv4", "127.0.0.1", "INET"}, {"IPv6", "::1", "INET6"}, {"dual-stack → IPv4", "127.0.0.1", ""}};
        for (String[] stack : stacks) {
            rows.addAll(runStack(stack[0], InetAddress.getByName(stack[1]),
                    stack[2].isEmpty() ? null : StandardProtocolFamily.valueOf(stack[2]), can.ok()));
        }
        if (!quiet) {
            for (Row r : rows) {
                out.printf("%-20s %-17s %5d %10s %10s %12s  %s%n", r.stack(), r.type().name().toLowerCase(Locale.ROOT),
                        r.expectedDscp(), hex(r.socketTos()), hex(r.wireTos()), hex(r.wireAfterTos()), r.ok() ? "ok" : "MISMATCH");
            }
            out.println();
        }
        return rows;
    }

    private static List<Row> runStack(String name, InetAddress to, StandardProtocolFamily family, boolean capture)
            throws IOException, InterruptedException {
        List<Row> rows = new ArrayList<>();
        List<DatagramChannel> senders = new ArrayList<>();
        try (DatagramChannel receiver = DatagramChannel.open(to.getAddress().length == 4
                ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6)) {
            receiver.bind(new InetSocketAddress(to, 0));
            int port = ((InetSocketAddress) receiver.getLocalAddress()).getPort();
            PacketCapture pc = capture ? PacketCapture.builder().interfaceName("lo").filter("udp and dst port " + port)
                    .start() : null;
            try {
                int[] socketTos = new int[TrafficType.values().length];
                try (QosSubsystem qos = QosSubsystem.open()) {
                    for (TrafficType type : TrafficType.values()) {
                        DatagramChannel s = family == null ? DatagramChannel.open() : DatagramChannel.open(family);
                        senders.add(s);
                        s.connect(new InetSocketAddress(to, port));
                        QosFlow flow = qos.addFlow(s, null, type, FlowMode.NON_ADAPTIVE);
                        socketTos[type.ordinal()] = s.getOption(StandardSocketOptions.IP_TOS);
                        s.write(ByteBuffer.wrap(("quaver " + type + " on " + flow).getBytes()));
                    }
                    if (pc != null) {
                        awaitPackets(pc, senders.size());
                    }
                }
                int before = pc == null ? 0 : pc.packets().size();
                for (DatagramChannel s : senders) {
                    s.write(ByteBuffer.wrap("after close".getBytes()));
                }
                List<CapturedPacket> packets = pc == null ? List.of()
                        : awaitPackets(pc, before + senders.size());
                for (TrafficType type : TrafficType.values()) {
                    int src = ((InetSocketAddress) senders.get(type.ordinal()).getLocalAddress()).getPort();
                    int wire = -1;
                    int after = -1;
                    for (int i = 0; i < packets.size(); i++) {
                        CapturedPacket p = packets.get(i);
                        if (p.sourcePort() == src) {
                            if (i < before) {
                                wire = p.trafficClass();
                            } else {
                                after = p.trafficClass();
                            }
                        }
                    }
                    rows.add(new Row(name, type, MarkingPolicy.QWAVE_DEFAULT.marks(type).dscp(), socketTos[type.ordinal()],
                            wire, after));
                }
            } finally {
                if (pc != null) {
                    pc.close();
                }
                for (DatagramChannel s : senders) {
                    s.close();
                }
            }
        }
        return rows;
    }

    /// The captured packets once `count` have arrived, or whatever arrived within 5 s.
    private static List<CapturedPacket> awaitPackets(PacketCapture pc, int count) throws InterruptedException {
        try {
            return pc.await(p -> true, count, Duration.ofSeconds(5));
        } catch (java.util.concurrent.TimeoutException e) {
            return pc.packets();
        }
    }

    private static String hex(int v) {
        return v < 0 ? "-" : String.format("0x%02X", v);
    }

    static String toJson(List<Row> rows) {
        StringBuilder b = new StringBuilder("{\"marks\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            b.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                    "{\"stack\":\"%s\",\"trafficType\":\"%s\",\"dscp\":%d,\"socketTos\":%d,\"wireTos\":%d,\"wireTosAfterClose\":%d,\"ok\":%b}",
                    r.stack(), r.type(), r.expectedDscp(), r.socketTos(), r.wireTos(), r.wireAfterTos(), r.ok()));
        }
        return b.append("]}").toString();
    }
}
