package io.quaver.internal.qlpb;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;

/// A raw peer of a sink from a chosen source address that counts, at its sockets, every byte
/// it sends and receives (TCP payload and UDP datagrams), and keeps what it received.
final class MeteredPeer implements AutoCloseable {
    private final InetSocketAddress sink;
    private final Socket tcp;
    private final DatagramChannel udp;
    private final ByteBuffer inbox = ByteBuffer.allocate(1 << 20);
    long bytesSent;
    long bytesReceived;
    int datagramsReceived;
    boolean closedBySink;

    /// @param withTcp open a control connection (from `source`, port chosen by the system)
    MeteredPeer(InetAddress source, InetSocketAddress sink, boolean withTcp) throws IOException {
        this.sink = sink;
        if (withTcp) {
            tcp = new Socket();
            tcp.bind(new InetSocketAddress(source, 0));
            tcp.connect(sink, 5_000);
            tcp.setTcpNoDelay(true);
        } else {
            tcp = null;
        }
        udp = DatagramChannel.open();
        // room for every reflection of a flood read only at the end (a loaded host)
        udp.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
        udp.bind(new InetSocketAddress(source, 0));
        udp.configureBlocking(false);
    }

    int initiatorPort() {
        return tcp.getLocalPort();
    }

    void send(QlpbMessage message) throws IOException {
        sendTcp(QlpbCodecTest.bytes(QlpbCodec.encode(message)));
    }

    void sendTcp(byte[] bytes) throws IOException {
        tcp.getOutputStream().write(bytes);
        bytesSent += bytes.length;
    }

    void sendProbe(QlpbMessage probe) throws IOException {
        sendDatagram(QlpbCodecTest.bytes(QlpbCodec.encode(probe)));
    }

    void sendDatagram(byte[] bytes) throws IOException {
        int n = udp.send(ByteBuffer.wrap(bytes), sink);
        bytesSent += n;
    }

    /// Reads what the sink sends until it has been quiet for `quiet` (or closed the
    /// connection); returns the bytes received so far in total.
    long drain(Duration quiet) throws IOException {
        long deadline = System.nanoTime() + quiet.toNanos();
        byte[] chunk = new byte[8192];
        ByteBuffer datagram = ByteBuffer.allocate(65_536);
        while (System.nanoTime() < deadline) {
            boolean got = false;
            datagram.clear();
            if (udp.receive(datagram) != null) {
                datagramsReceived++;
                bytesReceived += datagram.position();
                got = true;
            }
            if (tcp != null && !closedBySink) {
                tcp.setSoTimeout(5);
                try {
                    InputStream in = tcp.getInputStream();
                    int n = in.read(chunk);
                    if (n < 0) {
                        closedBySink = true;
                    } else {
                        bytesReceived += n;
                        inbox.put(chunk, 0, Math.min(n, inbox.remaining()));
                        got = true;
                    }
                } catch (SocketTimeoutException e) {
                    // nothing yet
                } catch (IOException e) {
                    closedBySink = true; // reset
                }
            } else if (!got) {
                sleep();
            }
            if (got) {
                deadline = System.nanoTime() + quiet.toNanos();
            }
        }
        return bytesReceived;
    }

    /// The TCP bytes received so far, decoded.
    java.util.List<QlpbMessage> tcpMessages() {
        QlpbStreamDecoder decoder = new QlpbStreamDecoder();
        decoder.feed(inbox.array(), 0, inbox.position());
        java.util.List<QlpbMessage> out = new java.util.ArrayList<>();
        for (DecodeResult r = decoder.poll(); r instanceof DecodeResult.Decoded(QlpbMessage m); r = decoder.poll()) {
            out.add(m);
        }
        return out;
    }

    private static void sleep() {
        try {
            Thread.sleep(2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        try (udp) {
            if (tcp != null) {
                tcp.close();
            }
        }
    }
}
