package io.quaver.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TcpdumpParserTest {
    private static List<CapturedPacket> parse(String... lines) {
        var parser = new TcpdumpParser();
        var out = new ArrayList<CapturedPacket>();
        for (String line : lines) {
            parser.accept(line).ifPresent(out::add);
        }
        return out;
    }

    @Test
    void ipv4HeaderLineThenAddressLine() {
        var parser = new TcpdumpParser();
        assertThat(parser.accept("1795530822.418273 IP (tos 0xa0, ttl 64, id 26809, offset 0, flags [DF],"
                + " proto UDP (17), length 33)")).isEmpty();
        CapturedPacket p = parser.accept("    127.0.0.1.43941 > 127.0.0.1.45678: UDP, length 5").orElseThrow();
        assertThat(p.timestamp()).isEqualTo(Instant.ofEpochSecond(1795530822L, 418_273_000));
        assertThat(p.ipVersion()).isEqualTo(4);
        assertThat(p.protocol()).isEqualTo("UDP");
        assertThat(p.isUdp()).isTrue();
        assertThat(p.source()).isEqualTo(InetAddress.ofLiteral("127.0.0.1"));
        assertThat(p.sourcePort()).isEqualTo(43941);
        assertThat(p.destinationPort()).isEqualTo(45678);
        assertThat(p.trafficClass()).isEqualTo(0xA0);
        assertThat(p.dscp()).isEqualTo(40);
        assertThat(p.ecn()).isZero();
        assertThat(p.ipLengthBytes()).isEqualTo(33);
        assertThat(p.payloadLengthBytes()).isEqualTo(5);
        assertThat(p.text()).contains("tos 0xa0").contains("45678");
    }

    @Test
    void ipv6OnOneLineWithTrafficClass() {
        List<CapturedPacket> ps = parse("1795530822.418377 IP6 (class 0xb8, flowlabel 0x900f3, hlim 64, next-header UDP"
                + " (17) payload length: 14) ::1.44185 > ::1.45678: [bad udp cksum 0x0021 -> 0x5cc0!] UDP, length 6");
        assertThat(ps).singleElement().satisfies(p -> {
            assertThat(p.ipVersion()).isEqualTo(6);
            assertThat(p.trafficClass()).isEqualTo(0xB8);
            assertThat(p.dscp()).isEqualTo(46);
            assertThat(p.source()).isEqualTo(InetAddress.ofLiteral("::1"));
            assertThat(p.sourcePort()).isEqualTo(44185);
            assertThat(p.destinationPort()).isEqualTo(45678);
            assertThat(p.ipLengthBytes()).isEqualTo(54);
            assertThat(p.payloadLengthBytes()).isEqualTo(6);
        });
    }

    @Test
    void ipv6WithoutClassHasTrafficClassZeroAndIcmpHasNoPorts() {
        List<CapturedPacket> ps = parse(
                "1700000000.000001 IP6 (flowlabel 0x12345, hlim 64, next-header UDP (17) payload length: 9)"
                        + " fd00:5156:0:1::1.5000 > fd00:5156:0:1::2.6000: [udp sum ok] UDP, length 1",
                "1700000000.000002 IP6 (hlim 255, next-header ICMPv6 (58) payload length: 32) fe80::1 > ff02::1:ff00:2:"
                        + " [icmp6 sum ok] ICMP6, neighbor solicitation, who has fd00:5156:0:1::2",
                "1700000000.000003 IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto ICMP (1), length 84)",
                "    198.18.1.1 > 198.18.1.2: ICMP echo request, id 7, seq 1, length 64");
        assertThat(ps).hasSize(3);
        assertThat(ps.get(0).trafficClass()).isZero();
        assertThat(ps.get(0).destination()).isEqualTo(InetAddress.ofLiteral("fd00:5156:0:1::2"));
        assertThat(ps.get(0).destinationPort()).isEqualTo(6000);
        assertThat(ps.get(1).protocol()).isEqualTo("ICMPv6");
        assertThat(ps.get(1).sourcePort()).isEqualTo(-1);
        assertThat(ps.get(1).destination()).isEqualTo(InetAddress.ofLiteral("ff02::1:ff00:2"));
        assertThat(ps.get(2).protocolNumber()).isEqualTo(1);
        assertThat(ps.get(2).destinationPort()).isEqualTo(-1);
        assertThat(ps.get(2).payloadLengthBytes()).isEqualTo(-1);
    }

    @Test
    void tcpNonIpAndExtraContinuationLinesAreHandled() {
        List<CapturedPacket> ps = parse(
                "1700000000.000001 ARP, Ethernet (len 6), IPv4 (len 4), Request who-has 198.18.1.2 tell 198.18.1.1,"
                        + " length 28",
                "1700000000.000002 IP (tos 0x2, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 60)",
                "    127.0.0.1.40000 > 127.0.0.1.5201: Flags [S], cksum 0xfe30 (incorrect -> 0x1), seq 1, win 65495,"
                        + " length 0",
                "\tsome decoded payload line",
                "1700000000.000003 IP (tos 0x0, ttl 64, id 2, offset 0, flags [DF], proto UDP (17), length 29)");
        assertThat(ps).singleElement().satisfies(p -> {
            assertThat(p.isTcp()).isTrue();
            assertThat(p.trafficClass()).isEqualTo(2);
            assertThat(p.ecn()).isEqualTo(2);
            assertThat(p.destinationPort()).isEqualTo(5201);
        });
    }
}
