package io.quaver.internal.platform;

/// What the platform could learn about a socket.
///
/// @param family    the socket's address family
/// @param v6Only    for an `INET6` socket: whether `IPV6_V6ONLY` is set (no IPv4 peers)
/// @param stream    `true` for TCP (SOCK_STREAM), `false` for UDP (SOCK_DGRAM)
public record SocketInfo(Family family, boolean v6Only, boolean stream) {
    /// An address family.
    public enum Family { INET, INET6, UNKNOWN }

    /// Whether the socket can send to an IPv4 destination.
    public boolean acceptsIpv4() {
        return family == Family.INET || family == Family.UNKNOWN || (family == Family.INET6 && !v6Only);
    }

    /// Whether the socket can send to an IPv6 destination.
    public boolean acceptsIpv6() {
        return family == Family.INET6 || family == Family.UNKNOWN;
    }
}
