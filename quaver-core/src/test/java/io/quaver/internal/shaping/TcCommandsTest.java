package io.quaver.internal.shaping;

import io.quaver.internal.shaping.TcCommands.FiveTuple;
import io.quaver.internal.shaping.TcCommands.RootQdisc;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The pure tc command builder and parsers.
class TcCommandsTest {

    @Test
    void rootQdiscIsHtbWithQuaversHandleAndDefaultZero() {
        assertThat(TcCommands.addRoot("eth0", 14)).containsExactly("qdisc", "add", "dev", "eth0", "root", "handle",
                "5156:", "stab", "overhead", "-14", "htb", "default", "0");
        assertThat(TcCommands.addRoot("tun0", 0)).containsExactly("qdisc", "add", "dev", "tun0", "root", "handle",
                "5156:", "htb", "default", "0");
        assertThat(TcCommands.parseL2HeaderBytes("5: to-b@if4: <BROADCAST,UP> mtu 1500 qdisc noqueue state UP \\"
                + "    link/ether 3a:1f:00:00:00:01 brd ff:ff:ff:ff:ff:ff")).isEqualTo(14);
        assertThat(TcCommands.parseL2HeaderBytes("7: tun0: <POINTOPOINT> mtu 1500 \\    link/none ")).isZero();
        assertThat(TcCommands.deleteRoot("eth0")).containsExactly("qdisc", "del", "dev", "eth0", "root");
    }

    @Test
    void classCarriesRateCeilBurstAndAClampedQuantum() {
        assertThat(TcCommands.replaceClass("to-b", 0x12, 10_000_000, 6250)).containsExactly("class", "replace", "dev",
                "to-b", "parent", "5156:", "classid", "5156:12", "htb", "rate", "10000000bit", "ceil", "10000000bit",
                "burst", "6250b", "cburst", "6250b", "quantum", "60000");
        assertThat(TcCommands.quantumBytes(64_000)).isEqualTo(1_500);
        assertThat(TcCommands.quantumBytes(10_000_000)).isEqualTo(60_000); // 125,000 clamped
        assertThat(TcCommands.quantumBytes(1_000_000)).isEqualTo(12_500);
        assertThat(TcCommands.quantumBytes(1_000_000_000)).isEqualTo(60_000);
    }

    @Test
    void ipv4FilterMatchesTheFiveTuple() {
        FiveTuple t = new FiveTuple(true, new InetSocketAddress("198.18.1.1", 40000),
                new InetSocketAddress("198.18.1.2", 5004));
        assertThat(String.join(" ", TcCommands.addFilter("to-b", 3, t))).isEqualTo(
                "filter add dev to-b parent 5156: protocol ip prio 6 u32 match ip protocol 17 0xff"
                        + " match ip src 198.18.1.1/32 match ip sport 40000 0xffff"
                        + " match ip dst 198.18.1.2/32 match ip dport 5004 0xffff flowid 5156:3");
    }

    @Test
    void ipv6AndTcpAndWildcardSources() {
        FiveTuple v6 = new FiveTuple(false, new InetSocketAddress("::", 40001),
                new InetSocketAddress("fd00:5156:0:1::2", 443));
        assertThat(String.join(" ", TcCommands.addFilter("to-b", 0x7fff, v6))).isEqualTo(
                "filter add dev to-b parent 5156: protocol ipv6 prio 65535 u32 match ip6 protocol 6 0xff"
                        + " match ip6 sport 40001 0xffff match ip6 dst fd00:5156:0:1:0:0:0:2/128"
                        + " match ip6 dport 443 0xffff flowid 5156:7fff");
        // a dual-stack socket sending to an IPv4-mapped address is IPv4 on the wire
        FiveTuple mapped = new FiveTuple(true, new InetSocketAddress("::", 40002),
                new InetSocketAddress("::ffff:198.18.1.2", 9));
        assertThat(mapped.ipv4()).isTrue();
        assertThat(TcCommands.addFilter("d", 1, mapped)).contains("ip", "198.18.1.2/32").doesNotContain("ip6");
    }

    @Test
    void installAndRemoveAreBatchesWithFiltersPerFamilyPriority() {
        FiveTuple t = new FiveTuple(true, new InetSocketAddress("198.18.1.1", 1), new InetSocketAddress("198.18.1.2", 2));
        List<List<String>> install = TcCommands.installFlow("d", 5, 1_000_000, 3000, List.of(t, t));
        assertThat(install).hasSize(1 + 2 + 2);
        assertThat(install.get(0).get(1)).isEqualTo("replace");
        assertThat(install.get(1)).containsSequence("protocol", "ip", "prio", "10");
        assertThat(install.get(2)).containsSequence("protocol", "ipv6", "prio", "11");
        assertThat(TcCommands.removeFlow("d", 5).getLast()).containsExactly("class", "del", "dev", "d", "classid", "5156:5");
        assertThat(TcCommands.batchScript(TcCommands.removeFlow("d", 5))).hasLineCount(3)
                .startsWith("filter del dev d parent 5156: protocol ip prio 10 u32\n");
        assertThatThrownBy(() -> TcCommands.batchScript(List.of(List.of("qdisc", "x y"))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TcCommands.deleteClass("d", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TcCommands.deleteClass("d", 0x8000)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rootQdiscOwnership() {
        assertThat(TcCommands.parseRootQdisc("qdisc noqueue 0: root refcnt 2 \n")).contains(new RootQdisc("noqueue", "0:"));
        RootQdisc pfifo = TcCommands.parseRootQdisc("qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2").orElseThrow();
        assertThat(pfifo.isKernelDefault()).isTrue();
        assertThat(pfifo.isQuavers()).isFalse();
        RootQdisc mq = TcCommands.parseRootQdisc("qdisc mq 0: root \nqdisc fq_codel 0: parent :1 limit 10240p").orElseThrow();
        assertThat(mq.kind()).isEqualTo("mq");
        assertThat(mq.isKernelDefault()).isTrue();
        RootQdisc ours = TcCommands.parseRootQdisc(
                "qdisc htb 5156: root refcnt 2 r2q 10 default 0 direct_packets_stat 3 direct_qlen 1000").orElseThrow();
        assertThat(ours.isQuavers()).isTrue();
        RootQdisc admins = TcCommands.parseRootQdisc("qdisc tbf 1: root refcnt 2 rate 10Mbit burst 5000b").orElseThrow();
        assertThat(admins.isQuavers() || admins.isKernelDefault()).isFalse();
        assertThat(TcCommands.parseRootQdisc("qdisc htb 1: root refcnt 2").orElseThrow().isQuavers()).isFalse();
        assertThat(TcCommands.parseRootQdisc("")).isEmpty();
    }

    @Test
    void egressDeviceFromIpRouteGet() {
        assertThat(TcCommands.parseRouteDevice("198.18.1.2 dev to-b src 198.18.1.1 uid 0 \\    cache ")).contains("to-b");
        assertThat(TcCommands.parseRouteDevice("local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \\    cache <local> "))
                .contains("lo");
        assertThat(TcCommands.parseRouteDevice("RTNETLINK answers: Network is unreachable")).isEmpty();
        assertThat(TcCommands.isLoopback("lo")).isTrue();
        assertThat(TcCommands.isLoopback("eth0")).isFalse();
    }
}
