package io.quaver.internal.qlpb;

import io.quaver.internal.qlpb.DecodeResult.Decoded;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/// A minimal [MS-QLPB] initiator for tests: one control connection and one UDP socket
/// towards a sink on loopback.
final class TestInitiator implements AutoCloseable {
    private final InetSocketAddress sink;
    private final Socket tcp;
    private final DatagramChannel udp;
    private final QlpbStreamDecoder decoder = new QlpbStreamDecoder();

    TestInitiator(InetAddress host, int port) throws IOException {
        this.sink = new InetSocketAddress(host, port);
        this.tcp = new Socket();
        tcp.connect(sink, 5_000);
        tcp.setSoTimeout(5_000);
        this.udp = DatagramChannel.open();
        udp.bind(new InetSocketAddress(host, 0));
    }

    /// The local TCP port: the `Initiator_Port` of this initiator's probes.
    int initiatorPort() {
        return tcp.getLocalPort();
    }

    Socket tcp() {
        return tcp;
    }

    DatagramChannel udp() {
        return udp;
    }

    void send(QlpbMessage message) throws IOException {
        tcp.getOutputStream().write(QlpbCodecTest.bytes(QlpbCodec.encode(message)));
    }

    void sendRaw(byte[] bytes) throws IOException {
        tcp.getOutputStream().write(bytes);
    }

    /// The next message from the sink (fails after 5 s, or if the sink closes or sends
    /// garbage).
    QlpbMessage receive() throws IOException {
        InputStream in = tcp.getInputStream();
        byte[] chunk = new byte[4096];
        while (true) {
            DecodeResult r = decoder.poll();
            if (r instanceof Decoded(QlpbMessage m)) {
                return m;
            }
            if (r != null) {
                throw new IOException("sink sent garbage: " + r);
            }
            int n = in.read(chunk);
            if (n < 0) {
                throw new IOException("sink closed the connection");
            }
            decoder.feed(chunk, 0, n);
        }
    }

    /// Whether the sink closes the connection within `timeout` (reading and dropping
    /// anything it still sends).
    boolean closedBySink(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] chunk = new byte[4096];
        InputStream in = tcp.getInputStream();
        while (System.nanoTime() < deadline) {
            tcp.setSoTimeout((int) Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toMillis()));
            try {
                if (in.read(chunk) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true; // reset
            } finally {
                tcp.setSoTimeout(5_000);
            }
        }
        return false;
    }

    void sendProbe(QlpbMessage probe) throws IOException {
        udp.send(QlpbCodec.encode(probe), sink);
    }

    void sendDatagram(byte[] bytes) throws IOException {
        udp.send(ByteBuffer.wrap(bytes), sink);
    }

    @Override
    public void close() throws IOException {
        try (udp) {
            tcp.close();
        }
    }

    /// Polls `condition` every 5 ms until it holds or `timeout` passes.
    static boolean eventually(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
