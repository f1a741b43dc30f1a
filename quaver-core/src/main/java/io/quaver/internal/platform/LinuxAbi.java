package io.quaver.internal.platform;

import java.util.Locale;

/// The one table of Linux ABI numbers the FFM platform uses: socket levels and option names,
/// address families and socket types, `fcntl` commands, and the byte offsets of the structures
/// read (`struct sockaddr_in`/`sockaddr_in6`, `struct tcp_info`).
///
/// The values are those of the generic Linux ABI shared by x86_64 and aarch64 (both use
/// `asm-generic/socket.h`, LP64, little-endian). Other architectures differ (e.g. SPARC, MIPS,
/// PA-RISC renumber `SOL_SOCKET` options), so [#supportsArchitecture(String)] gates the Linux
/// platform. `LinuxAbiHeaderTest` checks every entry against the C headers with gcc.
final class LinuxAbi {
    private LinuxAbi() {
    }

    // ---- socket levels ----------------------------------------------------------------------

    /// `SOL_SOCKET`: generic socket options.
    static final int SOL_SOCKET = 1;
    /// `IPPROTO_IP`: IPv4 options.
    static final int IPPROTO_IP = 0;
    /// `IPPROTO_TCP`: TCP options.
    static final int IPPROTO_TCP = 6;
    /// `IPPROTO_IPV6`: IPv6 options.
    static final int IPPROTO_IPV6 = 41;

    // ---- SOL_SOCKET options -----------------------------------------------------------------

    /// `SO_REUSEADDR` (int, boolean): last-resort sentinel for channels without a numeric one.
    static final int SO_REUSEADDR = 2;
    /// `SO_TYPE` (int, read-only): `SOCK_STREAM` or `SOCK_DGRAM`.
    static final int SO_TYPE = 3;
    /// `SO_SNDBUF` (int): send buffer, bytes; the kernel stores and reports twice the value set.
    static final int SO_SNDBUF = 7;
    /// `SO_PRIORITY` (int): the packet priority (`skb->priority`); 0–6 unprivileged.
    static final int SO_PRIORITY = 12;
    /// `SO_MAX_PACING_RATE`: bytes per second, `~0` = unlimited. Since Linux 5.0 the kernel
    /// reads and writes an `unsigned long` (8 bytes on LP64) when the option length allows it
    /// and falls back to a 32-bit `unsigned int` otherwise.
    static final int SO_MAX_PACING_RATE = 47;

    // ---- IPPROTO_IP / IPPROTO_IPV6 / IPPROTO_TCP options ------------------------------------

    /// `IP_TOS` (int): the IPv4 TOS byte. Setting a new value also rewrites `SO_PRIORITY`.
    static final int IP_TOS = 1;
    /// `IP_TTL` (int): unicast time to live of IPv4 packets (-1 = system default).
    static final int IP_TTL = 2;
    /// `IPV6_UNICAST_HOPS` (int): unicast hop limit of IPv6 packets (-1 = system default).
    static final int IPV6_UNICAST_HOPS = 16;
    /// `IP_MULTICAST_TTL` (int): the sentinel read on `AF_INET` datagram sockets.
    static final int IP_MULTICAST_TTL = 33;
    /// `IPV6_MULTICAST_HOPS` (int): the sentinel read on `AF_INET6` datagram sockets (the JDK
    /// maps `IP_MULTICAST_TTL` to it for IPv6 channels).
    static final int IPV6_MULTICAST_HOPS = 18;
    /// `IPV6_V6ONLY` (int, boolean).
    static final int IPV6_V6ONLY = 26;
    /// `IPV6_TCLASS` (int): the IPv6 traffic-class byte.
    static final int IPV6_TCLASS = 67;
    /// `TCP_KEEPIDLE` (int, seconds): the sentinel read on stream sockets.
    static final int TCP_KEEPIDLE = 4;
    /// `TCP_INFO`: `struct tcp_info`.
    static final int TCP_INFO = 11;

    // ---- families, socket types, fcntl ------------------------------------------------------

    /// `AF_INET`.
    static final int AF_INET = 2;
    /// `AF_INET6`.
    static final int AF_INET6 = 10;
    /// `SOCK_STREAM`.
    static final int SOCK_STREAM = 1;
    /// `SOCK_DGRAM`.
    static final int SOCK_DGRAM = 2;
    /// `F_DUPFD_CLOEXEC`: duplicate to the lowest free fd ≥ the argument, close-on-exec.
    static final int F_DUPFD_CLOEXEC = 1030;
    /// `EBADF`: the descriptor is not open.
    static final int EBADF = 9;
    /// `ENOTCONN`: `getpeername` on an unconnected socket.
    static final int ENOTCONN = 107;
    /// `ENOENT`: `SIOCGSTAMPNS` on a socket that has not received a datagram yet.
    static final int ENOENT = 2;

    // ---- receive timestamps -----------------------------------------------------------------

    /// `SIOCGSTAMPNS` (`SIOCGSTAMPNS_OLD` on LP64, where it is the 64-bit form): the
    /// `struct timespec` (`CLOCK_REALTIME`) at which the datagram last read from the socket
    /// arrived. The first call enables timestamping on the socket (`SOCK_TIMESTAMP`); a socket
    /// with `SO_TIMESTAMP(NS)` set routes timestamps to control messages instead and no longer
    /// updates the value this call reads.
    static final long SIOCGSTAMPNS = 0x8907;
    /// `sizeof(struct timespec)`: `tv_sec` and `tv_nsec`, both `long`.
    static final int TIMESPEC_SIZE = 16;
    /// `offsetof(struct timespec, tv_sec)`.
    static final int TV_SEC_OFFSET = 0;
    /// `offsetof(struct timespec, tv_nsec)`.
    static final int TV_NSEC_OFFSET = 8;

    // ---- netlink sock_diag (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h) -----------

    /// `AF_NETLINK`.
    static final int AF_NETLINK = 16;
    /// `NETLINK_SOCK_DIAG`: the socket-monitoring netlink protocol (what `ss` uses).
    static final int NETLINK_SOCK_DIAG = 4;
    /// `SOCK_CLOEXEC` (socket type flag).
    static final int SOCK_CLOEXEC = 0x80000;
    /// `IPPROTO_UDP`.
    static final int IPPROTO_UDP = 17;
    /// `MSG_DONTWAIT`.
    static final int MSG_DONTWAIT = 0x40;
    /// `SOCK_DIAG_BY_FAMILY`: the request and reply message type.
    static final int SOCK_DIAG_BY_FAMILY = 20;
    /// `NLMSG_ERROR`: an error (or acknowledgement) reply, `struct nlmsgerr`.
    static final int NLMSG_ERROR = 2;
    /// `NLM_F_REQUEST`.
    static final int NLM_F_REQUEST = 1;
    /// `sizeof(struct nlmsghdr)` (= `NLMSG_HDRLEN`).
    static final int NLMSGHDR_SIZE = 16;
    /// `sizeof(struct inet_diag_req_v2)`.
    static final int INET_DIAG_REQ_V2_SIZE = 56;
    /// `offsetof(struct inet_diag_req_v2, idiag_states)` (u32 bit mask of TCP states).
    static final int INET_DIAG_REQ_STATES_OFFSET = 4;
    /// `offsetof(struct inet_diag_req_v2, id)`: the `struct inet_diag_sockid`.
    static final int INET_DIAG_REQ_ID_OFFSET = 8;
    /// `offsetof(struct inet_diag_sockid, idiag_dport)` (`idiag_sport` is at 0), big-endian.
    static final int INET_DIAG_SOCKID_DPORT_OFFSET = 2;
    /// `offsetof(struct inet_diag_sockid, idiag_src)`: 4 × be32.
    static final int INET_DIAG_SOCKID_SRC_OFFSET = 4;
    /// `offsetof(struct inet_diag_sockid, idiag_dst)`: 4 × be32.
    static final int INET_DIAG_SOCKID_DST_OFFSET = 20;
    /// `offsetof(struct inet_diag_sockid, idiag_cookie)`: 2 × u32, `INET_DIAG_NOCOOKIE` = all ones.
    static final int INET_DIAG_SOCKID_COOKIE_OFFSET = 40;
    /// `offsetof(struct inet_diag_msg, idiag_inode)` (u32).
    static final int INET_DIAG_MSG_INODE_OFFSET = 68;
    /// `sizeof(struct inet_diag_msg)`.
    static final int INET_DIAG_MSG_SIZE = 72;

    // ---- struct sockaddr_in / sockaddr_in6 / sockaddr_storage --------------------------------

    /// `sizeof(struct sockaddr_storage)`: big enough for any address.
    static final int SOCKADDR_STORAGE_SIZE = 128;
    /// `offsetof(struct sockaddr, sa_family)`: 16-bit, host byte order.
    static final int SA_FAMILY_OFFSET = 0;
    /// `offsetof(struct sockaddr_in, sin_port)` (= `sin6_port`): 16-bit, network byte order.
    static final int SIN_PORT_OFFSET = 2;
    /// `offsetof(struct sockaddr_in, sin_addr)`: 4 bytes, network byte order.
    static final int SIN_ADDR_OFFSET = 4;
    /// `offsetof(struct sockaddr_in6, sin6_addr)`: 16 bytes, network byte order.
    static final int SIN6_ADDR_OFFSET = 8;

    // ---- struct tcp_info (linux/tcp.h) ------------------------------------------------------

    /// The buffer passed to `getsockopt(TCP_INFO)`, bytes: at least `sizeof(struct tcp_info)` of
    /// current headers (232 in Linux 6.1). The kernel copies `min(optlen, its own size)` and
    /// reports the length, so any kernel fills what it has.
    static final int TCP_INFO_BUFFER_SIZE = 256;
    /// The byte holding the `tcpi_delivery_rate_app_limited:1` bit-field.
    static final int TCPI_APP_LIMITED_BYTE = 7;
    /// The mask of `tcpi_delivery_rate_app_limited` within [#TCPI_APP_LIMITED_BYTE] (GCC
    /// allocates bit-fields from the least significant bit on little-endian targets).
    static final int TCPI_APP_LIMITED_MASK = 0x01;
    /// `tcpi_snd_mss` (u32, bytes).
    static final int TCPI_SND_MSS = 16;
    /// `tcpi_lost` (u32, segments).
    static final int TCPI_LOST = 32;
    /// `tcpi_rtt` (u32, µs).
    static final int TCPI_RTT = 68;
    /// `tcpi_rttvar` (u32, µs).
    static final int TCPI_RTTVAR = 72;
    /// `tcpi_snd_cwnd` (u32, segments).
    static final int TCPI_SND_CWND = 80;
    /// `tcpi_total_retrans` (u32, segments).
    static final int TCPI_TOTAL_RETRANS = 100;
    /// `tcpi_pacing_rate` (u64, bytes/s; `~0` = unlimited).
    static final int TCPI_PACING_RATE = 104;
    /// `tcpi_bytes_acked` (u64, bytes).
    static final int TCPI_BYTES_ACKED = 120;
    /// `tcpi_min_rtt` (u32, µs).
    static final int TCPI_MIN_RTT = 148;
    /// `tcpi_delivery_rate` (u64, bytes/s).
    static final int TCPI_DELIVERY_RATE = 160;
    /// The shortest `struct tcp_info` that holds every field read (Linux 4.9+, where
    /// `tcpi_delivery_rate` was added).
    static final int TCP_INFO_MIN_SIZE = TCPI_DELIVERY_RATE + Long.BYTES;

    /// Whether this table is valid for the JVM's `os.arch` (x86_64 or aarch64).
    static boolean supportsArchitecture(String osArch) {
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64", "aarch64" -> true;
            default -> false;
        };
    }
}
