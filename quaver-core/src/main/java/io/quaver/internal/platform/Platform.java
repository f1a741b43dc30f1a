package io.quaver.internal.platform;

import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/// The operating-system edge: socket options the JDK lacks (through FFM on Linux) and facts
/// about the host. The engine calls only this interface; [#current()] picks the Linux
/// implementation where it works and a portable fallback elsewhere, which reports
/// "unsupported" instead of failing.
///
/// Implementations never keep a JDK channel's file descriptor beyond one call: the fd is
/// found through public means (/proc/self/fd and getsockname, disambiguated with a
/// temporary option sentinel), used while the channel is verified open, and forgotten, so a
/// later socket that reuses the number is never touched.
public interface Platform {

    /// The platform of this JVM (Linux FFM where available, otherwise the fallback).
    static Platform current() {
        return Platforms.current();
    }

    /// A short name for logs and reports, e.g. `linux-ffm` or `portable`.
    String name();

    /// Whether this process may use privileged facilities: root, or `CAP_NET_ADMIN` in the
    /// effective capability set on Linux. The fallback answers `false`.
    boolean isPrivileged();

    /// The address family and IPv6-only flag of the channel's socket. Never throws; facts
    /// that cannot be learnt are reported as [SocketInfo.Family#UNKNOWN].
    SocketInfo describe(NetworkChannel channel);

    /// What the engine learns about a socket when it first joins a flow: [#describe] and
    /// [#priority] together. The Linux platform answers both from one lookup of the
    /// channel's descriptor.
    ///
    /// @param info     as [#describe]
    /// @param priority as [#priority]
    record SocketFacts(SocketInfo info, OptionalInt priority) {
    }

    /// [#describe] and [#priority] at once (one descriptor lookup where that matters). Never
    /// throws.
    default SocketFacts socketFacts(NetworkChannel channel) {
        return new SocketFacts(describe(channel), priority(channel));
    }

    /// Sets `SO_PRIORITY` (the value a VLAN egress map turns into the 802.1p user priority).
    ///
    /// @return `true` if applied, `false` if the platform cannot (fallback, fd not found,
    ///         channel closed, or not permitted)
    boolean setPriority(NetworkChannel channel, int priority);

    /// The socket's current `SO_PRIORITY`, if it can be read.
    OptionalInt priority(NetworkChannel channel);

    /// Sets `SO_MAX_PACING_RATE` in bytes per second (`-1` = unlimited, the kernel's ~0).
    ///
    /// @return `true` if applied; `false` if the platform cannot (as for [#setPriority]) or
    ///         `bytesPerSecond` is below `-1`
    boolean setMaxPacingRate(NetworkChannel channel, long bytesPerSecond);

    /// The socket's current `SO_MAX_PACING_RATE` in bytes per second (`-1` = unlimited).
    OptionalLong maxPacingRate(NetworkChannel channel);

    /// Sets the unicast hop limit of the channel's outgoing packets: `IP_TTL` on an IPv4
    /// socket; `IPV6_UNICAST_HOPS` on an IPv6 socket, and on a dual-stack one `IP_TTL` as well
    /// (the kernel uses it for IPv4-mapped destinations). The JDK has `IP_MULTICAST_TTL` only.
    /// Probes use TTL 1 so that they never leave the local link (qwave.md §8.3).
    ///
    /// @param ttl 1..255, or -1 for the system default
    /// @return `true` if applied; `false` if the platform cannot (as for [#setPriority]) or the
    ///         value is out of range
    boolean setTtl(NetworkChannel channel, int ttl);

    /// The unicast hop limit of the channel's socket (`IP_TTL`, or `IPV6_UNICAST_HOPS` for an
    /// IPv6 socket), as the kernel reports it (the system default when not set).
    OptionalInt ttl(NetworkChannel channel);

    /// The network namespace the channel's socket lives in (`SIOCGSKNS`), held open until the
    /// caller closes it; empty where unknown (fallback platform, closed channel, old kernel).
    default Optional<NetNamespace> namespaceOf(NetworkChannel channel) {
        return Optional.empty();
    }

    /// The arrival times of the datagrams `channel` receives (see [ReceiveTimestamps]): the
    /// kernel's receive timestamps on Linux, through a descriptor looked up once and held until
    /// the result is closed (close it with the channel); [ReceiveTimestamps#userSpace()] on the
    /// fallback platform and wherever the kernel's cannot be had. Never throws.
    default ReceiveTimestamps receiveTimestamps(DatagramChannel channel) {
        return ReceiveTimestamps.userSpace();
    }

    /// Makes the calling thread's timed waits wake up on time: Linux adds up to the thread's
    /// timer slack (50 µs by default) to every timed park; this sets it to 1 ns for threads
    /// whose job is to act at a precise instant (the pacer, the prober's sender). Returns
    /// whether it took effect; never throws.
    default boolean preciseTimers() {
        return false;
    }

    /// The kernel's `TCP_INFO` for a connected TCP socket, if available (empty for a channel
    /// that is not connected or is closed).
    Optional<TcpInfo> tcpInfo(SocketChannel channel);
}
