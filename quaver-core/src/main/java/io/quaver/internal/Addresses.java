package io.quaver.internal;

import io.quaver.QosError;
import io.quaver.QosException;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/// Validation and normalisation of addresses given to the API.
public final class Addresses {
    private Addresses() {
    }

    /// Checks a flow destination: resolved, a concrete unicast or multicast address, a port,
    /// and not IPv4-mapped (qwave.md §2.8: mixed addresses are rejected for flows).
    ///
    /// @param what the parameter's name for the message
    public static InetSocketAddress checkFlowDestination(InetSocketAddress destination, String what) {
        if (destination.isUnresolved()) {
            throw new QosException(QosError.BAD_NET_NAME, what + " " + destination.getHostString()
                    + " is unresolved: give a resolved InetSocketAddress");
        }
        InetAddress address = destination.getAddress();
        if (address.isAnyLocalAddress()) {
            throw Errors.invalidParameter(what + " " + destination + " is a wildcard address, not a destination");
        }
        if (address instanceof Inet6Address v6 && isIpv4Mapped(v6)) {
            throw Errors.invalidParameter(what + " " + destination
                    + " is an IPv4-mapped IPv6 address; give the IPv4 address instead");
        }
        if (destination.getPort() == 0) {
            throw Errors.invalidParameter(what + " " + destination + " has no port; a flow destination needs one");
        }
        return destination;
    }

    /// Checks a tracked client's address and returns its identity: the address with the port
    /// dropped and an IPv4-mapped IPv6 address turned into the IPv4 address (decisions.md item 16).
    public static InetAddress clientIdentity(InetSocketAddress client) {
        if (client == null) {
            throw Errors.invalidParameter("DestAddr is null");
        }
        if (client.isUnresolved()) {
            throw new QosException(QosError.BAD_NET_NAME, "client " + client.getHostString() + " is unresolved");
        }
        InetAddress address = client.getAddress();
        if (address.isAnyLocalAddress() || address.isMulticastAddress()) {
            throw Errors.invalidParameter("client " + address.getHostAddress() + " is not a unicast host address");
        }
        if (address instanceof Inet6Address v6 && isIpv4Mapped(v6)) {
            byte[] b = v6.getAddress();
            try {
                return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        return address;
    }

    /// Whether an IPv6 address is IPv4-mapped (`::ffff:a.b.c.d`). Java normally turns such
    /// literals into [Inet4Address], but [Inet6Address#getByAddress] can still make one.
    public static boolean isIpv4Mapped(Inet6Address address) {
        byte[] b = address.getAddress();
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF;
    }

    /// Whether two socket addresses name the same endpoint (address and port).
    public static boolean sameEndpoint(InetSocketAddress a, InetSocketAddress b) {
        return a.getPort() == b.getPort() && a.getAddress().equals(b.getAddress());
    }
}
