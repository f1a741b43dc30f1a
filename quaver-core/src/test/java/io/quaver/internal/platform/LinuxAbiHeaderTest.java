package io.quaver.internal.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/// Checks every number in [LinuxAbi] against the C headers of this machine, by compiling and
/// running a small C program with gcc. Skipped (with a message) only when gcc is missing.
@EnabledOnOs(OS.LINUX)
class LinuxAbiHeaderTest {

    /// A table entry: the C expression that yields it, and the Java value.
    private record Entry(String cExpression, long javaValue) {
    }

    private static Map<String, Entry> table() {
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("SOL_SOCKET", new Entry("SOL_SOCKET", LinuxAbi.SOL_SOCKET));
        t.put("IPPROTO_IP", new Entry("IPPROTO_IP", LinuxAbi.IPPROTO_IP));
        t.put("IPPROTO_TCP", new Entry("IPPROTO_TCP", LinuxAbi.IPPROTO_TCP));
        t.put("IPPROTO_IPV6", new Entry("IPPROTO_IPV6", LinuxAbi.IPPROTO_IPV6));
        t.put("SO_REUSEADDR", new Entry("SO_REUSEADDR", LinuxAbi.SO_REUSEADDR));
        t.put("SO_TYPE", new Entry("SO_TYPE", LinuxAbi.SO_TYPE));
        t.put("SO_SNDBUF", new Entry("SO_SNDBUF", LinuxAbi.SO_SNDBUF));
        t.put("SO_PRIORITY", new Entry("SO_PRIORITY", LinuxAbi.SO_PRIORITY));
        t.put("SO_MAX_PACING_RATE", new Entry("SO_MAX_PACING_RATE", LinuxAbi.SO_MAX_PACING_RATE));
        t.put("IP_TOS", new Entry("IP_TOS", LinuxAbi.IP_TOS));
        t.put("IP_TTL", new Entry("IP_TTL", LinuxAbi.IP_TTL));
        t.put("IPV6_UNICAST_HOPS", new Entry("IPV6_UNICAST_HOPS", LinuxAbi.IPV6_UNICAST_HOPS));
        t.put("IP_MULTICAST_TTL", new Entry("IP_MULTICAST_TTL", LinuxAbi.IP_MULTICAST_TTL));
        t.put("IPV6_MULTICAST_HOPS", new Entry("IPV6_MULTICAST_HOPS", LinuxAbi.IPV6_MULTICAST_HOPS));
        t.put("IPV6_V6ONLY", new Entry("IPV6_V6ONLY", LinuxAbi.IPV6_V6ONLY));
        t.put("IPV6_TCLASS", new Entry("IPV6_TCLASS", LinuxAbi.IPV6_TCLASS));
        t.put("TCP_KEEPIDLE", new Entry("TCP_KEEPIDLE", LinuxAbi.TCP_KEEPIDLE));
        t.put("TCP_INFO", new Entry("TCP_INFO", LinuxAbi.TCP_INFO));
        t.put("AF_INET", new Entry("AF_INET", LinuxAbi.AF_INET));
        t.put("AF_INET6", new Entry("AF_INET6", LinuxAbi.AF_INET6));
        t.put("SOCK_STREAM", new Entry("SOCK_STREAM", LinuxAbi.SOCK_STREAM));
        t.put("SOCK_DGRAM", new Entry("SOCK_DGRAM", LinuxAbi.SOCK_DGRAM));
        t.put("F_DUPFD_CLOEXEC", new Entry("F_DUPFD_CLOEXEC", LinuxAbi.F_DUPFD_CLOEXEC));
        t.put("EBADF", new Entry("EBADF", LinuxAbi.EBADF));
        t.put("ENOTCONN", new Entry("ENOTCONN", LinuxAbi.ENOTCONN));
        t.put("AF_NETLINK", new Entry("AF_NETLINK", LinuxAbi.AF_NETLINK));
        t.put("NETLINK_SOCK_DIAG", new Entry("NETLINK_SOCK_DIAG", LinuxAbi.NETLINK_SOCK_DIAG));
        t.put("SOCK_CLOEXEC", new Entry("SOCK_CLOEXEC", LinuxAbi.SOCK_CLOEXEC));
        t.put("IPPROTO_UDP", new Entry("IPPROTO_UDP", LinuxAbi.IPPROTO_UDP));
        t.put("MSG_DONTWAIT", new Entry("MSG_DONTWAIT", LinuxAbi.MSG_DONTWAIT));
        t.put("SOCK_DIAG_BY_FAMILY", new Entry("SOCK_DIAG_BY_FAMILY", LinuxAbi.SOCK_DIAG_BY_FAMILY));
        t.put("NLMSG_ERROR", new Entry("NLMSG_ERROR", LinuxAbi.NLMSG_ERROR));
        t.put("NLM_F_REQUEST", new Entry("NLM_F_REQUEST", LinuxAbi.NLM_F_REQUEST));
        t.put("NLMSGHDR_SIZE", new Entry("sizeof(struct nlmsghdr)", LinuxAbi.NLMSGHDR_SIZE));
        t.put("INET_DIAG_REQ_V2_SIZE", new Entry("sizeof(struct inet_diag_req_v2)", LinuxAbi.INET_DIAG_REQ_V2_SIZE));
        t.put("INET_DIAG_REQ_STATES_OFFSET", new Entry("offsetof(struct inet_diag_req_v2, idiag_states)", LinuxAbi.INET_DIAG_REQ_STATES_OFFSET));
        t.put("INET_DIAG_REQ_ID_OFFSET", new Entry("offsetof(struct inet_diag_req_v2, id)", LinuxAbi.INET_DIAG_REQ_ID_OFFSET));
        t.put("INET_DIAG_SOCKID_DPORT_OFFSET", new Entry("offsetof(struct inet_diag_sockid, idiag_dport)", LinuxAbi.INET_DIAG_SOCKID_DPORT_OFFSET));
        t.put("INET_DIAG_SOCKID_SRC_OFFSET", new Entry("offsetof(struct inet_diag_sockid, idiag_src)", LinuxAbi.INET_DIAG_SOCKID_SRC_OFFSET));
        t.put("INET_DIAG_SOCKID_DST_OFFSET", new Entry("offsetof(struct inet_diag_sockid, idiag_dst)", LinuxAbi.INET_DIAG_SOCKID_DST_OFFSET));
        t.put("INET_DIAG_SOCKID_COOKIE_OFFSET", new Entry("offsetof(struct inet_diag_sockid, idiag_cookie)", LinuxAbi.INET_DIAG_SOCKID_COOKIE_OFFSET));
        t.put("INET_DIAG_MSG_INODE_OFFSET", new Entry("offsetof(struct inet_diag_msg, idiag_inode)", LinuxAbi.INET_DIAG_MSG_INODE_OFFSET));
        t.put("INET_DIAG_MSG_SIZE", new Entry("sizeof(struct inet_diag_msg)", LinuxAbi.INET_DIAG_MSG_SIZE));
        t.put("sizeof(idiag_inode)", new Entry("sizeof(((struct inet_diag_msg *)0)->idiag_inode)", Integer.BYTES));
        t.put("offsetof(idiag_sport)", new Entry("offsetof(struct inet_diag_sockid, idiag_sport)", 0));
        t.put("ENOENT", new Entry("ENOENT", LinuxAbi.ENOENT));
        t.put("SIOCGSTAMPNS", new Entry("SIOCGSTAMPNS", LinuxAbi.SIOCGSTAMPNS));
        t.put("TIMESPEC_SIZE", new Entry("sizeof(struct timespec)", LinuxAbi.TIMESPEC_SIZE));
        t.put("TV_SEC_OFFSET", new Entry("offsetof(struct timespec, tv_sec)", LinuxAbi.TV_SEC_OFFSET));
        t.put("TV_NSEC_OFFSET", new Entry("offsetof(struct timespec, tv_nsec)", LinuxAbi.TV_NSEC_OFFSET));
        // C types whose sizes the Java side assumes.
        t.put("sizeof(int)", new Entry("sizeof(int)", Integer.BYTES));
        t.put("sizeof(socklen_t)", new Entry("sizeof(socklen_t)", Integer.BYTES));
        t.put("sizeof(sa_family_t)", new Entry("sizeof(sa_family_t)", Short.BYTES));
        t.put("sizeof(unsigned long)", new Entry("sizeof(unsigned long)", Long.BYTES));
        // struct sockaddr*.
        t.put("SOCKADDR_STORAGE_SIZE", new Entry("sizeof(struct sockaddr_storage)", LinuxAbi.SOCKADDR_STORAGE_SIZE));
        t.put("SA_FAMILY_OFFSET", new Entry("offsetof(struct sockaddr, sa_family)", LinuxAbi.SA_FAMILY_OFFSET));
        t.put("SIN_FAMILY_OFFSET", new Entry("offsetof(struct sockaddr_in, sin_family)", LinuxAbi.SA_FAMILY_OFFSET));
        t.put("SIN6_FAMILY_OFFSET", new Entry("offsetof(struct sockaddr_in6, sin6_family)", LinuxAbi.SA_FAMILY_OFFSET));
        t.put("SIN_PORT_OFFSET", new Entry("offsetof(struct sockaddr_in, sin_port)", LinuxAbi.SIN_PORT_OFFSET));
        t.put("SIN6_PORT_OFFSET", new Entry("offsetof(struct sockaddr_in6, sin6_port)", LinuxAbi.SIN_PORT_OFFSET));
        t.put("SIN_ADDR_OFFSET", new Entry("offsetof(struct sockaddr_in, sin_addr)", LinuxAbi.SIN_ADDR_OFFSET));
        t.put("SIN6_ADDR_OFFSET", new Entry("offsetof(struct sockaddr_in6, sin6_addr)", LinuxAbi.SIN6_ADDR_OFFSET));
        // struct tcp_info, and the sizes of the fields read.
        t.put("TCPI_SND_MSS", new Entry("offsetof(struct tcp_info, tcpi_snd_mss)", LinuxAbi.TCPI_SND_MSS));
        t.put("TCPI_LOST", new Entry("offsetof(struct tcp_info, tcpi_lost)", LinuxAbi.TCPI_LOST));
        t.put("TCPI_RTT", new Entry("offsetof(struct tcp_info, tcpi_rtt)", LinuxAbi.TCPI_RTT));
        t.put("TCPI_RTTVAR", new Entry("offsetof(struct tcp_info, tcpi_rttvar)", LinuxAbi.TCPI_RTTVAR));
        t.put("TCPI_SND_CWND", new Entry("offsetof(struct tcp_info, tcpi_snd_cwnd)", LinuxAbi.TCPI_SND_CWND));
        t.put("TCPI_TOTAL_RETRANS", new Entry("offsetof(struct tcp_info, tcpi_total_retrans)", LinuxAbi.TCPI_TOTAL_RETRANS));
        t.put("TCPI_PACING_RATE", new Entry("offsetof(struct tcp_info, tcpi_pacing_rate)", LinuxAbi.TCPI_PACING_RATE));
        t.put("TCPI_BYTES_ACKED", new Entry("offsetof(struct tcp_info, tcpi_bytes_acked)", LinuxAbi.TCPI_BYTES_ACKED));
        t.put("TCPI_MIN_RTT", new Entry("offsetof(struct tcp_info, tcpi_min_rtt)", LinuxAbi.TCPI_MIN_RTT));
        t.put("TCPI_DELIVERY_RATE", new Entry("offsetof(struct tcp_info, tcpi_delivery_rate)", LinuxAbi.TCPI_DELIVERY_RATE));
        t.put("sizeof(tcpi_rtt)", new Entry("sizeof(((struct tcp_info *)0)->tcpi_rtt)", Integer.BYTES));
        t.put("sizeof(tcpi_min_rtt)", new Entry("sizeof(((struct tcp_info *)0)->tcpi_min_rtt)", Integer.BYTES));
        t.put("sizeof(tcpi_snd_cwnd)", new Entry("sizeof(((struct tcp_info *)0)->tcpi_snd_cwnd)", Integer.BYTES));
        t.put("sizeof(tcpi_pacing_rate)", new Entry("sizeof(((struct tcp_info *)0)->tcpi_pacing_rate)", Long.BYTES));
        t.put("sizeof(tcpi_bytes_acked)", new Entry("sizeof(((struct tcp_info *)0)->tcpi_bytes_acked)", Long.BYTES));
        t.put("sizeof(tcpi_delivery_rate)", new Entry("sizeof(((struct tcp_info *)0)->tcpi_delivery_rate)", Long.BYTES));
        return t;
    }

    private static String program(Map<String, Entry> table) {
        StringBuilder c = new StringBuilder("""
                #include <errno.h>
                #include <fcntl.h>
                #include <stddef.h>
                #include <stdio.h>
                #include <string.h>
                #include <time.h>
                #include <sys/ioctl.h>
                #include <sys/socket.h>
                #include <netinet/in.h>
                #include <linux/tcp.h>
                #include <linux/netlink.h>
                #include <linux/sock_diag.h>
                #include <linux/inet_diag.h>
                #include <linux/sockios.h>

                int main(void) {
                """);
        table.forEach((name, entry) ->
                c.append("    printf(\"%s %lld\\n\", \"").append(name).append("\", (long long) (")
                        .append(entry.cExpression()).append("));\n"));
        // A bit-field has no offsetof: set it alone in a zeroed struct and find its byte and mask.
        c.append("""
                    struct tcp_info info;
                    memset(&info, 0, sizeof info);
                    info.tcpi_delivery_rate_app_limited = 1;
                    const unsigned char *bytes = (const unsigned char *) &info;
                    for (size_t i = 0; i < sizeof info; i++) {
                        if (bytes[i] != 0) {
                            printf("TCPI_APP_LIMITED_BYTE %zu\\nTCPI_APP_LIMITED_MASK %d\\n", i, bytes[i]);
                        }
                    }
                    printf("sizeof(struct tcp_info) %zu\\n", sizeof(struct tcp_info));
                    return 0;
                }
                """);
        return c.toString();
    }

    private static boolean gccAvailable() {
        try {
            Process p = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String run(Path directory, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", String.join(" ", command)).isTrue();
        assertThat(p.exitValue()).as("exit status of %s; output:%n%s", String.join(" ", command), output).isZero();
        return output;
    }

    @Test
    void constantsAndOffsetsMatchTheCHeaders(@TempDir Path directory) throws Exception {
        Assumptions.assumeTrue(gccAvailable(), "gcc is not installed: LinuxAbi cannot be checked against the C headers");
        Map<String, Entry> table = table();
        Files.writeString(directory.resolve("abi.c"), program(table));
        run(directory, "gcc", "-std=gnu11", "-Wall", "-Werror", "-o", "abi", "abi.c");
        Map<String, Long> fromHeaders = new LinkedHashMap<>();
        for (String line : run(directory, directory.resolve("abi").toString()).strip().split("\n")) {
            int space = line.lastIndexOf(' ');
            fromHeaders.put(line.substring(0, space), Long.parseLong(line.substring(space + 1)));
        }

        Map<String, Long> expected = new LinkedHashMap<>();
        table.forEach((name, entry) -> expected.put(name, entry.javaValue()));
        expected.put("TCPI_APP_LIMITED_BYTE", (long) LinuxAbi.TCPI_APP_LIMITED_BYTE);
        expected.put("TCPI_APP_LIMITED_MASK", (long) LinuxAbi.TCPI_APP_LIMITED_MASK);
        long tcpInfoSize = fromHeaders.remove("sizeof(struct tcp_info)");

        assertThat(fromHeaders).containsExactlyEntriesOf(expected);
        // Every field read lies inside the struct, and the buffer holds the whole struct.
        assertThat(tcpInfoSize).isGreaterThanOrEqualTo(LinuxAbi.TCP_INFO_MIN_SIZE)
                .isLessThanOrEqualTo(LinuxAbi.TCP_INFO_BUFFER_SIZE);
    }

    @Test
    void tableIsOnlyClaimedForItsArchitectures() {
        assertThat(LinuxAbi.supportsArchitecture("amd64")).isTrue();
        assertThat(LinuxAbi.supportsArchitecture("aarch64")).isTrue();
        assertThat(LinuxAbi.supportsArchitecture("mips64el")).isFalse();
        assertThat(LinuxAbi.supportsArchitecture("sparcv9")).isFalse();
        assertThat(LinuxAbi.supportsArchitecture("ppc64le")).isFalse();
    }
}
