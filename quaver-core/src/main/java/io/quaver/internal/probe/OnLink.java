package io.quaver.internal.probe;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;

/// Whether a destination is on-link (decisions.md item 23): a loopback or local address, an
/// IPv6 link-local address, or an address inside a directly attached subnet of the interface
/// the kernel would send to it from. The egress interface is learnt by connecting a UDP
/// socket (no packet is sent) and reading the source address the kernel picked.
public final class OnLink {
    private OnLink() {
    }

    /// Never throws; `false` when there is no route at all.
    public static boolean isOnLink(InetAddress destination) {
        if (destination.isLoopbackAddress() || destination.isLinkLocalAddress()) {
            return true;
        }
        boolean v4 = destination instanceof Inet4Address;
        try (DatagramChannel ch = DatagramChannel.open(v4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6)) {
            ch.connect(new InetSocketAddress(destination, 9));
            InetAddress source = ((InetSocketAddress) ch.getLocalAddress()).getAddress();
            if (source.equals(destination)) {
                return true; // one of our own addresses
            }
            NetworkInterface nif = NetworkInterface.getByInetAddress(source);
            if (nif == null) {
                return false;
            }
            if (nif.isLoopback()) {
                return true;
            }
            for (InterfaceAddress ia : nif.getInterfaceAddresses()) {
                if (ia.getAddress() != null && sameFamily(ia.getAddress(), destination)
                        && inPrefix(ia.getAddress(), destination, ia.getNetworkPrefixLength())) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean sameFamily(InetAddress a, InetAddress b) {
        return (a instanceof Inet4Address) == (b instanceof Inet4Address)
                && (a instanceof Inet6Address) == (b instanceof Inet6Address);
    }

    /// Whether `b` lies in `a/prefixLength`.
    public static boolean inPrefix(InetAddress a, InetAddress b, int prefixLength) {
        byte[] x = a.getAddress();
        byte[] y = b.getAddress();
        if (x.length != y.length || prefixLength < 0 || prefixLength > x.length * 8) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (x[i] != y[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (x[full] & mask) == (y[full] & mask);
    }
}
