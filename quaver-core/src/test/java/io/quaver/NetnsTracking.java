package io.quaver;

import io.quaver.internal.Engine;
import io.quaver.internal.probe.NetnsProbeSockets;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import org.junit.jupiter.api.Assumptions;

import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Duration;

/// The namespace test bed set up for tracking through the public API: a sink in B, the embedded
/// engine's probe sockets in A (skipped where namespaces are missing).
final class NetnsTracking implements AutoCloseable {
    final NetnsTestBed bed;
    final QosSink sink;

    private NetnsTracking(NetnsTestBed bed, QosSink sink) {
        this.bed = bed;
        this.sink = sink;
    }

    /// Builds the bed (IPv4 only, plus whatever `builder` holds), starts the sink in B and
    /// points the embedded engine's probe sockets at A.
    static NetnsTracking start(NetnsTestBed.Builder builder) throws Exception {
        Availability avail = NetnsTestBed.availability();
        Assumptions.assumeTrue(avail.ok(), avail.reason());
        NetnsTestBed bed = builder.ipv6(false).build();
        try {
            QosSink sink = bed.inNamespace(Node.B, () -> QosSink.start(SinkOptions.defaults()
                    .withBindAddress(bed.ipv4(Node.B)).withPort(0)));
            Engine.embedded().tracking().setSocketFactory(NetnsProbeSockets.in(bed, Node.A));
            return new NetnsTracking(bed, sink);
        } catch (Exception | Error e) {
            bed.close();
            throw e;
        }
    }

    /// A handle that tracks B through the sink (off-link experiments allowed, no grace period).
    QosSubsystem handle() {
        return QosSubsystem.open(QosOptions.defaults().withPrivileged(false).withSinkPort(sink.port())
                .withOffLinkExperiments(true).withTrackingGracePeriod(Duration.ZERO));
    }

    /// The tracked client: B.
    InetSocketAddress client() {
        return new InetSocketAddress(bed.ipv4(Node.B), 0);
    }

    /// A UDP socket in A connected to B, for an adaptive flow.
    DatagramChannel flowSocket() throws Exception {
        return bed.inNamespace(Node.A, () -> DatagramChannel.open()
                .connect(new InetSocketAddress(bed.ipv4(Node.B), 40_000)));
    }

    @Override
    public void close() {
        Engine.embedded().tracking().setSocketFactory(null);
        try {
            sink.close();
        } finally {
            bed.close();
        }
    }
}
