package io.quaver.testkit;

import java.math.BigDecimal;
import java.net.InetAddress;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/// Parses the text output of `tcpdump -n -v -tt` line by line into [CapturedPacket]s.
///
/// With `-v`, tcpdump prints the IP header in parentheses after `IP`/`IP6`. For IPv6 the
/// addresses follow on the same line; for IPv4 they come on an indented continuation line:
///
/// ```
/// 1700000000.123456 IP (tos 0xa0, ttl 64, id 1, offset 0, flags [DF], proto UDP (17), length 33)
///     127.0.0.1.43941 > 127.0.0.1.45678: UDP, length 5
/// 1700000000.123789 IP6 (class 0xb8, flowlabel 0x900f3, hlim 64, next-header UDP (17) payload length: 14) ::1.44185 > ::1.45678: [bad udp cksum 0x21 -> 0x5cc0!] UDP, length 6
/// ```
///
/// A packet is produced as soon as its addresses are known. Non-IP packets (ARP…) and further
/// continuation lines (decoded payloads) are skipped. IPv6 omits `class` when it is 0. Not
/// thread-safe.
final class TcpdumpParser {
    private static final Pattern HEADER = Pattern.compile("^(\\d+\\.\\d+) (IP6?) \\(");
    private static final Pattern TOS = Pattern.compile("\\btos 0x([0-9a-f]+)");
    private static final Pattern CLASS = Pattern.compile("\\bclass 0x([0-9a-f]+)");
    private static final Pattern PROTO4 = Pattern.compile("\\bproto (\\S+) \\((\\d+)\\)");
    private static final Pattern PROTO6 = Pattern.compile("\\bnext-header (\\S+) \\((\\d+)\\)");
    private static final Pattern LENGTH4 = Pattern.compile("\\blength (\\d+)");
    private static final Pattern LENGTH6 = Pattern.compile("\\bpayload length: (\\d+)");
    private static final Pattern ADDRESSES = Pattern.compile("^\\s*(\\S+) > (\\S+):(?:\\s(.*))?$");
    private static final Pattern UDP_LENGTH = Pattern.compile("\\bUDP, length (\\d+)");

    private record Header(Instant timestamp, int version, String protocol, int protocolNumber, int trafficClass,
            int ipLengthBytes, String text) {
    }

    private Header pending;

    /// Feeds one output line; returns the packet it completes, if any.
    Optional<CapturedPacket> accept(String line) {
        if (line.isEmpty()) {
            return Optional.empty();
        }
        boolean continuation = Character.isWhitespace(line.charAt(0));
        if (!continuation) {
            pending = null;
            Matcher m = HEADER.matcher(line);
            if (!m.find()) {
                return Optional.empty(); // not IP
            }
            int open = m.end() - 1;
            int close = matchingParen(line, open);
            if (close < 0) {
                return Optional.empty();
            }
            String header = line.substring(open + 1, close);
            Header h = header(line, m.group(1), m.group(2).equals("IP6") ? 6 : 4, header);
            if (h == null) {
                return Optional.empty();
            }
            String rest = line.substring(close + 1);
            if (rest.isBlank()) {
                pending = h;
                return Optional.empty();
            }
            return complete(h, rest, line);
        }
        if (pending == null) {
            return Optional.empty();
        }
        Header h = pending;
        pending = null;
        return complete(h, line, h.text() + "\n" + line);
    }

    private static Header header(String line, String stamp, int version, String header) {
        try {
            Instant ts = instant(stamp);
            if (version == 4) {
                Matcher tos = TOS.matcher(header);
                Matcher proto = PROTO4.matcher(header);
                Matcher len = LENGTH4.matcher(header);
                if (!proto.find() || !len.find()) {
                    return null;
                }
                return new Header(ts, 4, proto.group(1), Integer.parseInt(proto.group(2)),
                        tos.find() ? Integer.parseInt(tos.group(1), 16) : 0, Integer.parseInt(len.group(1)), line);
            }
            Matcher cls = CLASS.matcher(header);
            Matcher proto = PROTO6.matcher(header);
            Matcher len = LENGTH6.matcher(header);
            if (!proto.find()) {
                return null;
            }
            return new Header(ts, 6, proto.group(1), Integer.parseInt(proto.group(2)),
                    cls.find() ? Integer.parseInt(cls.group(1), 16) : 0,
                    len.find() ? Integer.parseInt(len.group(1)) + 40 : -1, line);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Optional<CapturedPacket> complete(Header h, String addressPart, String text) {
        Matcher m = ADDRESSES.matcher(addressPart);
        if (!m.find()) {
            return Optional.empty();
        }
        Endpoint src = endpoint(m.group(1), h.version());
        Endpoint dst = endpoint(m.group(2), h.version());
        if (src == null || dst == null) {
            return Optional.empty();
        }
        Matcher udp = UDP_LENGTH.matcher(m.group(3) == null ? "" : m.group(3));
        int payload = udp.find() ? Integer.parseInt(udp.group(1)) : -1;
        return Optional.of(new CapturedPacket(h.timestamp(), h.version(), h.protocol(), h.protocolNumber(), src.address(),
                src.port(), dst.address(), dst.port(), h.trafficClass(), h.ipLengthBytes(), payload, text));
    }

    private record Endpoint(InetAddress address, int port) {
    }

    /// `127.0.0.1.5000`, `127.0.0.1`, `::1.5000`, `fe80::1`, `::ffff:1.2.3.4.5000`.
    private static Endpoint endpoint(String token, int version) {
        try {
            long dots = token.chars().filter(c -> c == '.').count();
            boolean hasPort = version == 4 ? dots == 4 : (dots == 1 || dots == 4);
            if (!hasPort) {
                return new Endpoint(InetAddress.ofLiteral(token), -1);
            }
            int i = token.lastIndexOf('.');
            return new Endpoint(InetAddress.ofLiteral(token.substring(0, i)), Integer.parseInt(token.substring(i + 1)));
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Instant instant(String stamp) {
        BigDecimal seconds = new BigDecimal(stamp);
        long s = seconds.longValue();
        long nanos = seconds.subtract(BigDecimal.valueOf(s)).movePointRight(9).longValue();
        return Instant.ofEpochSecond(s, nanos);
    }

    private static int matchingParen(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }
}
