package io.quaver.internal.probe;

import io.quaver.QosError;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Enumeration;
import java.util.Locale;

/// The state of the local link towards a destination, to tell a local fault (the egress
/// interface down, its address removed) from a peer that does not answer (docs/errors.md).
public enum LocalLink {
    /// An interface that is up has an address whose subnet holds the destination (or the
    /// destination is not on a directly attached subnet at all and a route may exist).
    UP,
    /// The interface whose subnet holds the destination is down → 57.
    DOWN,
    /// No interface has an address on the destination's subnet any more → 59.
    NO_ADDRESS;

    /// The code a failure towards the destination maps to, or `null` for none (then the
    /// caller's own, e.g. 1232).
    public QosError error() {
        return switch (this) {
            case UP -> null;
            case DOWN -> QosError.ADAP_HDW_ERR;
            case NO_ADDRESS -> QosError.UNEXP_NET_ERR;
        };
    }

    /// Looks at the interfaces of the calling thread's network namespace.
    ///
    /// @param wasOnLink whether the destination was on-link when the path was set up; an
    ///                  off-link destination without a matching subnet is `UP` (routing decides)
    public static LocalLink towards(InetAddress destination, boolean wasOnLink) throws IOException {
        if (destination.isLoopbackAddress()) {
            return UP;
        }
        boolean downMatch = false;
        Enumeration<NetworkInterface> all = NetworkInterface.getNetworkInterfaces();
        while (all != null && all.hasMoreElements()) {
            NetworkInterface ni = all.nextElement();
            for (InterfaceAddress a : ni.getInterfaceAddresses()) {
                if (a.getAddress().getClass() == destination.getClass()
                        && sameSubnet(a.getAddress(), destination, a.getNetworkPrefixLength())) {
                    if (isUp(ni)) {
                        return UP;
                    }
                    downMatch = true;
                }
            }
        }
        return downMatch ? DOWN : wasOnLink ? NO_ADDRESS : UP;
    }

    private static boolean isUp(NetworkInterface ni) {
        try {
            return ni.isUp();
        } catch (SocketException e) {
            return false; // gone meanwhile
        }
    }

    static boolean sameSubnet(InetAddress a, InetAddress b, int prefixBits) {
        byte[] x = a.getAddress();
        byte[] y = b.getAddress();
        if (x.length != y.length || prefixBits <= 0 || prefixBits > x.length * 8) {
            return false;
        }
        for (int bit = 0; bit < prefixBits; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((x[bit / 8] & mask) != (y[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    /// Whether a socket error says the local network cannot reach anything there (rather
    /// than the peer not answering): ENETUNREACH, ENETDOWN, EADDRNOTAVAIL.
    public static boolean isLocalNetworkError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null) {
                String s = m.toLowerCase(Locale.ROOT);
                if (s.contains("network is unreachable") || s.contains("network is down")
                        || s.contains("cannot assign requested address")) {
                    return true;
                }
            }
        }
        return false;
    }
}
