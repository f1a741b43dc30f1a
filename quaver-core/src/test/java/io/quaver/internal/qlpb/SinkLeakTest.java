package io.quaver.internal.qlpb;

import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.internal.qlpb.QlpbMessage.Discard;
import io.quaver.internal.qlpb.QlpbMessage.HandshakeSuccess;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairHandshake;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairProbe;
import io.quaver.internal.qlpb.QlpbMessage.ProbegapProbe;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckHandshake;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static io.quaver.internal.qlpb.TestInitiator.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/// Closing a sink in the middle of everything leaks neither threads (platform or virtual)
/// nor file descriptors.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SinkLeakTest {
    private static final Path FDS = Path.of("/proc/self/fd");

    /// Names of live platform threads, without the JDK's own pools that start on first use
    /// (virtual-thread carriers and unparkers, common pool).
    private static Set<String> platformThreadNames() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> !n.startsWith("ForkJoinPool") && !n.startsWith("VirtualThread-")
                        && !n.startsWith("Attach Listener") && !n.startsWith("process reaper"))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /// What this process's file descriptors point to (sockets, pipes, files), sorted.
    private static List<String> openFds() {
        try (var list = Files.list(FDS)) {
            return list.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return "gone"; // the directory stream's own fd, closed meanwhile
                }
            }).filter(t -> !t.equals("gone")).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /// Every thread of the JVM, virtual ones included: a JSON thread dump taken with the
    /// JDK's `jcmd` (the test module does not read `jdk.management`).
    private static String threadDump() throws IOException, InterruptedException {
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
        Path jcmd = java.resolveSibling("jcmd");
        File file = File.createTempFile("quaver-threads", ".json");
        file.delete();
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(ProcessHandle.current().pid()),
                    "Thread.dump_to_file", "-format=json", file.getPath()).redirectErrorStream(true).start();
            String output;
            try (InputStream in = p.getInputStream(); OutputStream ignored = p.getOutputStream()) {
                output = new String(in.readAllBytes());
            }
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(file).as("jcmd output: %s", output).exists();
            return Files.readString(file.toPath());
        } finally {
            file.delete();
        }
    }

    /// Opens sessions of every kind, with work in flight, then closes the sink.
    private static List<TestInitiator> busySink(QosSink sink, InetAddress host) throws IOException {
        List<TestInitiator> initiators = new ArrayList<>();
        TestInitiator pp = new TestInitiator(host, sink.port());
        initiators.add(pp);
        pp.send(new PacketPairHandshake());
        assertThat(pp.receive()).isEqualTo(new HandshakeSuccess());
        for (int i = 0; i < 5; i++) { // half a train
            pp.sendProbe(new PacketPairProbe(pp.initiatorPort(), 10, i, i == 0, 500));
        }
        TestInitiator rc = new TestInitiator(host, sink.port());
        initiators.add(rc);
        rc.send(new RouteCheckHandshake());
        assertThat(rc.receive()).isEqualTo(new HandshakeSuccess());
        TestInitiator flood = new TestInitiator(host, sink.port());
        initiators.add(flood);
        flood.send(new Discard());
        OutputStream out = flood.tcp().getOutputStream();
        byte[] chunk = new byte[64 * 1024];
        for (int i = 0; i < 8; i++) {
            out.write(chunk);
        }
        TestInitiator silent = new TestInitiator(host, sink.port()); // never says anything
        initiators.add(silent);
        pp.sendProbe(new ProbegapProbe(1, 1, 0, 0, new byte[10]));
        assertThat(eventually(Duration.ofSeconds(5), () -> sink.stats().sessionsActive() == 4
                && sink.stats().discardedBytes() > 0 && sink.stats().probegapsReflected() == 1)).isTrue();
        return initiators;
    }

    @Test
    void closeWithSessionsInProgressLeaksNoThreadsAndNoFds() throws Exception {
        InetAddress host = InetAddress.getByName("127.0.0.1");
        SinkOptions options = SinkOptions.defaults().withBindAddress(host).withPort(0);
        // warm-up: let the JDK open what it keeps for good (virtual-thread poller, carriers)
        try (QosSink warm = QosSink.start(options)) {
            for (TestInitiator i : busySink(warm, host)) {
                i.close();
            }
        }
        assertThat(eventually(Duration.ofSeconds(5), () -> platformThreadNames().stream()
                .noneMatch(n -> n.startsWith("quaver-sink")))).isTrue();
        assertThat(threadDump()).doesNotContain("quaver-sink-"); // also starts the attach listener for good
        Set<String> threadsBefore = platformThreadNames();
        int fdsBefore = openFds().size();

        QosSink sink = QosSink.start(options);
        List<TestInitiator> initiators = busySink(sink, host);
        assertThat(platformThreadNames()).anyMatch(n -> n.startsWith("quaver-sink-udp-"));
        assertThat(threadDump()).contains("quaver-sink-session-").contains("quaver-sink-writer-")
                .contains("quaver-sink-accept-");

        sink.close();

        for (TestInitiator i : initiators) {
            assertThat(i.closedBySink(Duration.ofSeconds(5))).as("connection closed by the sink").isTrue();
            i.close();
        }
        assertThat(platformThreadNames()).isEqualTo(threadsBefore);
        assertThat(threadDump()).doesNotContain("quaver-sink-");
        assertThat(eventually(Duration.ofSeconds(5), () -> openFds().size() == fdsBefore))
                .as("open fds: %d before, now %s", fdsBefore, openFds()).isTrue();
    }

    @Test
    void engineJoinsEveryThreadItStarted() throws Exception {
        InetAddress host = InetAddress.getByName("::1");
        SinkEngine engine = SinkEngine.start(SinkOptions.defaults().withBindAddress(host).withPort(0));
        List<TestInitiator> initiators = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            TestInitiator t = new TestInitiator(host, engine.port());
            initiators.add(t);
            t.send(new PacketPairHandshake());
        }
        for (TestInitiator t : initiators) {
            assertThat(t.receive()).isEqualTo(new HandshakeSuccess());
        }
        assertThat(engine.liveThreadCount()).isEqualTo(2 + 2 * 10);
        engine.close();
        assertThat(engine.liveThreadCount()).isZero();
        assertThat(engine.stats().sessionsActive()).isZero();
        for (TestInitiator t : initiators) {
            t.close();
        }
    }
}
