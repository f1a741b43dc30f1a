package io.quaver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quaver.testkit.NetnsTestBed.Node;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/// Namespace test bed tests. They need root and iproute2 and skip, with the reason, only where
/// [NetnsTestBed#availability()] says the facility is missing; CI runs them as root.
@ExtendWith(NoLeaksExtension.class)
class NetnsTestBedTest {
    private static final long MS = 1_000_000L;
    private static final int PAYLOAD = 1200;
    /// What tbf/htb count per UDP datagram on a veth beyond the payload: UDP 8 + IPv4 20 + Ethernet 14.
    private static final int L2_OVERHEAD = 42;

    @BeforeEach
    void requireNamespaces() {
        Availability a = NetnsTestBed.availability();
        assumeTrue(a.ok(), a.reason());
    }

    private static DatagramChannel udp(NetnsTestBed bed, Node node, InetAddress bindTo) throws Exception {
        return bed.inNamespace(node, () -> {
            DatagramChannel ch = DatagramChannel.open(bindTo instanceof java.net.Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            ch.bind(new InetSocketAddress(bindTo, 0));
            return ch;
        });
    }

    @Test
    void tbfBottleneckCarriesRateTimesPayloadShare() throws Exception {
        long rateBps = 20_000_000;
        try (var bed = NetnsTestBed.builder().bottleneck(Node.A, Node.B, Shaper.tbf(rateBps)).build();
                var sink = UdpSink.on(udp(bed, Node.B, bed.ipv4(Node.B)));
                var tx = udp(bed, Node.A, bed.ipv4(Node.A))) {
            // A send buffer larger than the tbf queue: tbf, not socket back-pressure, limits the sender.
            tx.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 4 << 20);
            QdiscStats before = bed.qdiscStats(Node.A, Node.B);
            long start = System.nanoTime();
            // The channel was created inside A; it is used from this (host namespace) thread.
            long sent = UdpSink.pace(tx, sink.address(), PAYLOAD, L2_OVERHEAD, rateBps * 13 / 10, 1_500 * MS);
            sink.awaitQuiet(Duration.ofMillis(200), Duration.ofSeconds(5));
            QdiscStats after = bed.qdiscStats(Node.A, Node.B);
            double payloadBps = sink.rateBps(start + 300 * MS, 0);
            double expected = rateBps * (double) PAYLOAD / (PAYLOAD + L2_OVERHEAD);
            long qdiscBytes = after.sentBytes() - before.sentBytes();
            long qdiscPackets = after.sentPackets() - before.sentPackets();
            System.out.printf("tbf 20 Mbit/s: sent %d, received %d, payload %,.0f bit/s (expected %,.0f, %+.2f %%),"
                    + " L2 %,.0f bit/s; qdisc %s, %.1f bytes per packet%n", sent, sink.count(), payloadBps, expected,
                    100 * (payloadBps / expected - 1), sink.rateBps(start + 300 * MS, L2_OVERHEAD), after,
                    qdiscBytes / (double) qdiscPackets);
            assertThat(after.kind()).isEqualTo("tbf");
            assertThat(payloadBps).isCloseTo(expected, within(0.10 * expected));
            // tbf counts each datagram as payload + 42 bytes (a handful of ARP/ND packets aside).
            assertThat(qdiscBytes / (double) qdiscPackets).isCloseTo(PAYLOAD + L2_OVERHEAD, within(5.0));
            assertThat(qdiscPackets).isGreaterThanOrEqualTo(sink.count());
        }
    }

    @Test
    void rateChangeAtRuntimeTakesEffect() throws Exception {
        try (var bed = NetnsTestBed.builder().bottleneck(Node.A, Node.B, Shaper.tbf(20_000_000)).build();
                var sink = UdpSink.on(udp(bed, Node.B, bed.ipv4(Node.B)));
                var tx = udp(bed, Node.A, bed.ipv4(Node.A))) {
            long start = System.nanoTime();
            Thread stepper = Thread.ofPlatform().name("test-stepper").start(() -> {
                sleep(1_000);
                bed.setRateBps(Node.A, Node.B, 5_000_000);
            });
            UdpSink.pace(tx, sink.address(), PAYLOAD, L2_OVERHEAD, 26_000_000, 2_000 * MS);
            stepper.join();
            sink.awaitQuiet(Duration.ofMillis(200), Duration.ofSeconds(5));
            double share = PAYLOAD / (double) (PAYLOAD + L2_OVERHEAD);
            double before = sink.rateBps(start + 300 * MS, start + 950 * MS, 0);
            double after = sink.rateBps(start + 1_300 * MS, start + 1_950 * MS, 0);
            System.out.printf("tbf step 20 → 5 Mbit/s: payload %,.0f then %,.0f bit/s (expected %,.0f, %,.0f)%n",
                    before, after, 20e6 * share, 5e6 * share);
            assertThat(bed.shaper(Node.A, Node.B)).contains(Shaper.tbf(20_000_000).withRateBps(5_000_000));
            assertThat(before).isCloseTo(20e6 * share, within(0.10 * 20e6 * share));
            assertThat(after).isCloseTo(5e6 * share, within(0.10 * 5e6 * share));
        }
    }

    @Test
    void udpEchoWorksOverIpv4AndIpv6() throws Exception {
        try (var bed = NetnsTestBed.builder().build();
                var echo = EchoServer.start(bed, Node.B)) {
            for (InetAddress server : List.of(bed.ipv4(Node.B), bed.ipv6(Node.B))) {
                InetAddress client = server instanceof java.net.Inet6Address ? bed.ipv6(Node.A) : bed.ipv4(Node.A);
                try (var ch = udp(bed, Node.A, client)) {
                    OptionalLong rtt = roundTrip(ch, new InetSocketAddress(server, echo.port()), Duration.ofSeconds(2));
                    System.out.printf("echo %s → %s: %d µs%n", client.getHostAddress(), server.getHostAddress(),
                            rtt.orElse(-1) / 1000);
                    assertThat(rtt).as("echo via " + server).isPresent();
                    assertThat(rtt.getAsLong()).isLessThan(100 * MS);
                }
            }
        }
    }

    @Test
    void threeNodesForwardThroughBWithAnHtbBottleneck() throws Exception {
        assumeTrue(Processes.which("iperf3").isPresent(), "iperf3 not installed");
        try (var bed = NetnsTestBed.builder().nodes(3).bottleneck(Node.B, Node.C, Shaper.htb(10_000_000)).build();
                var echo = EchoServer.start(bed, Node.C)) {
            for (InetAddress server : List.of(bed.ipv4(Node.C), bed.ipv6(Node.C))) {
                InetAddress client = server instanceof java.net.Inet6Address ? bed.ipv6(Node.A) : bed.ipv4(Node.A);
                try (var ch = udp(bed, Node.A, client)) {
                    assertThat(roundTrip(ch, new InetSocketAddress(server, echo.port()), Duration.ofSeconds(2)))
                            .as("A → C via B over " + server).isPresent();
                }
            }
            // An independent measurement with iperf3 (spawned server in C, client run in A).
            String c = bed.ipv4(Node.C).getHostAddress();
            SpawnedProcess server = bed.spawn(Node.C, "iperf3", "-s", "-1", "--forceflush", "-B", c);
            assertThat(server.awaitOutput("Server listening", Duration.ofSeconds(5))).as(server.stderr()).isTrue();
            ExecResult run = bed.exec(Node.A, Duration.ofSeconds(15), "iperf3", "-c", c, "-u", "-b", "15M", "-l",
                    Integer.toString(PAYLOAD), "-t", "2", "--json").orThrow();
            double received = jsonNumber(run.stdout(), "sum_received", "bits_per_second");
            double expected = 10e6 * PAYLOAD / (PAYLOAD + L2_OVERHEAD);
            System.out.printf("htb 10 Mbit/s B → C, iperf3 UDP from A: received %,.0f bit/s (expected %,.0f, %+.2f %%);"
                    + " qdisc %s%n", received, expected, 100 * (received / expected - 1), bed.qdiscStats(Node.B, Node.C));
            assertThat(received).isCloseTo(expected, within(0.10 * expected));
            assertThat(bed.qdiscStats(Node.B, Node.C).kind()).isEqualTo("htb");
        }
    }

    @Test
    void linkDownCutsTrafficAndLinkUpRestoresItWithRoutesAndShaper() throws Exception {
        try (var bed = NetnsTestBed.builder().nodes(3).bottleneck(Node.A, Node.B, Shaper.tbf(50_000_000)).build();
                var echo = EchoServer.start(bed, Node.C);
                var ch = udp(bed, Node.A, bed.ipv4(Node.A))) {
            var target = new InetSocketAddress(bed.ipv4(Node.C), echo.port());
            assertThat(roundTrip(ch, target, Duration.ofSeconds(2))).isPresent();
            bed.linkDown(Node.A, Node.B);
            assertThat(roundTrip(ch, target, Duration.ofMillis(300))).isEmpty();
            bed.linkUp(Node.A, Node.B);
            assertThat(roundTrip(ch, target, Duration.ofSeconds(2))).isPresent();
            assertThat(bed.qdiscStats(Node.A, Node.B).kind()).isEqualTo("tbf");
        }
    }

    @Test
    void aCallerInterruptedWhileItsTaskRunsGetsTheInterruptAndTheTasksSocketIsClosed() throws Exception {
        try (var bed = NetnsTestBed.builder().build()) {
            var started = new java.util.concurrent.CountDownLatch(1);
            var opened = new java.util.concurrent.atomic.AtomicReference<DatagramChannel>();
            var thrown = new java.util.concurrent.atomic.AtomicReference<Throwable>();
            Thread caller = Thread.ofPlatform().start(() -> {
                try {
                    bed.inNamespace(Node.A, () -> {
                        started.countDown();
                        Thread.sleep(300); // the caller is interrupted meanwhile
                        DatagramChannel ch = DatagramChannel.open();
                        opened.set(ch);
                        return ch;
                    });
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            started.await();
            caller.interrupt();
            caller.join();
            assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
            assertThat(opened.get()).as("the task ran to its end").isNotNull();
            assertThat(opened.get().isOpen()).as("its socket was closed, not orphaned").isFalse();
        }
    }

    @Test
    void inNamespaceRunsOnAThreadInsideTheNamespace() throws Exception {
        try (var bed = NetnsTestBed.builder().build()) {
            String host = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
            String inside = bed.inNamespace(Node.A,
                    () -> Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString());
            // Looked up through an AF_INET socket: only the namespace's own interfaces exist.
            boolean vethInside = bed.inNamespace(Node.A, () -> NetworkInterface.getByName("to-b") != null);
            boolean vethOutside = NetworkInterface.getByName("to-b") != null;
            String threadName = bed.inNamespace(Node.B, () -> Thread.currentThread().getName());
            assertThat(inside).isNotEqualTo(host).startsWith("net:[");
            assertThat(vethInside).isTrue();
            assertThat(vethOutside).isFalse();
            assertThat(threadName).isEqualTo("quaver-netns-" + bed.namespace(Node.B));
            assertThatThrownBy(() -> bed.inNamespace(Node.A, () -> {
                throw new IOException("thrown inside");
            })).isInstanceOf(IOException.class).hasMessage("thrown inside");
            // The bed configured the namespace from Java (DAD off, B forwarding only with 3 nodes).
            assertThat(bed.exec(Node.A, "sysctl", "-n", "net.ipv6.conf.all.accept_dad").orThrow().stdout().strip())
                    .isEqualTo("0");
            assertThat(bed.exec(Node.B, "sysctl", "-n", "net.ipv4.ip_forward").orThrow().stdout().strip())
                    .isEqualTo("0");
            ExecResult addr = bed.exec(Node.A, "ip", "-o", "addr", "show", "dev", "to-b").orThrow();
            assertThat(addr.stdout()).contains("198.18.1.1/24").contains("fd00:5156:0:1::1/64").doesNotContain("tentative");
            assertThat(bed.exec(Node.A, "false").ok()).isFalse();
            assertThat(bed.exec(Node.A, Duration.ofMillis(200), "sleep", "5").timedOut()).isTrue();
        }
    }

    @Test
    void closeDeletesNamespacesAndKillsSpawnedProcesses() throws Exception {
        List<String> names;
        SpawnedProcess sleeper;
        try (var bed = NetnsTestBed.builder().nodes(3).build()) {
            names = bed.nodes().stream().map(bed::namespace).toList();
            assertThat(names).allMatch(n -> n.startsWith("qv-" + ProcessHandle.current().pid() + "-"));
            assertThat(NetnsTestBed.ownedNamespaces()).containsAll(names);
            sleeper = bed.spawn(Node.B, "sleep", "600");
            // `ip netns exec` enters the namespace just after it starts: ask until it has.
            String identified = "";
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!identified.equals(bed.namespace(Node.B)) && System.nanoTime() < deadline) {
                identified = bed.exec(Node.B, "ip", "netns", "identify", Long.toString(sleeper.pid())).stdout().strip();
            }
            assertThat(identified).isEqualTo(bed.namespace(Node.B));
        }
        assertThat(sleeper.isAlive()).isFalse();
        String list = Processes.run(List.of("ip", "netns", "list"), Duration.ofSeconds(5)).orThrow().stdout();
        assertThat(names).noneMatch(list::contains);
        assertThat(NetnsTestBed.ownedNamespaces()).doesNotContainAnyElementsOf(names);
    }

    @Test
    void staleNamespacesOfDeadJvmsAreDeletedAndOthersKept() throws Exception {
        long me = ProcessHandle.current().pid();
        long dead = deadPid();
        String ours = NetnsTestBed.startTokenOfThisJvm();
        String deadOwner = NetnsTestBed.nameFor(dead, ours, "0badf0", "a");
        String pidReused = NetnsTestBed.nameFor(me, "zzzzzz", "0badf1", "a");
        String alive = NetnsTestBed.nameFor(me, ours, "0badf2", "a");
        String foreign = "qv-handmade-" + me;
        List<String> all = List.of(deadOwner, pidReused, alive, foreign);
        try {
            for (String n : all) {
                Processes.run(List.of("ip", "netns", "add", n), Duration.ofSeconds(5)).orThrow();
            }
            List<String> deleted = NetnsTestBed.cleanupStale();
            String list = Processes.run(List.of("ip", "netns", "list"), Duration.ofSeconds(5)).orThrow().stdout();
            assertThat(deleted).contains(deadOwner, pidReused).doesNotContain(alive, foreign);
            assertThat(list).doesNotContain(deadOwner).doesNotContain(pidReused).contains(alive).contains(foreign);
        } finally {
            for (String n : all) {
                Processes.run(List.of("ip", "netns", "del", n), Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void availabilityExplainsItself() {
        Availability a = NetnsTestBed.availability();
        assertThat(a.reason()).contains("available");
    }

    private static long deadPid() throws IOException {
        // (Files.readString misreads procfs files, which report size 0, on JDK 25: read lines.)
        long max = Long.parseLong(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max")).getFirst().strip());
        for (long pid = max - 1; pid > 1; pid--) {
            if (ProcessHandle.of(pid).isEmpty()) {
                return pid;
            }
        }
        throw new IllegalStateException("no free pid");
    }

    /// Sends a datagram and waits for the echo; empty on timeout or network error.
    private static OptionalLong roundTrip(DatagramChannel ch, SocketAddress to, Duration timeout) throws IOException {
        long t0 = System.nanoTime();
        byte[] msg = ("ping-" + t0).getBytes();
        try {
            ch.send(ByteBuffer.wrap(msg), to);
        } catch (IOException unreachable) {
            return OptionalLong.empty();
        }
        var socket = ch.socket();
        socket.setSoTimeout((int) timeout.toMillis());
        var packet = new DatagramPacket(new byte[100], 100);
        try {
            while (true) {
                socket.receive(packet);
                if (new String(packet.getData(), 0, packet.getLength()).equals(new String(msg))) {
                    return OptionalLong.of(System.nanoTime() - t0);
                }
            }
        } catch (SocketTimeoutException e) {
            return OptionalLong.empty();
        }
    }

    private static double jsonNumber(String json, String object, String key) {
        Matcher m = Pattern.compile("\"" + object + "\"\\s*:\\s*\\{[^}]*\"" + key + "\"\\s*:\\s*([0-9.eE+-]+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + object + "." + key + " in " + json);
        }
        return Double.parseDouble(m.group(1));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /// A UDP echo server on a dual-stack socket created inside a node, served by a platform thread.
    record EchoServer(DatagramChannel channel, Thread thread, int port) implements AutoCloseable {
        static EchoServer start(NetnsTestBed bed, Node node) throws Exception {
            DatagramChannel ch = bed.inNamespace(node, () -> DatagramChannel.open().bind(new InetSocketAddress(0)));
            Thread t = Thread.ofPlatform().name("test-echo").daemon(true).start(() -> {
                ByteBuffer buf = ByteBuffer.allocate(2_000);
                try {
                    while (true) {
                        buf.clear();
                        SocketAddress from = ch.receive(buf);
                        buf.flip();
                        ch.send(buf, from);
                    }
                } catch (IOException closed) {
                    // done
                }
            });
            return new EchoServer(ch, t, ((InetSocketAddress) ch.getLocalAddress()).getPort());
        }

        @Override
        public void close() throws IOException {
            channel.close();
            try {
                thread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
