package io.quaver;

import io.quaver.internal.Engine;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/// 10,000 add/remove cycles on one socket from four threads on one handle: ids are never
/// shared between live flows, nothing leaks (threads, descriptors, flows), and the socket
/// ends with its own marks.
class FlowConcurrencyTest {

    @Test
    void tenThousandAddRemoveCyclesFromFourThreads() throws Exception {
        warmUp(); // the engine's one-time set-up (platform, JIT) must not count as a leak
        long fdsBefore = openFileDescriptors();
        int threadsBefore = Thread.activeCount();
        int flowsBefore = Engine.embedded().liveFlowCount();
        int cyclesPerThread = 2_500;
        Set<Integer> live = ConcurrentHashMap.newKeySet();
        AtomicInteger duplicates = new AtomicInteger();
        AtomicInteger cycles = new AtomicInteger();
        try (QosSubsystem qos = QosSubsystem.open();
             DatagramChannel socket = DatagramChannel.open()) {
            socket.setOption(StandardSocketOptions.IP_TOS, 0x02);
            InetAddress lo = InetAddress.getLoopbackAddress();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < cyclesPerThread; i++) {
                        InetSocketAddress dest = new InetSocketAddress(lo, 6000 + thread);
                        QosFlow flow = qos.addFlow(socket, dest, TrafficType.values()[(i + thread) % 6],
                                FlowMode.NON_ADAPTIVE);
                        if (!live.add(flow.id())) {
                            duplicates.incrementAndGet();
                        }
                        assertThat(flow.id()).isNotZero();
                        live.remove(flow.id());
                        if (i % 2 == 0) {
                            flow.removeSocket(socket);
                        } else {
                            flow.close();
                        }
                        cycles.incrementAndGet();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(cycles.get()).isEqualTo(10_000);
            assertThat(duplicates.get()).isZero();
            assertThat(socket.getOption(StandardSocketOptions.IP_TOS)).isEqualTo(0x02);
            assertThat(Engine.embedded().liveFlowCount()).isEqualTo(flowsBefore);
        }
        assertThat(Engine.embedded().liveSocketCount()).isZero();
        assertThat(openFileDescriptors()).isLessThanOrEqualTo(fdsBefore);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (Thread.activeCount() > threadsBefore && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore);
    }

    private static void warmUp() throws Exception {
        try (QosSubsystem qos = QosSubsystem.open();
             DatagramChannel socket = DatagramChannel.open()) {
            qos.addFlow(socket, new InetSocketAddress(InetAddress.getLoopbackAddress(), 6000), TrafficType.VOICE,
                    FlowMode.NON_ADAPTIVE).close();
        }
    }

    static long openFileDescriptors() throws Exception {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(fds)) {
            return s.count();
        }
    }
}
