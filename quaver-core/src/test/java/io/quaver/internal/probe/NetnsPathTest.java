package io.quaver.internal.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.internal.platform.Platform;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import io.quaver.testkit.Shaper;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// The prober over real kernels: the sink in namespace B, the prober's sockets in namespace A,
/// a `tbf` bottleneck on A → B. Generous tolerances (a noisy 2-core machine).
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class NetnsPathTest {
    private static final long RATE_BPS = 10_000_000L;

    /// Sockets created inside a namespace of the bed.
    static ProbeSockets in(NetnsTestBed bed, Node node) {
        return NetnsProbeSockets.in(bed, node);
    }

    @Test
    void tbfBottleneckBetweenNamespaces() throws Exception {
        Availability avail = NetnsTestBed.availability();
        Assumptions.assumeTrue(avail.ok(), avail.reason());
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false)
                .bottleneck(Node.A, Node.B, Shaper.tbf(RATE_BPS)).build()) {
            QosSink sink = bed.inNamespace(Node.B, () -> QosSink.start(SinkOptions.defaults()
                    .withBindAddress(bed.ipv4(Node.B)).withPort(0)));
            try (sink) {
                var target = new InetSocketAddress(bed.ipv4(Node.B), sink.port());
                ProberConfig config = ProberConfig.of(target, true, Platform.current()).withSockets(in(bed, Node.A));
                try (ClientProber prober = EmulatedPathTest.startWithEstimators(config, "netns")) {
                    assertThat(prober.awaitFirstHandshake(Duration.ofSeconds(3)))
                            .isEqualTo(ClientProber.Status.REACHABLE);
                    assertThat(prober.fresh(Duration.ofSeconds(5))).isNotNull();
                    // tbf counts Ethernet frames: 1514 bytes per 1500-byte probe packet
                    long truthIpBps = RATE_BPS * 1500 / 1514;
                    PathEstimates e = EmulatedPathTest.settle(prober, truthIpBps);
                    System.out.println("netns tbf 10 Mbit/s: " + e + " (truth at the IP level " + truthIpBps + ")");
                    assertThat(e.bottleneckBps().getAsLong()).isBetween(truthIpBps * 65 / 100, truthIpBps * 135 / 100);
                    assertThat(e.availableBps()).isPresent();
                    assertThat(e.rttUs().getAsLong()).isBetween(1L, 20_000L);
                    assertThat(prober.prioritySupported()).as("route check over the veth").isNotNull();
                }
            }
        }
    }
}
