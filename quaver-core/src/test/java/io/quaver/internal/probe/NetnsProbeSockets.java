package io.quaver.internal.probe;

import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Callable;

/// Probe sockets created inside a namespace of a test bed (optionally bound to one of its
/// addresses), with the view of the local links taken there too; the bed's peers are on-link.
public final class NetnsProbeSockets implements ProbeSockets {
    private final NetnsTestBed bed;
    private final Node node;
    private final InetAddress source;

    private NetnsProbeSockets(NetnsTestBed bed, Node node, InetAddress source) {
        this.bed = bed;
        this.node = node;
        this.source = source;
    }

    /// Sockets of `node`'s namespace, bound by the kernel at connect time.
    public static ProbeSockets in(NetnsTestBed bed, Node node) {
        return new NetnsProbeSockets(bed, node, null);
    }

    /// Sockets of `node`'s namespace bound to `source`.
    public static ProbeSockets boundTo(NetnsTestBed bed, Node node, InetAddress source) {
        return new NetnsProbeSockets(bed, node, source);
    }

    @Override
    public SocketChannel openControl(ProtocolFamily family) throws IOException {
        return call(() -> source == null ? SocketChannel.open(family)
                : SocketChannel.open(family).bind(new InetSocketAddress(source, 0)));
    }

    @Override
    public DatagramChannel openDatagram(ProtocolFamily family) throws IOException {
        return call(() -> source == null ? DatagramChannel.open(family)
                : DatagramChannel.open(family).bind(new InetSocketAddress(source, 0)));
    }

    @Override
    public LocalLink localLink(InetAddress destination, boolean onLink) throws IOException {
        return call(() -> LocalLink.towards(destination, true));
    }

    private <T> T call(Callable<T> task) throws IOException {
        try {
            return bed.inNamespace(node, task);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
