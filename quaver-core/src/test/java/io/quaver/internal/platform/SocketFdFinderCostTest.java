package io.quaver.internal.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/// Measures the cost of the *first* lookup of a channel (a discovery, as when a socket first
/// joins a flow: `describe` + `priority`) with 10, 500 and 2,000 decoy sockets open, and prints
/// it (goal G14: O(1) per flow add). Each figure is the median of several lookups with the
/// cache cleared before each, in the calling thread's CPU time (user + system, which a loaded
/// host inflates far less than wall time) and in wall time. Correctness is checked on every lookup with a fresh
/// `SO_SNDBUF` written through the descriptor found and read through the JDK channel.
///
/// It prints and asserts no timing: on a loaded 2-core host the figures vary by 3x from run to
/// run. Decoy counts that would exceed the descriptor limit are skipped.
@EnabledOnOs(OS.LINUX)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SocketFdFinderCostTest {
    private static final int[] DECOYS = {10, 500, 2_000};
    private static final int SAMPLES = 15;

    /// `int clock_gettime(clockid_t, struct timespec *)`, for `CLOCK_THREAD_CPUTIME_ID` (3).
    private static final MethodHandle CLOCK_GETTIME = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("clock_gettime").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MemorySegment TIMESPEC = Arena.global().allocate(16, 8);

    /// The calling thread's CPU time (user + system), ns. Only the test thread calls it.
    private static long threadCpuNanos() {
        try {
            int result = (int) CLOCK_GETTIME.invokeExact(3, TIMESPEC);
            assertThat(result).isZero();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return TIMESPEC.get(ValueLayout.JAVA_LONG, 0) * 1_000_000_000L + TIMESPEC.get(ValueLayout.JAVA_LONG, 8);
    }

    private int nextMarker = 200_000;

    @Test
    void firstLookupCostWithManyDecoys() throws IOException {
        LinuxPlatform platform = LinuxPlatform.create();
        SocketFdFinder finder = platform.finder();
        StringBuilder report = new StringBuilder("SocketFdFinder first-lookup cost (median of " + SAMPLES
                + ", microseconds, thread CPU time / wall time):\n");
        report.append(String.format("%8s %13s %13s %13s %13s %13s %13s %13s%n", "decoys", "udp-new", "udp-reused",
                "udp-cold", "tcp-new", "unbnd-again", "unbnd-new", "join-new"));
        try (TestSockets sockets = new TestSockets()) {
            ServerSocketChannel server = sockets.server();
            DatagramChannel unbound = sockets.datagram(null);
            Deque<NetworkChannel> reusable = new ArrayDeque<>();
            for (int i = 0; i < 3; i++) { // warm up: JIT, class loading
                measure(sockets, server, finder, platform, reusable, unbound);
            }
            int open = 0;
            for (int decoys : DECOYS) {
                if (decoys + 600 > maxOpenFiles()) {
                    report.append(String.format("%8d skipped: descriptor limit %d%n", decoys, maxOpenFiles()));
                    continue;
                }
                // Mixed decoys: bound datagram sockets (distinct ports), unbound ones, and
                // connected stream pairs to the same server (each pair counts as two).
                while (open < decoys) {
                    switch (open % 4) {
                        case 0 -> reusable.add(bound(sockets));
                        case 1 -> bound(sockets);
                        case 2 -> sockets.datagram(null);
                        default -> {
                            sockets.connect(server, null);
                            open++;
                        }
                    }
                    open++;
                }
                double[][] row = measure(sockets, server, finder, platform, reusable, unbound);
                report.append(String.format("%8d", decoys));
                for (double[] cell : row) {
                    report.append(String.format(" %13s", String.format("%.0f / %.0f", cell[0], cell[1])));
                }
                report.append(System.lineSeparator());
            }
        }
        System.out.print(report);
    }

    /// The soft `RLIMIT_NOFILE` from `/proc/self/limits`, or `Long.MAX_VALUE` if unknown.
    private static long maxOpenFiles() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return Long.MAX_VALUE;
    }

    private static DatagramChannel bound(TestSockets sockets) throws IOException {
        DatagramChannel channel = sockets.datagram(null);
        channel.bind(new InetSocketAddress(TestSockets.IPV4_LOOPBACK, 0));
        return channel;
    }

    /// One row: first lookups of new bound datagram channels (a fresh descriptor number; a
    /// number reused from a closed decoy; with the fd index cleared), of new connections, of an
    /// unbound channel looked up again (its number is the last raw hit) and of new unbound
    /// channels (opened in a row: next to the last hit), and a socket join
    /// ([Platform#socketFacts]) of a new bound channel.
    private double[][] measure(TestSockets sockets, ServerSocketChannel server, SocketFdFinder finder,
                             LinuxPlatform platform, Deque<NetworkChannel> reusable, DatagramChannel unbound)
            throws IOException {
        double[][] row = new double[7][];
        row[0] = median(finder, () -> bound(sockets), () -> { });
        row[1] = median(finder, () -> {
            NetworkChannel victim = reusable.poll();
            if (victim != null) {
                victim.close(); // its number is the lowest free one: the next socket reuses it
            }
            return bound(sockets);
        }, () -> { });
        row[2] = median(finder, () -> bound(sockets), ProcNetSockets::clearIndex);
        row[3] = median(finder, () -> sockets.connect(server, null)[0], () -> { });
        row[4] = median(finder, () -> unbound, () -> finder.forget(unbound));
        row[5] = median(finder, () -> sockets.datagram(null), () -> { });
        long[] cpu = new long[SAMPLES];
        long[] nanos = new long[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            DatagramChannel channel = bound(sockets);
            long cpuStart = threadCpuNanos();
            long start = System.nanoTime();
            Platform.SocketFacts facts = platform.socketFacts(channel);
            nanos[i] = System.nanoTime() - start;
            cpu[i] = threadCpuNanos() - cpuStart;
            assertThat(facts.info().family()).isNotEqualTo(SocketInfo.Family.UNKNOWN);
            assertThat(facts.priority()).isPresent();
        }
        row[6] = medians(cpu, nanos);
        return row;
    }

    private interface ChannelSource {
        NetworkChannel next() throws IOException;
    }

    private static double[] medians(long[] cpuNanos, long[] wallNanos) {
        Arrays.sort(cpuNanos);
        Arrays.sort(wallNanos);
        return new double[] {cpuNanos[SAMPLES / 2] / 1_000.0, wallNanos[SAMPLES / 2] / 1_000.0};
    }

    private double[] median(SocketFdFinder finder, ChannelSource source, Runnable beforeEach) throws IOException {
        long[] cpu = new long[SAMPLES];
        long[] nanos = new long[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            NetworkChannel channel = source.next();
            beforeEach.run();
            int marker = nextMarker;
            nextMarker += 64;
            long cpuStart = threadCpuNanos();
            long start = System.nanoTime();
            Optional<Boolean> done = finder.withSocket(channel, fd -> {
                LinuxNative.setsockoptInt(fd, LinuxAbi.SOL_SOCKET, LinuxAbi.SO_SNDBUF, marker);
                return Boolean.TRUE;
            });
            nanos[i] = System.nanoTime() - start;
            cpu[i] = threadCpuNanos() - cpuStart;
            assertThat(done).isPresent();
            assertThat(channel.getOption(StandardSocketOptions.SO_SNDBUF)).isEqualTo(marker);
        }
        return medians(cpu, nanos);
    }
}
