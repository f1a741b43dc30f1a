package io.quaver;

import io.quaver.internal.shaping.PacingPolicy;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NoLeaksExtension;
import io.quaver.testkit.CapturedPacket;
import io.quaver.testkit.PacketCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The three shaping behaviours on loopback, measured at the receiver (arrival timestamps) and
/// on the wire (tcpdump on `lo`, when capture is available). Loopback never gets a kernel
/// class, so UDP flows are enforced by the send path.
///
/// What a loaded host cannot change is asserted tightly: the shaper never lets a flow go faster
/// than its rate plus its bucket (at the sender over the whole run, and at the receiver on the
/// kernel's arrival timestamps). A loaded host can only make a sender late, so how close to the
/// rate it gets is asserted generously; the benchmark holds the tight goals.
@ExtendWith(NoLeaksExtension.class)
class RateShapingTest {
    private static final int PAYLOAD = 1000;
    private static final int WIRE = PAYLOAD + 28;
    /// The share of the rate a paced sender reaches at least, even on a loaded 2-core host: a
    /// stall longer than the bucket's 5 ms loses the excess for good (59 % of 8 Mbit/s was
    /// seen at load 8). It still tells a paced sender from a stuck or wrongly slowed one.
    static final double MIN_SHARE = 0.3;
    /// Datagrams beyond rate · span + burst at the receiver: the one being decided, and one
    /// for the mapping of the kernel's clock to `System.nanoTime()`.
    static final int SLACK_PACKETS = 2;

    private static DatagramChannel connectedTo(InetSocketAddress to) throws IOException {
        DatagramChannel ch = DatagramChannel.open();
        ch.connect(to);
        return ch;
    }

    private static PacketCapture captureOrNull(int port) throws IOException {
        Availability a = PacketCapture.availability();
        return a.ok() ? PacketCapture.builder().interfaceName("lo").filter("udp and dst port " + port).start() : null;
    }

    /// Sends `n` datagrams through the flow's blocking send, as fast as the send path lets it.
    private static long sendBlocking(QosFlow flow, int n) {
        ByteBuffer buf = ByteBuffer.allocateDirect(PAYLOAD);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            buf.clear();
            buf.putInt(0, i);
            assertThat(flow.send(buf)).isEqualTo(PAYLOAD);
        }
        return System.nanoTime() - t0;
    }

    /// The shaper's guarantee seen from the sender: `bytes` sent over `elapsedNs` (from before
    /// the first send to after the last) never exceeded the rate plus the bucket (and the
    /// datagram being decided), i.e. the sender was held back.
    static void assertHeldBack(long bytes, long elapsedNs, long rateBps) {
        double allowed = rateBps * elapsedNs / 8e9 + PacingPolicy.burstBytes(rateBps) + WIRE;
        assertThat((double) bytes).as("bytes sent in %.1f ms at %d bit/s (%.3f Mbit/s)", elapsedNs / 1e6, rateBps,
                bytes * 8e3 / elapsedNs).isLessThanOrEqualTo(allowed);
    }

    private static double assertReceivedAtRate(ArrivalRecorder rx, long rateBps) {
        double measured = rx.assertShapedTo(rateBps, PacingPolicy.burstBytes(rateBps), 10, 28, SLACK_PACKETS, MIN_SHARE);
        System.out.printf("%d bit/s: %.3f Mbit/s at the receiver (kernel timestamps: %s)%n", rateBps, measured / 1e6,
                rx.kernelTimestamps());
        return measured;
    }

    private static void assertDscps(PacketCapture cap, int expectedCount, int dscp) throws Exception {
        if (cap == null) {
            return;
        }
        List<CapturedPacket> got = cap.await(p -> true, expectedCount, Duration.ofSeconds(5));
        assertThat(got).hasSizeGreaterThanOrEqualTo(expectedCount * 95 / 100); // capture may drop a few on lo
        assertThat(got).allSatisfy(p -> assertThat(p.dscp()).isEqualTo(dscp));
    }

    @Test
    void shapeOnlyPacesToTheRateAndSendsUnmarked() throws Exception {
        long rateBps = 8_000_000; // 1,028 B at 8 Mbit/s: one datagram every 1.028 ms
        int n = 800;
        try (ArrivalRecorder rx = ArrivalRecorder.onLoopback();
             DatagramChannel tx = connectedTo(rx.address());
             PacketCapture cap = captureOrNull(rx.address().getPort());
             QosSubsystem qos = QosSubsystem.open()) {
            QosFlow flow = qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
            assertThat(tx.getOption(StandardSocketOptions.IP_TOS)).isEqualTo(0xA0);
            flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_ONLY));
            assertThat(flow.enforcement()).isEqualTo(Enforcement.SEND_PATH);
            assertThat(flow.info().enforcement()).isEqualTo(Enforcement.SEND_PATH);
            assertThat(tx.getOption(StandardSocketOptions.IP_TOS)).as("ShapeOnly: unmarked").isZero();
            assertThat(flow.packetPriority().conformantDscp()).isZero();

            long elapsedNs = sendBlocking(flow, n);
            assertHeldBack((long) n * WIRE, elapsedNs, rateBps);
            assertThat(rx.awaitCount(n, 5_000)).isEqualTo(n);
            assertReceivedAtRate(rx, rateBps);
            assertDscps(cap, n, 0);
        }
    }

    @Test
    void shapeAndMarkPacesToTheRateWithConformantMarks() throws Exception {
        long rateBps = 16_000_000;
        int n = 1500;
        try (ArrivalRecorder rx = ArrivalRecorder.onLoopback();
             DatagramChannel tx = connectedTo(rx.address());
             PacketCapture cap = captureOrNull(rx.address().getPort());
             QosSubsystem qos = QosSubsystem.open()) {
            QosFlow flow = qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
            flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
            assertThat(flow.enforcement()).isEqualTo(Enforcement.SEND_PATH);
            assertThat(flow.packetPriority().conformantDscp()).isEqualTo(40);
            assertHeldBack((long) n * WIRE, sendBlocking(flow, n), rateBps);
            assertThat(rx.awaitCount(n, 5_000)).isEqualTo(n);
            assertReceivedAtRate(rx, rateBps);
            assertDscps(cap, n, 40);
        }
    }

    @Test
    void nonConformantMarkingNeverDelaysAndMarksTheExcess() throws Exception {
        long rateBps = 2_000_000; // 1,028 B every 4.112 ms
        int burst = 300;
        try (ArrivalRecorder rx = ArrivalRecorder.onLoopback();
             DatagramChannel tx = connectedTo(rx.address());
             PacketCapture cap = captureOrNull(rx.address().getPort());
             QosSubsystem qos = QosSubsystem.open()) {
            QosFlow flow = qos.addFlow(tx, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.USE_NON_CONFORMANT_MARKINGS));
            assertThat(flow.enforcement()).isEqualTo(Enforcement.SEND_PATH);
            PacketPriority pp = flow.packetPriority();
            assertThat(pp.conformantDscp()).isEqualTo(56);
            assertThat(pp.nonConformantDscp()).isZero();

            long elapsedNs = sendBlocking(flow, burst);
            // paced, 300 datagrams would take 1.2 s; unpaced they take milliseconds
            assertThat(elapsedNs).as("never delayed").isLessThan(TimeUnit.MILLISECONDS.toNanos(400));
            // then within the rate: one datagram every 10 ms (0.8 Mbit/s) is all conformant
            Thread.sleep(20);
            ByteBuffer buf = ByteBuffer.allocate(PAYLOAD);
            int slow = 30;
            for (int i = 0; i < slow; i++) {
                buf.clear();
                flow.send(buf);
                Thread.sleep(10);
            }
            assertThat(rx.awaitCount(burst + slow, 5_000)).isEqualTo(burst + slow);
            if (cap != null) {
                // tcpdump on lo may lose some of a fast burst: classify what it saw
                List<CapturedPacket> got;
                try {
                    got = cap.await(p -> true, burst + slow, Duration.ofSeconds(3));
                } catch (java.util.concurrent.TimeoutException lost) {
                    got = cap.packets();
                }
                assertThat(got.size()).isGreaterThanOrEqualTo(slow);
                long marked = got.stream().filter(p -> p.dscp() == 56).count();
                long unmarked = got.stream().filter(p -> p.dscp() == 0).count();
                assertThat(marked + unmarked).isEqualTo(got.size());
                // conformant: the 3,000-byte bucket + one datagram, + what the rate allowed during
                // the burst (a few), + the 30 slow ones
                long conformantBurst = (3_000 / WIRE + 1) + (long) (elapsedNs * rateBps / 8e9 / WIRE) + 1;
                assertThat(marked).isBetween(got.size() - burst - 1L, slow + conformantBurst + 2);
                assertThat(unmarked).isGreaterThanOrEqualTo(got.size() - slow - conformantBurst - 2).isPositive();
                // the last slow datagrams are conformant again
                assertThat(got.getLast().dscp()).isEqualTo(56);
            }
        }
    }

    @Test
    void asynchronousSendsCompleteOnThePacerAtTheRateAndCloseAbortsThem() throws Exception {
        long rateBps = 4_000_000; // 2.056 ms per datagram
        int n = 300;
        try (ArrivalRecorder rx = ArrivalRecorder.onLoopback();
             DatagramChannel tx = connectedTo(rx.address())) {
            QosSubsystem qos = QosSubsystem.open();
            QosFlow flow = qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
            flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
            List<CompletableFuture<Integer>> fs = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                ByteBuffer b = ByteBuffer.allocate(PAYLOAD);
                b.putInt(0, i);
                fs.add(flow.sendAsync(null, b, null));
            }
            assertThat(System.nanoTime() - t0).as("submission does not block").isLessThan(200_000_000L);
            CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            assertHeldBack((long) n * WIRE, System.nanoTime() - t0, rateBps);
            assertThat(rx.awaitCount(n, 5_000)).isEqualTo(n);
            assertReceivedAtRate(rx, rateBps);
            assertThat(io.quaver.internal.Engine.embedded().pacer().isRunning()).isTrue();

            // a backlog of 2 s, then close the handle: every pending send completes with 995
            List<CompletableFuture<Integer>> pending = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                pending.add(flow.sendAsync(null, ByteBuffer.allocate(PAYLOAD), null));
            }
            Thread.sleep(50);
            qos.close();
            int aborted = 0;
            for (CompletableFuture<Integer> f : pending) {
                assertThat(f).isDone();
                if (f.isCompletedExceptionally()) {
                    assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class)
                            .cause().isInstanceOfSatisfying(QosException.class,
                                    e -> assertThat(e.error()).isEqualTo(QosError.OPERATION_ABORTED));
                    aborted++;
                }
            }
            assertThat(aborted).isGreaterThan(900);
            assertThatThrownBy(() -> flow.send(ByteBuffer.allocate(10))).isInstanceOfSatisfying(QosException.class,
                    e -> assertThat(e.error()).isEqualTo(QosError.INVALID_HANDLE));
            // the pacer thread stops once no flow needs it
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (io.quaver.internal.Engine.embedded().pacer().isRunning() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(io.quaver.internal.Engine.embedded().pacer().isRunning()).isFalse();
        }
    }

    @Test
    void closingTheHandleAbortsABlockedSender() throws Exception {
        try (ArrivalRecorder rx = ArrivalRecorder.onLoopback();
             DatagramChannel tx = connectedTo(rx.address())) {
            QosSubsystem qos = QosSubsystem.open();
            QosFlow flow = qos.addFlow(tx, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            flow.setOutgoingRate(OutgoingRate.of(64_000, Shaping.SHAPE_AND_MARK)); // 128 ms per datagram
            CompletableFuture<QosError> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    for (int i = 0; i < 100; i++) {
                        flow.send(ByteBuffer.allocate(PAYLOAD));
                    }
                    return null;
                } catch (QosException e) {
                    return e.error();
                }
            });
            Thread.sleep(300);
            qos.close();
            assertThat(outcome.get(2, TimeUnit.SECONDS)).isEqualTo(QosError.OPERATION_ABORTED);
        }
    }

    @Test
    void theSendPathFollowsTheApplicationConnectingAndDisconnectingItsSocket() throws Exception {
        try (ArrivalRecorder registered = ArrivalRecorder.onLoopback();
             ArrivalRecorder peer = ArrivalRecorder.onLoopback();
             DatagramChannel tx = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             QosSubsystem qos = QosSubsystem.open()) {
            QosFlow flow = qos.addFlow(tx, registered.address(), TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
            for (Shaping shaping : new Shaping[] {null, Shaping.SHAPE_ONLY, Shaping.USE_NON_CONFORMANT_MARKINGS}) {
                if (shaping != null) {
                    flow.setOutgoingRate(OutgoingRate.of(1_000_000_000L, shaping));
                }
                int registeredBefore = registered.count();
                int peerBefore = peer.count();
                assertThat(sendBlocking(flow, 3)).isPositive(); // unconnected: to the registered destination
                tx.connect(peer.address()); // connected elsewhere: the JDK writes to the peer
                assertThat(sendBlocking(flow, 4)).isPositive();
                tx.disconnect();
                assertThat(sendBlocking(flow, 5)).isPositive(); // back to the registered destination
                tx.connect(registered.address()); // connected to the registered destination itself
                assertThat(sendBlocking(flow, 6)).isPositive();
                tx.disconnect();
                assertThat(registered.awaitCount(registeredBefore + 14, 5_000)).as("with %s", shaping)
                        .isEqualTo(registeredBefore + 14);
                assertThat(peer.awaitCount(peerBefore + 4, 5_000)).as("with %s", shaping).isEqualTo(peerBefore + 4);
            }
        }
    }

    @Test
    void oneRateCoversEverySocketAndDestinationOfTheFlow() throws Exception {
        long rateBps = 8_000_000;
        int perSocket = 400;
        try (ArrivalRecorder rx1 = ArrivalRecorder.onLoopback();
             ArrivalRecorder rx2 = ArrivalRecorder.onLoopback();
             DatagramChannel a = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             DatagramChannel b = connectedTo(rx2.address());
             QosSubsystem qos = QosSubsystem.open()) {
            QosFlow flow = qos.addFlow(a, rx1.address(), TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
            flow.addSocket(b, null);
            flow.setOutgoingRate(OutgoingRate.of(rateBps, Shaping.SHAPE_AND_MARK));
            assertThatThrownBy(() -> flow.send(ByteBuffer.allocate(1))).isInstanceOfSatisfying(QosException.class,
                    e -> assertThat(e.error()).isEqualTo(QosError.INVALID_PARAMETER));
            ByteBuffer buf = ByteBuffer.allocate(PAYLOAD);
            long t0 = System.nanoTime();
            for (int i = 0; i < perSocket; i++) {
                buf.clear();
                flow.send(a, buf, rx1.address());
                buf.clear();
                flow.send(b, buf, null);
            }
            long elapsed = System.nanoTime() - t0;
            // both sockets together: held back to the one rate, and paced near it
            assertHeldBack(2L * perSocket * WIRE, elapsed, rateBps);
            assertThat(2.0 * perSocket * WIRE * 8e9 / elapsed).as("both sockets together")
                    .isGreaterThanOrEqualTo(rateBps * MIN_SHARE);
            assertThat(rx1.awaitCount(perSocket, 5_000) + rx2.awaitCount(perSocket, 5_000)).isEqualTo(2 * perSocket);
            try (DatagramChannel stranger = DatagramChannel.open()) {
                assertThatThrownBy(() -> flow.send(stranger, ByteBuffer.allocate(1), rx1.address()))
                        .isInstanceOfSatisfying(QosException.class, e -> assertThat(e.error()).isEqualTo(QosError.NOT_FOUND));
            }
        }
    }

    @Test
    void bandwidthZeroRemovesShapingAndMarking() throws Exception {
        try (ArrivalRecorder rx = ArrivalRecorder.onLoopback();
             DatagramChannel tx = connectedTo(rx.address());
             QosSubsystem qos = QosSubsystem.open()) {
            QosFlow flow = qos.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
            io.quaver.internal.Engine.embedded().adaptive().injectEstimates(rx.address(), qos.options().sinkPort(),
                    1_000_000_000L, 1_000_000_000L); // admission control needs estimates (no sink here)
            assertThatThrownBy(flow::outgoingRate).isInstanceOfSatisfying(QosException.class,
                    e -> assertThat(e.error()).isEqualTo(QosError.NO_DATA));
            assertThat(tx.getOption(StandardSocketOptions.IP_TOS)).as("adaptive: unmarked until admitted").isZero();
            flow.setOutgoingRate(new OutgoingRate(1_000_000, Shaping.SHAPE_AND_MARK, FlowRateReason.CONTENT_CHANGE));
            assertThat(tx.getOption(StandardSocketOptions.IP_TOS)).as("admitted").isEqualTo(0xA0);
            assertThat(flow.outgoingRate().bandwidthBps()).isEqualTo(1_000_000);
            assertThat(flow.enforcement()).isEqualTo(Enforcement.SEND_PATH);
            flow.setOutgoingRate(OutgoingRate.of(0, Shaping.SHAPE_AND_MARK));
            assertThat(flow.enforcement()).isEqualTo(Enforcement.NONE);
            assertThat(tx.getOption(StandardSocketOptions.IP_TOS)).isZero();
            assertThat(flow.outgoingRate().bandwidthBps()).isZero();
            // unshaped: 2,000 datagrams go at once
            long elapsed = sendBlocking(flow, 2000);
            assertThat(elapsed).isLessThan(1_000_000_000L);
        }
    }

    @Test
    void aSocketSharedByTwoFlowsCarriesEachFlowsMarksPerDatagram() throws Exception {
        // decisions.md item 21: an unconnected socket serving two destinations in two flows
        try (ArrivalRecorder voice = ArrivalRecorder.onLoopback();
             ArrivalRecorder background = ArrivalRecorder.onLoopback();
             DatagramChannel socket = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             PacketCapture cap = PacketCapture.availability().ok() ? PacketCapture.builder().interfaceName("lo")
                     .filter("udp and (dst port " + voice.address().getPort() + " or dst port "
                             + background.address().getPort() + ")").start() : null;
             QosSubsystem qos = QosSubsystem.open()) {
            QosFlow v = qos.addFlow(socket, voice.address(), TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
            QosFlow b = qos.addFlow(socket, background.address(), TrafficType.BACKGROUND, FlowMode.NON_ADAPTIVE);
            v.setOutgoingRate(OutgoingRate.of(8_000_000, Shaping.SHAPE_AND_MARK));
            int n = 20;
            ByteBuffer buf = ByteBuffer.allocate(100);
            for (int i = 0; i < n; i++) {
                buf.clear();
                v.send(socket, buf, voice.address());
                buf.clear();
                b.send(socket, buf, background.address());
            }
            assertThat(voice.awaitCount(n, 3_000)).isEqualTo(n);
            assertThat(background.awaitCount(n, 3_000)).isEqualTo(n);
            if (cap != null) {
                List<CapturedPacket> got = cap.await(p -> true, 2 * n, Duration.ofSeconds(5));
                for (CapturedPacket p : got) {
                    int expected = p.destinationPort() == voice.address().getPort() ? 56 : 8;
                    assertThat(p.dscp()).as("datagram to port %d", p.destinationPort()).isEqualTo(expected);
                }
            }
        }
    }
}
