package io.quaver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/// The leak check fails a class that leaks a thread, a socket descriptor or a probed resource
/// (a stand-in for an engine flow), and passes one that cleans up, including one whose resource
/// closes asynchronously within the grace period.
class NoLeaksClassExtensionTest {
    /// Stand-in for an engine flow counter: registered as a [LeakProbe] in this module's test
    /// resources, so the extension discovers it like quaver-core's real probes.
    public static final class FixtureProbe implements LeakProbe {
        static final AtomicLong FLOWS = new AtomicLong();

        @Override
        public String name() {
            return "fixture flows";
        }

        @Override
        public long count() {
            return FLOWS.get();
        }
    }

    static final List<AutoCloseable> LEFT = new ArrayList<>();
    static volatile CountDownLatch stop = new CountDownLatch(1);

    @AfterEach
    void cleanUp() throws Exception {
        stop.countDown();
        stop = new CountDownLatch(1);
        for (AutoCloseable c : LEFT) {
            c.close();
        }
        LEFT.clear();
        FixtureProbe.FLOWS.set(0);
    }

    @ExtendWith(NoLeaksClassExtension.class)
    static class LeaksThread {
        @Test
        void leaks() {
            CountDownLatch latch = stop;
            Thread t = Thread.ofPlatform().daemon(true).name("quaver-fixture-leak").start(() -> {
                try {
                    latch.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            LEFT.add(t::join);
        }
    }

    @ExtendWith(NoLeaksClassExtension.class)
    static class LeaksSocket {
        @Test
        void leaks() throws IOException {
            LEFT.add(DatagramChannel.open());
        }
    }

    @ExtendWith(NoLeaksClassExtension.class)
    static class LeaksFlow {
        @Test
        void leaks() {
            FixtureProbe.FLOWS.incrementAndGet();
        }
    }

    @ExtendWith(NoLeaksClassExtension.class)
    static class ClosesLate {
        @Test
        void closesWithinGrace() throws IOException {
            DatagramChannel ch = DatagramChannel.open();
            FixtureProbe.FLOWS.incrementAndGet();
            Thread.ofPlatform().daemon(true).name("quaver-fixture-closer").start(() -> {
                try {
                    Thread.sleep(300);
                    ch.close();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                FixtureProbe.FLOWS.decrementAndGet();
            });
        }
    }

    /// Runs `fixture` on a fresh launcher and returns its class-level failure, if any.
    private static Throwable run(Class<?> fixture) {
        return run(fixture, 1_000);
    }

    /// As [#run(Class)] with the extension's grace period set to `graceMs`.
    private static Throwable run(Class<?> fixture, long graceMs) {
        List<Throwable> failures = new ArrayList<>();
        var request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(fixture))
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "false")
                .configurationParameter("quaver.noleaks.grace.ms", Long.toString(graceMs)).build();
        LauncherFactory.create().execute(request, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isContainer() && result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    failures.add(result.getThrowable().orElseThrow());
                }
            }
        });
        return failures.isEmpty() ? null : failures.getFirst();
    }

    @Test
    void failsAClassLeakingAThread() {
        assertThat(run(LeaksThread.class)).isInstanceOf(AssertionError.class)
                .hasMessageContaining(LeaksThread.class.getName()).hasMessageContaining("quaver-fixture-leak");
    }

    @Test
    void failsAClassLeakingASocketDescriptor() {
        assertThat(run(LeaksSocket.class)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("socket file descriptor");
    }

    @Test
    void failsAClassLeakingAProbedResource() {
        assertThat(run(LeaksFlow.class)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("fixture flows 0 -> 1");
    }

    @Test
    void passesAClassWhoseResourcesCloseWithinTheGracePeriod() {
        // The fixture closes 300 ms after its test; the check returns as soon as it has, and the
        // long grace keeps a loaded machine's scheduling delays from failing it.
        assertThat(run(ClosesLate.class, 20_000)).isNull();
    }

    @Test
    void leakCheckWithoutJUnitReportsTheLeakedSocket() throws Exception {
        LeakCheck check = new LeakCheck(List.of(), name -> false);
        LeakCheck.Snapshot before = check.snapshot();
        try (DatagramChannel ch = DatagramChannel.open()) {
            assertThatThrownBy(() -> check.verify(before, 50, "this block")).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("this block left resources behind");
        }
        assertThatCode(() -> check.verify(before, 50, "this block")).doesNotThrowAnyException();
    }
}
