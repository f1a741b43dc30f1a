package io.quaver.internal.probe;

import io.quaver.internal.platform.NetNamespace;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Callable;

/// Where the prober gets its sockets from. The default opens them in the JVM's own network
/// namespace; a test bed opens them in another (the sockets then work from any thread).
public interface ProbeSockets {

    /// An unconnected TCP channel for a control connection.
    SocketChannel openControl(ProtocolFamily family) throws IOException;

    /// An unbound UDP channel for probes.
    DatagramChannel openDatagram(ProtocolFamily family) throws IOException;

    /// The local link towards `destination` in the namespace these sockets live in (see
    /// [LocalLink#towards(InetAddress, boolean)]).
    default LocalLink localLink(InetAddress destination, boolean onLink) throws IOException {
        return LocalLink.towards(destination, onLink);
    }

    /// Sockets of this JVM's network namespace.
    static ProbeSockets system() {
        return new ProbeSockets() {
            @Override
            public SocketChannel openControl(ProtocolFamily family) throws IOException {
                return SocketChannel.open(family);
            }

            @Override
            public DatagramChannel openDatagram(ProtocolFamily family) throws IOException {
                return DatagramChannel.open(family);
            }
        };
    }

    /// Sockets of the network namespace `ns`, each opened on a thread inside it (they then work
    /// from any thread, the prober's virtual control threads included). `ns` must stay open
    /// while probers may open sockets.
    static ProbeSockets in(NetNamespace ns) {
        return new ProbeSockets() {
            @Override
            public SocketChannel openControl(ProtocolFamily family) throws IOException {
                return call(() -> SocketChannel.open(family));
            }

            @Override
            public DatagramChannel openDatagram(ProtocolFamily family) throws IOException {
                return call(() -> DatagramChannel.open(family));
            }

            private <T> T call(Callable<T> task) throws IOException {
                try {
                    return ns.call(task);
                } catch (IOException | RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(e);
                }
            }
        };
    }
}
