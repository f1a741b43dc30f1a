package io.quaver.internal.shaping;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/// Pure builder of the `tc` (iproute2) commands of kernel-class shaping, and parsers of the
/// `tc` / `ip` output it reads. No I/O here: [KernelClasses] runs what this builds.
///
/// Layout on an egress interface `DEV` that Quaver owns:
///
/// ```
/// qdisc htb 5156: root default 0         ← Quaver's marker: handle 5156: ("QV"), kind htb
///   class 5156:M htb rate R ceil R …      ← one per shaped flow, M = 1..0x7FFF
///     filter u32 prio 2M   (IPv4 5-tuples of the flow's sockets) → flowid 5156:M
///     filter u32 prio 2M+1 (IPv6 5-tuples)                        → flowid 5156:M
/// ```
///
/// `default 0` sends every unclassified packet straight to the device (htb's direct queue),
/// so traffic of other sockets is not shaped. Each flow's filters have a priority of their own,
/// so that they can be deleted together (`tc filter del … prio P`) without handles.
public final class TcCommands {
    /// Quaver's qdisc handle major, 0x5156 ("QV").
    public static final int MAJOR = 0x5156;
    /// The root handle text, `5156:`.
    public static final String ROOT_HANDLE = "5156:";
    /// Largest class minor: priorities 2M and 2M+1 must fit in 16 bits.
    public static final int MAX_MINOR = 0x7FFF;

    private TcCommands() {
    }

    /// One socket of a shaped flow as a filter sees it.
    ///
    /// @param udp         UDP (`true`) or TCP
    /// @param local       the socket's local address; a wildcard address matches any source
    ///                    address, port 0 any source port
    /// @param destination where it sends
    public record FiveTuple(boolean udp, InetSocketAddress local, InetSocketAddress destination) {
        /// Whether the packets are IPv4 on the wire (by destination).
        public boolean ipv4() {
            return PacingPolicy.isIpv4OnWire(destination.getAddress());
        }
    }

    /// `qdisc add dev DEV root handle 5156: [stab overhead -L2] htb default 0`.
    ///
    /// htb counts the bytes the qdisc sees, which include the link-layer header (14 bytes on
    /// Ethernet and veth); a size table with a negative overhead of `l2HeaderBytes` makes the
    /// class rates IP-level rates, as qWAVE's bandwidths are (decisions.md item 5).
    public static List<String> addRoot(String dev, int l2HeaderBytes) {
        List<String> c = new ArrayList<>(List.of("qdisc", "add", "dev", dev, "root", "handle", ROOT_HANDLE));
        if (l2HeaderBytes > 0) {
            c.addAll(List.of("stab", "overhead", Integer.toString(-l2HeaderBytes)));
        }
        c.addAll(List.of("htb", "default", "0"));
        return List.copyOf(c);
    }

    /// The link-layer header bytes of a device from `ip -o link show dev DEV`: 14 for
    /// `link/ether`, 0 otherwise (IP-level devices such as tun, or unknown).
    public static int parseL2HeaderBytes(String ipLinkOutput) {
        return ipLinkOutput.contains("link/ether") ? 14 : 0;
    }

    /// `qdisc del dev DEV root` (the kernel puts its default qdisc back).
    public static List<String> deleteRoot(String dev) {
        return List.of("qdisc", "del", "dev", dev, "root");
    }

    /// `qdisc show dev DEV root`.
    public static List<String> showRoot(String dev) {
        return List.of("qdisc", "show", "dev", dev, "root");
    }

    /// `class replace …`: adds the flow's class or changes its rate in place.
    public static List<String> replaceClass(String dev, int minor, long rateBps, long burstBytes) {
        checkMinor(minor);
        String rate = rateBps + "bit";
        String burst = burstBytes + "b";
        return List.of("class", "replace", "dev", dev, "parent", ROOT_HANDLE, "classid", classId(minor), "htb",
                "rate", rate, "ceil", rate, "burst", burst, "cburst", burst, "quantum", Long.toString(quantumBytes(rateBps)));
    }

    /// `class del dev DEV classid 5156:M`.
    public static List<String> deleteClass(String dev, int minor) {
        checkMinor(minor);
        return List.of("class", "del", "dev", dev, "classid", classId(minor));
    }

    /// The commands deleting every filter of class `minor` (both families).
    public static List<List<String>> deleteFilters(String dev, int minor) {
        checkMinor(minor);
        return List.of(
                List.of("filter", "del", "dev", dev, "parent", ROOT_HANDLE, "protocol", "ip", "prio",
                        Integer.toString(prio(minor, true)), "u32"),
                List.of("filter", "del", "dev", dev, "parent", ROOT_HANDLE, "protocol", "ipv6", "prio",
                        Integer.toString(prio(minor, false)), "u32"));
    }

    /// `filter add … u32 match … flowid 5156:M` for one socket of the flow.
    public static List<String> addFilter(String dev, int minor, FiveTuple t) {
        checkMinor(minor);
        boolean v4 = t.ipv4();
        List<String> c = new ArrayList<>(List.of("filter", "add", "dev", dev, "parent", ROOT_HANDLE, "protocol",
                v4 ? "ip" : "ipv6", "prio", Integer.toString(prio(minor, v4)), "u32"));
        String ip = v4 ? "ip" : "ip6";
        c.addAll(List.of("match", ip, "protocol", t.udp() ? "17" : "6", "0xff"));
        InetAddress src = t.local() == null ? null : t.local().getAddress();
        if (src != null && !src.isAnyLocalAddress()) {
            c.addAll(List.of("match", ip, "src", prefix(src, v4)));
        }
        if (t.local() != null && t.local().getPort() != 0) {
            c.addAll(List.of("match", ip, "sport", Integer.toString(t.local().getPort()), "0xffff"));
        }
        c.addAll(List.of("match", ip, "dst", prefix(t.destination().getAddress(), v4)));
        c.addAll(List.of("match", ip, "dport", Integer.toString(t.destination().getPort()), "0xffff"));
        c.addAll(List.of("flowid", classId(minor)));
        return List.copyOf(c);
    }

    /// The whole install or update of a flow's class as one `tc -force -batch` script: the
    /// class (added or changed), its old filters removed, the current ones added.
    public static List<List<String>> installFlow(String dev, int minor, long rateBps, long burstBytes,
                                                 List<FiveTuple> tuples) {
        List<List<String>> out = new ArrayList<>();
        out.add(replaceClass(dev, minor, rateBps, burstBytes));
        out.addAll(deleteFilters(dev, minor));
        for (FiveTuple t : tuples) {
            out.add(addFilter(dev, minor, t));
        }
        return out;
    }

    /// The removal of a flow's class: filters first, then the class.
    public static List<List<String>> removeFlow(String dev, int minor) {
        List<List<String>> out = new ArrayList<>(deleteFilters(dev, minor));
        out.add(deleteClass(dev, minor));
        return out;
    }

    /// A `tc -batch` script: one command per line, arguments separated by spaces (none of
    /// ours contains a space or a quote).
    public static String batchScript(List<List<String>> commands) {
        StringBuilder sb = new StringBuilder();
        for (List<String> c : commands) {
            for (String arg : c) {
                if (arg.isEmpty() || arg.chars().anyMatch(ch -> ch <= ' ' || ch == '"' || ch == '\'' || ch == '\\')) {
                    throw new IllegalArgumentException("unsafe tc argument: '" + arg + "'");
                }
            }
            sb.append(String.join(" ", c)).append('\n');
        }
        return sb.toString();
    }

    /// `5156:M` with `M` in hex, as tc writes class ids.
    public static String classId(int minor) {
        return ROOT_HANDLE + Integer.toHexString(minor);
    }

    /// The filter priority of class `minor` for one family.
    public static int prio(int minor, boolean ipv4) {
        return 2 * minor + (ipv4 ? 0 : 1);
    }

    /// htb quantum: rate / r2q (10) in bytes, kept within 1,500..60,000 (LARTC).
    public static long quantumBytes(long rateBps) {
        return Math.clamp(rateBps / 8 / 10, 1_500, 60_000);
    }

    private static String prefix(InetAddress a, boolean v4) {
        byte[] b = a.getAddress();
        if (v4 && b.length == 16) { // IPv4-mapped
            return (b[12] & 0xff) + "." + (b[13] & 0xff) + "." + (b[14] & 0xff) + "." + (b[15] & 0xff) + "/32";
        }
        String text = a.getHostAddress();
        int scope = text.indexOf('%');
        if (scope >= 0) {
            text = text.substring(0, scope);
        }
        return text + (v4 ? "/32" : "/128");
    }

    private static void checkMinor(int minor) {
        if (minor < 1 || minor > MAX_MINOR) {
            throw new IllegalArgumentException("class minor must be 1.." + MAX_MINOR + ", was " + minor);
        }
    }

    // ------------------------------------------------------------------------------- parsers

    /// The root qdisc of an interface as `tc qdisc show dev DEV root` prints it.
    ///
    /// @param kind   e.g. `noqueue`, `pfifo_fast`, `mq`, `htb`
    /// @param handle e.g. `0:` (the kernel's default qdisc) or `5156:`
    public record RootQdisc(String kind, String handle) {
        /// Whether it is Quaver's own root (htb with handle 5156:).
        public boolean isQuavers() {
            return kind.equals("htb") && handle.equals(ROOT_HANDLE);
        }

        /// Whether Quaver may replace it: the kernel's default (handle `0:`, whatever the
        /// kind: noqueue, pfifo_fast, mq, fq_codel per `net.core.default_qdisc`), which
        /// deleting Quaver's root brings back exactly. Anything an administrator configured
        /// (any other handle) is left alone.
        public boolean isKernelDefault() {
            return handle.equals("0:");
        }
    }

    /// Parses `tc qdisc show dev DEV root`; empty when there is no `qdisc … root` line.
    public static Optional<RootQdisc> parseRootQdisc(String output) {
        for (String line : output.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[0].equals("qdisc") && List.of(f).contains("root")) {
                return Optional.of(new RootQdisc(f[1], f[2]));
            }
        }
        return Optional.empty();
    }

    private static final Pattern DEV = Pattern.compile("\\bdev\\s+(\\S+)");

    /// The egress interface in `ip route get ADDR` output (`… dev IF src …`); empty if none.
    public static Optional<String> parseRouteDevice(String output) {
        Matcher m = DEV.matcher(output);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /// Whether `dev` is a loopback interface, which Quaver never shapes: a qdisc on `lo`
    /// would sit in front of every local process's traffic.
    public static boolean isLoopback(String dev) {
        return dev.equals("lo") || dev.toLowerCase(Locale.ROOT).startsWith("lo:");
    }
}
