package io.quaver.internal.daemon;

import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.internal.probe.ProberConfig;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/// An in-process daemon on a temporary socket path, and what tests open against it; closes
/// everything in reverse order.
final class DaemonFixture implements AutoCloseable {
    final Path dir;
    final Path socket;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    Daemon daemon;

    DaemonFixture(Path dir) {
        this.dir = dir;
        this.socket = dir.resolve("quaver.sock");
    }

    Daemon start(DaemonPolicy policy, int metricsPort) throws IOException {
        daemon = Daemon.start(new Daemon.Config(socket, policy, 0, metricsPort));
        return daemon;
    }

    Daemon start() throws IOException {
        return start(DaemonPolicy.defaults(), -1);
    }

    /// Probers of this daemon reach a closed loopback port whatever their client: nothing a
    /// test (or the fuzzer) asks to track leaves the host.
    void confineProbers() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        InetSocketAddress dead = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        daemon.hostEngine().tracking().setProberConfigHook(c -> new ProberConfig(dead, dead, c.ttlOne(),
                c.routeCheck(), c.sockets(), c.platform(), c.counters(), c.secret()));
    }

    QosSubsystem handle() {
        return later(QosSubsystem.open(QosOptions.defaults().withDaemon(socket)));
    }

    QosSubsystem handle(QosOptions options) {
        return later(QosSubsystem.open(options.withDaemon(socket)));
    }

    <T extends AutoCloseable> T later(T c) {
        closeables.add(c);
        return c;
    }

    /// A raw control connection.
    SocketChannel raw() throws IOException {
        return later(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
    }

    static void send(SocketChannel ch, int type, int id, Wire.Writer body) throws IOException {
        ControlProtocol.write(ch, ControlProtocol.frame(type, id, body));
    }

    static ControlProtocol.Frame read(SocketChannel ch) throws Exception {
        return ControlProtocol.read(ch);
    }

    static Wire.Writer hello(int version) {
        return new Wire.Writer().u16(version).u8(0).str("test");
    }

    Path policyFile(String text) throws IOException {
        Path p = Files.createTempFile(dir, "policy", ".conf");
        Files.writeString(p, text);
        return p;
    }

    static ByteBuffer empty() {
        return ByteBuffer.allocate(0);
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
        closeables.clear();
        if (daemon != null) {
            daemon.close();
        }
    }
}
