package io.quaver.internal.platform;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/// The fallback: DSCP marking through the JDK works everywhere; nothing else is available.
final class PortablePlatform implements Platform {
    static final PortablePlatform INSTANCE = new PortablePlatform();

    @Override
    public String name() {
        return "portable";
    }

    @Override
    public boolean isPrivileged() {
        return false;
    }

    /// Learns the family from the socket's bound local address, the only public fact there is:
    ///
    /// - an IPv4 address (wildcard included): an `AF_INET` socket — or an IPv6 socket bound to
    ///   an IPv4-mapped address, which the JDK reports as IPv4 and which reaches IPv4 peers
    ///   only; either way IPv4 peers only;
    /// - the IPv6 wildcard `::`: a dual-stack `AF_INET6` socket (the JDK clears
    ///   `IPV6_V6ONLY` on every socket it opens);
    /// - a specific IPv6 address: an `AF_INET6` socket that can reach IPv6 peers only, reported
    ///   as `v6Only`;
    /// - unbound, closed, or not an IP socket: [SocketInfo.Family#UNKNOWN] (both families
    ///   accepted).
    @Override
    public SocketInfo describe(NetworkChannel channel) {
        boolean stream = channel instanceof SocketChannel;
        InetAddress local;
        try {
            local = channel.getLocalAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
        } catch (IOException | RuntimeException e) {
            local = null; // closed: nothing to learn
        }
        if (local instanceof Inet4Address) {
            return new SocketInfo(SocketInfo.Family.INET, false, stream);
        }
        if (local instanceof Inet6Address) {
            return new SocketInfo(SocketInfo.Family.INET6, !local.isAnyLocalAddress(), stream);
        }
        return new SocketInfo(SocketInfo.Family.UNKNOWN, false, stream);
    }

    @Override
    public boolean setPriority(NetworkChannel channel, int priority) {
        return false;
    }

    @Override
    public OptionalInt priority(NetworkChannel channel) {
        return OptionalInt.empty();
    }

    @Override
    public boolean setTtl(NetworkChannel channel, int ttl) {
        return false;
    }

    @Override
    public OptionalInt ttl(NetworkChannel channel) {
        return OptionalInt.empty();
    }

    @Override
    public boolean setMaxPacingRate(NetworkChannel channel, long bytesPerSecond) {
        return false;
    }

    @Override
    public OptionalLong maxPacingRate(NetworkChannel channel) {
        return OptionalLong.empty();
    }

    /// The caller's own readings: no kernel timestamps without FFM.
    @Override
    public ReceiveTimestamps receiveTimestamps(DatagramChannel channel) {
        return ReceiveTimestamps.userSpace();
    }

    @Override
    public Optional<TcpInfo> tcpInfo(SocketChannel channel) {
        return Optional.empty();
    }
}
