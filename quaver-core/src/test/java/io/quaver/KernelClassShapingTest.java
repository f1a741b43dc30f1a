package io.quaver;

import io.quaver.internal.shaping.KernelClasses;
import io.quaver.internal.shaping.PacingPolicy;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NoLeaksExtension;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import io.quaver.testkit.Shaper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/// Transparent shaping with a kernel class, in a namespace test bed: the application keeps
/// writing to its own socket; an htb class of the flow on A's interface towards B holds it to
/// the rate (measured at B), other sockets are not shaped, and nothing is left behind.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(NoLeaksExtension.class)
class KernelClassShapingTest {
    private static final int PAYLOAD = 1000;

    @BeforeAll
    static void needsNamespaces() {
        Availability a = NetnsTestBed.availability();
        assumeTrue(a.ok(), () -> "kernel-class shaping not tested: " + a.reason());
    }

    private static QosSubsystem privileged() {
        return QosSubsystem.open(QosOptions.defaults().withPrivileged(true).withKernelShaping(true));
    }

    private static String tc(NetnsTestBed bed, String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "tc";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return bed.exec(Node.A, cmd).orThrow().stdout();
    }

    /// Writes straight to the JDK socket, as fast as its blocking writes return, for
    /// `durationMs`: whatever the class queues counts against the socket's send buffer, so the
    /// class stays backlogged (the measured rate is the class's, not a loaded sender's) and
    /// the writes are held back to the rate.
    private static int blast(DatagramChannel tx, long durationMs) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(PAYLOAD);
        long end = System.nanoTime() + durationMs * 1_000_000;
        int n = 0;
        while (System.nanoTime() < end) {
            b.clear();
            tx.write(b);
            n++;
        }
        return n;
    }

    /// The class's guarantee at B (kernel arrival timestamps): never faster than rate + burst
    /// (plus a datagram htb lets go on credit), and a backlogged class near its rate.
    private static double assertShapedAtB(ArrivalRecorder rx, long rateBps, int headerBytes) {
        return rx.assertShapedTo(rateBps, PacingPolicy.burstBytes(rateBps), 20, headerBytes,
                RateShapingTest.SLACK_PACKETS + 1, RateShapingTest.MIN_SHARE);
    }

    @Test
    void anHtbClassShapesTheFlowsOwnWritesAndIsRemovedWithTheFlow() throws Exception {
        long rateBps = 10_000_000;
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            InetSocketAddress bAddr = new InetSocketAddress(bed.ipv4(Node.B), 5004);
            DatagramChannel rxCh = bed.inNamespace(Node.B, () -> {
                DatagramChannel ch = DatagramChannel.open();
                ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 8 << 20);
                return ch.bind(bAddr);
            });
            DatagramChannel tx = bed.inNamespace(Node.A, () -> DatagramChannel.open().connect(bAddr));
            DatagramChannel other = bed.inNamespace(Node.A, () -> DatagramChannel.open().connect(bAddr));
            int classesBefore = KernelClasses.system().installedCount();
            try (ArrivalRecorder rx = new ArrivalRecorder(rxCh); tx; other; QosSubsystem qos = privileged()) {
                QosFlow flow = qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
                flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
                assertThat(flow.enforcement()).isEqualTo(Enforcement.KERNEL_CLASS);
                assertThat(tc(bed, "qdisc", "show", "dev", "to-b", "root")).contains("htb 5156: root");
                assertThat(tc(bed, "class", "show", "dev", "to-b")).contains("class htb 5156:1 ").contains("rate 10Mbit");
                assertThat(tc(bed, "filter", "show", "dev", "to-b")).contains("flowid 5156:1");
                assertThat(KernelClasses.system().installedCount()).isEqualTo(classesBefore + 1);

                long blastStart = System.nanoTime();
                int sent = blast(tx, 1_200);
                long blastNs = System.nanoTime() - blastStart;
                Thread.sleep(200); // let the class drain
                int got = rx.count();
                double measured = rx.rateBps(20, 28);
                System.out.printf("kernel class 10 Mbit/s: offered %d datagrams, %d arrived, %.3f Mbit/s at B"
                        + " (kernel timestamps: %s)%n", sent, got, measured / 1e6, rx.kernelTimestamps());
                // datagrams queued in the class count against the socket's send buffer, so the
                // application's blocking writes are held back to the rate rather than dropped
                assertThat(got).isLessThanOrEqualTo(sent);
                assertThat(sent * (PAYLOAD + 28) * 8e9 / blastNs).as("writes held back").isLessThan(1.3 * rateBps);
                assertShapedAtB(rx, rateBps, 28);

                // a socket outside the flow is not shaped
                int before = rx.count();
                long t0 = System.nanoTime();
                ByteBuffer b = ByteBuffer.allocate(PAYLOAD);
                for (int i = 0; i < 2_000; i++) {
                    b.clear();
                    other.write(b);
                }
                long elapsed = System.nanoTime() - t0;
                rx.awaitCount(before + 1_900, 3_000);
                assertThat(2_000L * (PAYLOAD + 28) * 8e9 / elapsed).as("unshaped socket").isGreaterThan(3.0 * rateBps);

                // a new rate changes the class in place
                flow.setOutgoingRate(OutgoingRate.of(5_000_000, Shaping.SHAPE_ONLY));
                assertThat(flow.enforcement()).isEqualTo(Enforcement.KERNEL_CLASS);
                assertThat(tc(bed, "class", "show", "dev", "to-b")).contains("rate 5Mbit");

                flow.close();
                assertThat(tc(bed, "class", "show", "dev", "to-b")).doesNotContain("5156:");
                assertThat(tc(bed, "filter", "show", "dev", "to-b")).doesNotContain("5156:");
                assertThat(tc(bed, "qdisc", "show", "dev", "to-b", "root")).doesNotContain("5156:");
                assertThat(KernelClasses.system().installedCount()).isEqualTo(classesBefore);

                // closing the handle removes classes too
                QosFlow again = qos.addFlow(tx, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
                again.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
                assertThat(again.enforcement()).isEqualTo(Enforcement.KERNEL_CLASS);
                qos.close();
                assertThat(tc(bed, "qdisc", "show", "dev", "to-b", "root")).doesNotContain("5156:");
                assertThat(KernelClasses.system().installedCount()).isEqualTo(classesBefore);
            }
        }
    }

    @Test
    void anotherRootQdiscIsNeverReplaced() throws Exception {
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false)
                .bottleneck(Node.A, Node.B, Shaper.tbf(50_000_000)).build()) {
            InetSocketAddress bAddr = new InetSocketAddress(bed.ipv4(Node.B), 5004);
            String rootBefore = tc(bed, "qdisc", "show", "dev", "to-b", "root");
            try (DatagramChannel tx = bed.inNamespace(Node.A, () -> DatagramChannel.open().connect(bAddr));
                 QosSubsystem qos = privileged()) {
                QosFlow flow = qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
                flow.setOutgoingRate(OutgoingRate.of(10_000_000, Shaping.SHAPE_AND_MARK));
                assertThat(flow.enforcement()).as("refused: the send path enforces the rate")
                        .isEqualTo(Enforcement.SEND_PATH);
                assertThat(tc(bed, "qdisc", "show", "dev", "to-b", "root")).isEqualTo(rootBefore);
            }
        }
    }

    @Test
    void unprivilegedOrOptedOutHandlesUseTheSendPath() throws Exception {
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            InetSocketAddress bAddr = new InetSocketAddress(bed.ipv4(Node.B), 5004);
            try (DatagramChannel tx = bed.inNamespace(Node.A, () -> DatagramChannel.open().connect(bAddr));
                 QosSubsystem unprivileged = QosSubsystem.open(QosOptions.defaults().withPrivileged(false));
                 QosSubsystem optedOut = QosSubsystem.open(QosOptions.defaults().withPrivileged(true)
                         .withKernelShaping(false))) {
                for (QosSubsystem qos : new QosSubsystem[] {unprivileged, optedOut}) {
                    QosFlow flow = qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
                    flow.setOutgoingRate(OutgoingRate.of(10_000_000, Shaping.SHAPE_AND_MARK));
                    assertThat(flow.enforcement()).isEqualTo(Enforcement.SEND_PATH);
                    flow.close();
                }
                assertThat(tc(bed, "qdisc", "show", "dev", "to-b", "root")).doesNotContain("5156:");
            }
        }
    }

    @Test
    void ipv6FlowsGetIpv6FiltersAndTheirRate() throws Exception {
        long rateBps = 8_000_000;
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(true).build()) {
            InetSocketAddress bAddr = new InetSocketAddress(bed.ipv6(Node.B), 5006);
            DatagramChannel rxCh = bed.inNamespace(Node.B, () -> {
                DatagramChannel ch = DatagramChannel.open(java.net.StandardProtocolFamily.INET6);
                ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 8 << 20);
                return ch.bind(bAddr);
            });
            DatagramChannel tx = bed.inNamespace(Node.A,
                    () -> DatagramChannel.open(java.net.StandardProtocolFamily.INET6).connect(bAddr));
            try (ArrivalRecorder rx = new ArrivalRecorder(rxCh); tx; QosSubsystem qos = privileged()) {
                QosFlow flow = qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
                flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
                assertThat(flow.enforcement()).isEqualTo(Enforcement.KERNEL_CLASS);
                assertThat(tc(bed, "filter", "show", "dev", "to-b")).contains("protocol ipv6").contains("flowid 5156:1");
                blast(tx, 800);
                Thread.sleep(200);
                double measured = assertShapedAtB(rx, rateBps, 48);
                System.out.printf("kernel class 8 Mbit/s over IPv6: %.3f Mbit/s at B%n", measured / 1e6);
            }
            assertThat(tc(bed, "qdisc", "show", "dev", "to-b", "root")).doesNotContain("5156:");
        }
    }
}
