package io.quaver.internal.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/// Loopback sockets for the platform tests, and a way to tell them apart that does not go through
/// the code under test: each decoy gets a distinct `SO_SNDBUF` set through the JDK, so a write
/// through a wrongly identified descriptor shows up as a changed value on a decoy. (Linux stores
/// and reports twice the value set; the JDK halves what it reads, so JDK values round-trip.)
final class TestSockets implements AutoCloseable {
    static final InetAddress IPV4_LOOPBACK = address("127.0.0.1");
    static final InetAddress IPV6_LOOPBACK = address("::1");

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    /// Each decoy and the `SO_SNDBUF` (bytes, as the JDK reports it) it must keep.
    private final Map<NetworkChannel, Integer> decoySendBuffers = new LinkedHashMap<>();
    private int nextDecoyBuffer = 8192;

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /// Whether this JVM's default channels are IPv6 (dual-stack) and `::1` is usable.
    static boolean ipv6Available() {
        return Files.exists(Path.of("/proc/net/if_inet6")) && !Boolean.getBoolean("java.net.preferIPv4Stack");
    }

    <T extends AutoCloseable> T track(T closeable) {
        opened.push(closeable);
        return closeable;
    }

    /// Marks `channel` as a decoy: gives it a distinct send buffer through the JDK.
    <T extends NetworkChannel> T decoy(T channel) throws IOException {
        int requested = nextDecoyBuffer;
        nextDecoyBuffer += 64;
        channel.setOption(StandardSocketOptions.SO_SNDBUF, requested);
        decoySendBuffers.put(channel, channel.getOption(StandardSocketOptions.SO_SNDBUF));
        return channel;
    }

    /// Checks that no decoy's send buffer was changed (by a write through a wrong descriptor).
    Map<NetworkChannel, Integer> changedDecoys() throws IOException {
        Map<NetworkChannel, Integer> changed = new LinkedHashMap<>();
        for (Map.Entry<NetworkChannel, Integer> e : decoySendBuffers.entrySet()) {
            if (e.getKey().isOpen()) {
                int now = e.getKey().getOption(StandardSocketOptions.SO_SNDBUF);
                if (now != e.getValue()) {
                    changed.put(e.getKey(), now);
                }
            }
        }
        return changed;
    }

    int decoyCount() {
        return decoySendBuffers.size();
    }

    DatagramChannel datagram(ProtocolFamily family) throws IOException {
        return track(family == null ? DatagramChannel.open() : DatagramChannel.open(family));
    }

    /// A datagram channel with `SO_REUSEADDR` bound to `local` (which may already be in use).
    DatagramChannel datagramSharing(ProtocolFamily family, InetSocketAddress local) throws IOException {
        DatagramChannel channel = datagram(family);
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        channel.bind(local);
        return channel;
    }

    /// A listening server on the IPv4 loopback.
    ServerSocketChannel server() throws IOException {
        ServerSocketChannel server = track(ServerSocketChannel.open());
        server.bind(new InetSocketAddress(IPV4_LOOPBACK, 0), 128);
        return server;
    }

    /// A connected pair over loopback: `[client, accepted]`.
    SocketChannel[] connect(ServerSocketChannel server, ProtocolFamily family) throws IOException {
        SocketChannel client = track(family == null ? SocketChannel.open() : SocketChannel.open(family));
        client.connect(server.getLocalAddress());
        SocketChannel accepted = track(server.accept());
        return new SocketChannel[] {client, accepted};
    }

    /// Opens about fifty decoys of every kind: unbound and bound datagram sockets of both
    /// families, unbound and bound stream sockets, several connections to one server, and
    /// stream sockets sharing one bound port.
    void openStandardDecoys() throws IOException {
        for (int i = 0; i < 8; i++) {
            decoy(datagram(null));
            decoy(datagram(StandardProtocolFamily.INET));
        }
        for (int i = 0; i < 4; i++) {
            decoy(datagram(null)).bind(new InetSocketAddress(IPV4_LOOPBACK, 0));
            decoy(datagram(StandardProtocolFamily.INET)).bind(null);
        }
        for (int i = 0; i < 8; i++) {
            decoy(track(SocketChannel.open()));
        }
        ServerSocketChannel server = server(); // no SO_SNDBUF on a listening channel
        for (int i = 0; i < 8; i++) {
            for (SocketChannel end : connect(server, i % 2 == 0 ? null : StandardProtocolFamily.INET)) {
                decoy(end);
            }
        }
        InetSocketAddress shared = null;
        for (int i = 0; i < 4; i++) {
            SocketChannel bound = decoy(track(SocketChannel.open(StandardProtocolFamily.INET)));
            bound.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            bound.bind(shared == null ? new InetSocketAddress(IPV4_LOOPBACK, 0) : shared);
            shared = (InetSocketAddress) bound.getLocalAddress();
        }
    }

    @Override
    public void close() {
        IOException first = null;
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof IOException io ? io : new IOException(e);
                }
            }
        }
        decoySendBuffers.clear();
        if (first != null) {
            throw new UncheckedIOException(first);
        }
    }

    // ---- /proc/self/fd ---------------------------------------------------------------------------

    /// The number of open descriptors of this process.
    static long openFdCount() throws IOException {
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count() - 1; // minus the descriptor of this listing
        }
    }

    /// The inodes of all sockets open in this process.
    static Set<Long> openSocketInodes() throws IOException {
        Set<Long> inodes = new HashSet<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                try {
                    String target = Files.readSymbolicLink(entry).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(Long.parseLong(target.substring(8, target.length() - 1)));
                    }
                } catch (IOException closedMeanwhile) {
                    // ignore
                }
            }
        }
        return inodes;
    }
}
