package io.quaver.internal.daemon;

import io.quaver.FlowInfo;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// Daemon mode end to end with an in-process daemon on a temporary socket path.
class DaemonTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    @TempDir
    Path dir;
    private DaemonFixture fx;
    private DatagramChannel receiver;

    @BeforeEach
    void setUp() throws Exception {
        fx = new DaemonFixture(dir);
        receiver = fx.later(DatagramChannel.open().bind(new InetSocketAddress(LOOPBACK, 0)));
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    private DatagramChannel udp() throws Exception {
        DatagramChannel ch = fx.later(DatagramChannel.open());
        ch.connect(receiver.getLocalAddress());
        return ch;
    }

    private static int tos(DatagramChannel ch) throws Exception {
        return ch.getOption(StandardSocketOptions.IP_TOS);
    }

    private static void assertError(ThrowingCallable call, QosError error) {
        assertThatThrownBy(call).isInstanceOfSatisfying(QosException.class,
                e -> assertThat(e.error()).as(e.getMessage()).isEqualTo(error));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void aFlowThroughTheDaemonGetsThePolicysMarksOnItsSocketAndLosesThemWhenRemoved() throws Exception {
        fx.start(DaemonPolicy.parse(fx.policyFile("""
                # video gets EF here
                marks.audio_video = 46/5
                marks.voice = 34
                """)), -1);
        QosSubsystem qos = fx.handle();
        DatagramChannel ch = udp();
        QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
        assertThat(tos(ch)).isEqualTo(46 << 2);
        assertThat(flow.packetPriority().conformantDscp()).isEqualTo(46);
        flow.setTrafficType(TrafficType.VOICE);
        assertThat(tos(ch)).isEqualTo(34 << 2);
        flow.setTrafficType(TrafficType.BACKGROUND); // not in the file: qWAVE's CS1
        assertThat(tos(ch)).isEqualTo(8 << 2);
        FlowInfo info = flow.info();
        assertThat(info.trafficType()).isEqualTo(TrafficType.BACKGROUND);
        assertThat(info.members()).singleElement().satisfies(m -> {
            assertThat(m.destination()).isEqualTo(receiver.getLocalAddress());
            assertThat(m.local()).isEqualTo(ch.getLocalAddress());
        });
        assertThat(fx.daemon.hostEngine().liveFlowCount()).isEqualTo(1);

        flow.setOutgoingRate(OutgoingRate.of(200_000, Shaping.SHAPE_ONLY)); // ShapeOnly: unmarked
        assertThat(tos(ch)).isZero();
        assertThat(flow.send(ByteBuffer.allocate(100))).isEqualTo(100); // the send path runs here
        assertThat(flow.outgoingRate().bandwidthBps()).isEqualTo(200_000);

        flow.close();
        assertThat(tos(ch)).isZero();
        assertThat(fx.daemon.hostEngine().liveFlowCount()).isZero();
        assertError(() -> qos.flow(flow.id()), QosError.NOT_FOUND);
    }

    @Test
    void enumerationSeesTheFlowsOfTwoHandlesWithTheirOwners() throws Exception {
        fx.start();
        QosFlow a = fx.handle().addFlow(udp(), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        QosFlow b = fx.handle().addFlow(udp(), null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        QosSubsystem third = fx.handle();
        assertThat(third.isPrivileged()).isTrue(); // root, and the default policy's privileged users
        assertThat(third.enumerateFlows()).extracting(FlowInfo::flowId).containsExactlyInAnyOrder(a.id(), b.id());
        try (DaemonClient cli = DaemonClient.open(fx.socket)) {
            List<DaemonFlow> rows = cli.flows();
            assertThat(rows).extracting(r -> r.info().trafficType())
                    .containsExactlyInAnyOrder(TrafficType.VOICE, TrafficType.AUDIO_VIDEO);
            assertThat(rows).extracting(DaemonFlow::owner).doesNotHaveDuplicates()
                    .allSatisfy(o -> assertThat(o).startsWith("root#"));
            assertThat(rows).filteredOn(r -> r.info().flowId() == a.id()).singleElement()
                    .satisfies(r -> assertThat(r.info().applied().conformantDscp()).isEqualTo(56));
            assertThat(cli.metrics().flowsActive()).isEqualTo(2);
        }
    }

    @Test
    void whenTheDaemonGoesAwayTheHandleGets1164AndANewHandleWorksOnceItIsBack() throws Exception {
        fx.start();
        QosSubsystem qos = fx.handle();
        DatagramChannel ch = udp();
        QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        QosFlow plain = qos.addFlow(udp(), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        CompletableFuture<Void> congested = flow.notifyCongested();
        assertThat(congested).isNotDone();
        assertThat(plain.send(ByteBuffer.allocate(10))).isEqualTo(10); // its send path is kept

        fx.daemon.close();
        assertThatThrownBy(() -> congested.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(QosException.class,
                        e -> assertThat(e.error()).isEqualTo(QosError.DEVICE_REINITIALIZATION_NEEDED));
        assertError(() -> plain.setTrafficType(TrafficType.CONTROL), QosError.DEVICE_REINITIALIZATION_NEEDED);
        assertError(() -> plain.send(ByteBuffer.allocate(10)), QosError.DEVICE_REINITIALIZATION_NEEDED);
        assertError(() -> qos.addFlow(ch, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE),
                QosError.DEVICE_REINITIALIZATION_NEEDED);
        assertError(qos::enumerateFlows, QosError.DEVICE_REINITIALIZATION_NEEDED);
        assertError(qos::metrics, QosError.DEVICE_REINITIALIZATION_NEEDED);
        assertThat(tos(ch)).isZero(); // the flows went here too
        assertError(() -> fx.handle(), QosError.CONNECTION_REFUSED);

        fx.start();
        QosSubsystem again = fx.handle();
        again.addFlow(ch, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertThat(tos(ch)).isEqualTo(56 << 2);
        assertThat(qos.closeOnce()).isTrue();
        assertError(qos::metrics, QosError.INVALID_HANDLE);
    }

    @Test
    void admissionAndNotificationsAreTheDaemonsAndReachTheApplication() throws Exception {
        fx.start();
        fx.confineProbers(); // no sink answers: estimates only as injected below
        QosSubsystem qos = fx.handle();
        DatagramChannel ch = udp();
        InetSocketAddress dest = (InetSocketAddress) receiver.getLocalAddress();
        QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        assertThat(tos(ch)).isZero(); // adaptive: unmarked until a rate is admitted
        assertError(() -> flow.setOutgoingRate(OutgoingRate.of(1_000_000, Shaping.SHAPE_AND_MARK)),
                QosError.RETRY); // no estimates yet
        var adaptive = fx.daemon.hostEngine().adaptive();
        int sinkPort = fx.daemon.sinkPort();
        adaptive.injectEstimates(dest, sinkPort, 100_000_000, 50_000_000);
        flow.setOutgoingRate(OutgoingRate.of(1_000_000, Shaping.SHAPE_AND_MARK));
        assertThat(tos(ch)).isEqualTo(0x28 << 2); // admitted: the policy's marks, on this socket
        assertThat(flow.enforcement()).isEqualTo(io.quaver.Enforcement.SEND_PATH);

        CompletableFuture<Void> congested = flow.notifyCongested();
        assertError(flow::notifyCongested, QosError.ALREADY_EXISTS);
        adaptive.forceCongestion(dest, sinkPort, true);
        assertThat(congested.get(10, TimeUnit.SECONDS)).isNull();
        CompletableFuture<Long> available = flow.notifyAvailable(2_000_000);
        adaptive.forceCongestion(dest, sinkPort, false);
        adaptive.injectAvailable(dest, sinkPort, System.nanoTime(), 40_000_000);
        assertThat(available.get(10, TimeUnit.SECONDS)).isPositive();

        CompletableFuture<Void> cancelled = flow.notifyCongested();
        await(() -> adaptive.pendingCount() == 1, "the request is pending at the daemon");
        cancelled.cancel(true);
        await(() -> adaptive.pendingCount() == 0, "the cancel reached the daemon");
        CompletableFuture<Void> aborted = flow.notifyCongested();
        flow.close();
        assertThatThrownBy(() -> aborted.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(QosException.class,
                        e -> assertThat(e.error()).isEqualTo(QosError.OPERATION_ABORTED));
        assertThat(tos(ch)).isZero();
        assertThat(qos.metrics().admissionsAccepted()).isEqualTo(1);
    }

    @Test
    void marksTheDaemonChangesAfterTheFlowWasCreatedReachTheClientsSocket() throws Exception {
        fx.start();
        fx.confineProbers(); // no sink answers: estimates and route checks only as injected below
        QosSubsystem qos = fx.handle();
        DatagramChannel ch = udp();
        InetSocketAddress dest = (InetSocketAddress) receiver.getLocalAddress();
        QosFlow flow = qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        fx.daemon.hostEngine().adaptive().injectEstimates(dest, fx.daemon.sinkPort(), 100_000_000, 50_000_000);
        flow.setOutgoingRate(OutgoingRate.of(1_000_000, Shaping.SHAPE_AND_MARK));
        assertThat(tos(ch)).isEqualTo(40 << 2);
        var platform = io.quaver.internal.platform.Platform.current();
        int own = platform.priority(ch).orElseThrow();
        assertThat(flow.packetPriority().conformantL2()).isZero(); // no route check yet: no 802.1p

        // the route check passes later, on the daemon's prober: the 802.1p tag reaches this socket
        fx.daemon.hostEngine().routeChecked(LOOPBACK, fx.daemon.sinkPort(), true);
        await(() -> platform.priority(ch).orElse(-1) == 5, "the 802.1p user priority is on the client's socket");
        assertThat(flow.packetPriority().conformantL2()).isEqualTo(5);
        assertThat(tos(ch)).isEqualTo(40 << 2);
        // and a failed one takes it away again
        fx.daemon.hostEngine().routeChecked(LOOPBACK, fx.daemon.sinkPort(), false);
        await(() -> platform.priority(ch).orElse(-1) == own, "the socket's own priority is back");
        assertThat(flow.packetPriority().conformantL2()).isZero();
        flow.close();
        assertThat(platform.priority(ch).orElseThrow()).isEqualTo(own);
    }

    @Test
    void theDaemonsSinkCountsWhatItCannotServe() throws Exception {
        fx.start();
        QosSubsystem qos = fx.handle();
        long before = qos.metrics().sinkMessagesMalformed();
        try (DatagramChannel junk = DatagramChannel.open()) {
            junk.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), new InetSocketAddress(LOOPBACK, fx.daemon.sinkPort()));
        }
        await(() -> qos.metrics().sinkMessagesMalformed() == before + 1, "the sink counted the malformed datagram");
        assertThat(fx.daemon.metrics().sinkMessagesMalformed()).isEqualTo(before + 1);
    }

    @Test
    void aClientThatCrashesLosesItsFlowsAndTheDaemonStaysUp() throws Exception {
        fx.start();
        SocketChannel raw = fx.raw();
        DaemonFixture.send(raw, ControlProtocol.HELLO, 1, DaemonFixture.hello(ControlProtocol.VERSION));
        assertThat(DaemonFixture.read(raw).type()).isEqualTo(ControlProtocol.OK);
        for (int i = 0; i < 3; i++) {
            DaemonFixture.send(raw, ControlProtocol.ADD_FLOW, 2 + i, new Wire.Writer().i32(i).bool(false)
                    .addr(new InetSocketAddress(LOOPBACK, 5004 + i)).u8(TrafficType.VOICE.ordinal())
                    .u8(i == 0 ? FlowMode.ADAPTIVE.ordinal() : FlowMode.NON_ADAPTIVE.ordinal()));
            assertThat(DaemonFixture.read(raw).type()).isEqualTo(ControlProtocol.OK);
        }
        assertThat(fx.daemon.hostEngine().liveFlowCount()).isEqualTo(3);
        raw.close(); // the process died
        await(() -> fx.daemon.hostEngine().liveFlowCount() == 0, "the crashed client's flows are removed");
        await(() -> fx.daemon.connectionCount() == 0, "the connection is gone");
        fx.handle().addFlow(udp(), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertThat(fx.daemon.hostEngine().liveFlowCount()).isEqualTo(1);
    }

    @Test
    void anUnknownProtocolVersionIsRefusedWithAClearError() throws Exception {
        fx.start();
        SocketChannel raw = fx.raw();
        DaemonFixture.send(raw, ControlProtocol.HELLO, 7, DaemonFixture.hello(99));
        ControlProtocol.Frame reply = DaemonFixture.read(raw);
        assertThat(reply.type()).isEqualTo(ControlProtocol.ERROR);
        assertThat(reply.requestId()).isEqualTo(7);
        QosException e = DaemonClient.remoteError(reply.reader());
        assertThat(e.error()).isEqualTo(QosError.NOT_SUPPORTED);
        assertThat(e.getMessage()).contains("version 99").contains("version " + ControlProtocol.VERSION);
        assertThat(raw.read(ByteBuffer.allocate(1))).isEqualTo(-1); // and the daemon hung up

        SocketChannel noHello = fx.raw();
        DaemonFixture.send(noHello, ControlProtocol.METRICS, 1, null);
        assertThat(DaemonFixture.read(noHello).type()).isEqualTo(ControlProtocol.ERROR);
    }

    @Test
    void privilegeFollowsThePeerCredentialsAndThePolicy() throws Exception {
        fx.start(DaemonPolicy.parse(fx.policyFile("privileged-users = someone-else\nprivileged-groups =\n")), -1);
        QosSubsystem qos = fx.handle(QosOptions.defaults().withPrivileged(true));
        assertThat(qos.isPrivileged()).isFalse(); // root, but not in the policy
        QosFlow flow = qos.addFlow(udp(), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertError(() -> flow.setOutgoingDscp(46), QosError.ACCESS_DENIED);
        assertError(qos::enumerateFlows, QosError.ACCESS_DENIED);
        qos.close();
        fx.daemon.close();

        fx.start(DaemonPolicy.parse(fx.policyFile("privileged-users =\nprivileged-groups = root\n")), -1);
        QosSubsystem root = fx.handle(QosOptions.defaults());
        assertThat(root.isPrivileged()).isTrue(); // by its group
        DatagramChannel ch = udp();
        QosFlow f = root.addFlow(ch, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        f.setOutgoingDscp(46);
        assertThat(tos(ch)).isEqualTo(46 << 2);
        assertThat(fx.handle(QosOptions.defaults().withPrivileged(false)).isPrivileged()).isFalse();
    }

    @Test
    void policyFilesAreParsedAndBadOnesReportedWithFileAndLine() throws Exception {
        DaemonPolicy p = DaemonPolicy.parse(fx.policyFile("""
                marks.voice = 46/6   # EF
                marks.non_conformant = 1/0
                off-link-experiments = yes
                privileged-users = root, media
                tracking-grace-seconds = 5
                """));
        assertThat(p.marks().marks(TrafficType.VOICE)).isEqualTo(new io.quaver.Marks(46, 6));
        assertThat(p.marks().marks(TrafficType.CONTROL)).isEqualTo(new io.quaver.Marks(0x38, 7));
        assertThat(p.marks().nonConformant()).isEqualTo(new io.quaver.Marks(1, 0));
        assertThat(p.offLinkExperiments()).isTrue();
        assertThat(p.privilegedUsers()).containsExactlyInAnyOrder("root", "media");
        assertThat(p.trackingGrace()).hasSeconds(5);
        for (String bad : List.of("marks.voice = 64", "marks.video = 46", "marks.voice = 46/8", "colour = blue",
                "no equals sign", "off-link-experiments = maybe", "tracking-grace-seconds = -1",
                "marks.voice = 46\nmarks.voice = 40")) {
            Path file = fx.policyFile("# a comment\n" + bad + "\n");
            assertThatThrownBy(() -> DaemonPolicy.parse(file)).isInstanceOfSatisfying(QosException.class, e -> {
                assertThat(e.error()).isEqualTo(QosError.INVALID_PARAMETER);
                assertThat(e.getMessage()).contains(file + ":" + (bad.contains("\n") ? 3 : 2) + ": ");
            });
        }
        assertError(() -> DaemonPolicy.parse(dir.resolve("missing.conf")), QosError.NOT_FOUND);
    }

    @Test
    void thePrometheusEndpointServesTheCounters() throws Exception {
        fx.start(DaemonPolicy.defaults(), 0);
        fx.handle().addFlow(udp(), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        String response;
        try (Socket http = new Socket(LOOPBACK, fx.daemon.metricsPort())) {
            http.getOutputStream().write("GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            response = new String(http.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        int split = response.indexOf("\r\n\r\n");
        String head = response.substring(0, split).toLowerCase(java.util.Locale.ROOT);
        String body = response.substring(split + 4);
        assertThat(head).startsWith("http/1.1 200").contains("content-type: " + MetricsEndpoint.CONTENT_TYPE);
        assertThat(body).contains("# TYPE quaver_flows_active_flows gauge\n")
                .contains("\nquaver_flows_active_flows 1\n")
                .contains("# TYPE quaver_flows_created_flows_total counter\n")
                .contains("\nquaver_flows_created_flows_total 1\n")
                .contains("quaver_notifications_total{type=\"congested\"} 0\n")
                .contains("quaver_probe_bytes_total ");
        for (String line : body.split("\n")) {
            assertThat(line).matches("# (HELP|TYPE) quaver_[a-z_]+ .+|quaver_[a-z_]+(\\{[a-z]+=\"[a-z_]+\"})? \\d+");
        }
    }
}
