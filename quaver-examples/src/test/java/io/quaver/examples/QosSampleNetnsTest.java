package io.quaver.examples;

import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.examples.QosSample.Kind;
import io.quaver.examples.QosSample.Transition;
import io.quaver.internal.Engine;
import io.quaver.internal.platform.NetNamespace;
import io.quaver.internal.probe.ProbeSockets;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import io.quaver.testkit.Shaper;
import io.quaver.testkit.SpawnedProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/// The SDK sample's adaptive loop ([QosSample]) on the namespace test bed: the program runs in
/// namespace A, a sink and a counting receiver in B, with a 10 Mbit/s `tbf` bottleneck A → B.
/// UDP cross traffic (iperf3, A → B, 12 Mbit/s) congests the bottleneck; the program must see
/// Congested and drop to a tenth, and once the cross traffic stops, see Available and restore
/// its rate — and the rate measured at the receiver must follow.
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class QosSampleNetnsTest {
    private static final long BOTTLENECK_BPS = 10_000_000L;
    private static final long RATE_BPS = 3_000_000L;
    private static final long BIN_NS = 100_000_000L;

    /// Counts the sample's datagrams at B in 100 ms bins.
    private static final class Receiver implements AutoCloseable {
        final AtomicLongArray bytes = new AtomicLongArray(4_000);
        final long t0 = System.nanoTime();
        final DatagramChannel channel;
        final Thread thread;

        Receiver(DatagramChannel channel) {
            this.channel = channel;
            this.thread = Thread.ofPlatform().name("sample-receiver").daemon().start(this::loop);
        }

        private void loop() {
            ByteBuffer b = ByteBuffer.allocate(2048);
            try {
                while (true) {
                    b.clear();
                    channel.receive(b);
                    int bin = (int) ((System.nanoTime() - t0) / BIN_NS);
                    if (bin < bytes.length()) {
                        bytes.addAndGet(bin, b.position());
                    }
                }
            } catch (IOException e) {
                // closed
            }
        }

        /// Payload bits/s received over the `window` ending now.
        double rateBps(Duration window) {
            int end = (int) ((System.nanoTime() - t0) / BIN_NS); // the current bin is incomplete
            int bins = (int) (window.toNanos() / BIN_NS);
            long sum = 0;
            for (int i = Math.max(0, end - bins); i < end; i++) {
                sum += bytes.get(i);
            }
            return sum * 8.0 / (bins * BIN_NS / 1e9);
        }

        @Override
        public void close() throws Exception {
            channel.close();
            thread.join(5_000);
        }
    }

    private static Transition await(List<Transition> seen, Kind kind, int index, Duration timeout)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - end < 0) {
            long n = seen.stream().filter(t -> t.kind() == kind).count();
            if (n > index) {
                return seen.stream().filter(t -> t.kind() == kind).skip(index).findFirst().orElseThrow();
            }
            Thread.sleep(20);
        }
        return null;
    }

    @Test
    void congestedThenAvailableAcrossCrossTraffic() throws Exception {
        Availability avail = NetnsTestBed.availability();
        assumeTrue(avail.ok(), () -> "namespace test bed not available: " + avail.reason());
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false)
                .bottleneck(Node.A, Node.B, Shaper.tbf(BOTTLENECK_BPS)).build()) {
            InetAddress b = bed.ipv4(Node.B);
            InetSocketAddress sampleDestination = new InetSocketAddress(b, QosSample.PORT);
            QosSink sink = bed.inNamespace(Node.B, () -> QosSink.start(SinkOptions.defaults().withBindAddress(b)));
            DatagramChannel rxChannel = bed.inNamespace(Node.B, () -> DatagramChannel.open().bind(sampleDestination));
            // the engine's prober opens its sockets inside A (its control connections run on
            // virtual threads, whose carriers are in the host's namespace)
            NetNamespace nsA = NetNamespace.open(Path.of("/run/netns", bed.namespace(Node.A)));
            Engine.embedded().tracking().setSocketFactory(ProbeSockets.in(nsA));
            List<Transition> seen = new CopyOnWriteArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            ByteArrayOutputStream console = new ByteArrayOutputStream();
            PrintStream out = new PrintStream(console, true, StandardCharsets.UTF_8);
            CompletableFuture<Integer> program = new CompletableFuture<>();
            Thread runner = Thread.ofPlatform().name("sample-runner").start(() -> {
                try {
                    program.complete(bed.inNamespace(Node.A, () -> QosSample.client(
                            new QosSample.Settings(sampleDestination, RATE_BPS, Duration.ofSeconds(200)), out,
                            seen::add, stop::get)));
                } catch (Throwable e) {
                    program.completeExceptionally(e);
                }
            });
            try (sink; Receiver rx = new Receiver(rxChannel);
                 SpawnedProcess server = bed.spawn(Node.B, "iperf3", "-s", "-p", "5201")) {
                server.awaitOutput("listening", Duration.ofSeconds(5));
                Transition started = await(seen, Kind.STARTED, 0, Duration.ofSeconds(60));
                assertThat(started).as("estimates and an admitted rate; console:%n%s", console).isNotNull();
                assertThat(started.rateBps()).isBetween(RATE_BPS, RATE_BPS + 8 * QosSample.DATAGRAM_SIZE);
                Thread.sleep(3_000);
                double full = rx.rateBps(Duration.ofSeconds(2));
                assertThat(seen).as("no congestion on a clean path").noneMatch(t -> t.kind() == Kind.CONGESTION);

                Transition congestion;
                double reduced;
                long crossOn = System.nanoTime();
                try (SpawnedProcess cross = bed.spawn(Node.A, "iperf3", "-c", b.getHostAddress(), "-p", "5201", "-u",
                        "-l", "1200", "-b", Long.toString(BOTTLENECK_BPS * 12 / 10), "-t", "100")) {
                    congestion = await(seen, Kind.CONGESTION, 0, Duration.ofSeconds(30));
                    assertThat(congestion).as("Congested under cross traffic; console:%n%s", console).isNotNull();
                    assertThat(congestion.rateBps()).as("a tenth").isLessThanOrEqualTo(started.rateBps() / 10);
                    Thread.sleep(2_500);
                    reduced = rx.rateBps(Duration.ofSeconds(2));
                    assertThat(cross.isAlive()).as("cross traffic ran throughout").isTrue();
                    assertThat(seen).as("no Available while the cross traffic runs")
                            .noneMatch(t -> t.kind() == Kind.END_OF_CONGESTION);
                }
                long crossOff = System.nanoTime();
                Transition restored = await(seen, Kind.END_OF_CONGESTION, 0, Duration.ofSeconds(60));
                assertThat(restored).as("Available once the cross traffic stopped; console:%n%s", console).isNotNull();
                assertThat(restored.rateBps()).isEqualTo(started.rateBps());
                Thread.sleep(3_000);
                double after = rx.rateBps(Duration.ofSeconds(2));
                System.out.printf("QosSample on netns: %.2f Mbit/s -> Congested %d ms after cross traffic on -> %.2f"
                                + " Mbit/s -> Available %d ms after it stopped -> %.2f Mbit/s%n", full / 1e6,
                        (congestion.atNs() - crossOn) / 1_000_000, reduced / 1e6,
                        (restored.atNs() - crossOff) / 1_000_000, after / 1e6);
                assertThat(full).as("full rate at the receiver").isGreaterThan(RATE_BPS * 0.7);
                assertThat(reduced).as("reduced rate at the receiver").isLessThan(full * 0.35);
                assertThat(after).as("restored rate at the receiver").isGreaterThan(RATE_BPS * 0.7);
            } finally {
                stop.set(true);
                runner.join(30_000);
                Engine.embedded().tracking().setSocketFactory(null);
                nsA.close();
                System.out.println(console.toString(StandardCharsets.UTF_8));
            }
            assertThat(program.get(5, TimeUnit.SECONDS)).as("exit status; console:%n%s", console).isZero();
        }
    }
}
