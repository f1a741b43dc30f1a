package io.quaver.internal;

import io.quaver.Enforcement;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosOptions;
import io.quaver.QosVersion;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.internal.platform.Platform;
import io.quaver.internal.shaping.KernelClasses;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/// Kernel-class `tc` runs without the engine's lock: while one flow's class is being installed
/// (a `tc` held at a gate the test opens), every other operation of the engine goes on, and a
/// flow removed or a handle closed meanwhile fails the rate change with the right code and leaves
/// no class, filter, root qdisc or ownership record behind.
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class KernelClassOutsideLockTest {
    private static final long RATE_BPS = 10_000_000;

    @BeforeAll
    static void needsNamespaces() {
        Availability a = NetnsTestBed.availability();
        assumeTrue(a.ok(), () -> "kernel-class shaping not tested: " + a.reason());
    }

    /// A `tc` that says it started (file `entered`), then waits until file `gate` exists.
    private static Path gatedTc(Path dir) throws Exception {
        Path script = dir.resolve("tc");
        Files.writeString(script, "#!/bin/sh\ntouch '" + dir.resolve("entered") + "'\nwhile [ ! -e '" + dir.resolve("gate")
                + "' ]; do sleep 0.02; done\nexec '" + KernelClasses.which("tc") + "' \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    private static void awaitFile(Path p) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(p)) {
            assertThat(System.nanoTime()).as("waiting for " + p).isLessThan(end);
            Thread.sleep(10);
        }
    }

    private static String tc(NetnsTestBed bed, String... args) {
        return bed.exec(Node.A, Stream.concat(Stream.of("tc"), Stream.of(args)).toArray(String[]::new)).orThrow()
                .stdout();
    }

    private static void assertNothingLeftBehind(NetnsTestBed bed, KernelClasses classes, Path state) throws Exception {
        assertThat(tc(bed, "class", "show", "dev", "to-b")).doesNotContain("5156:");
        assertThat(tc(bed, "filter", "show", "dev", "to-b")).doesNotContain("5156:");
        assertThat(tc(bed, "qdisc", "show", "dev", "to-b", "root")).doesNotContain("5156:");
        assertThat(classes.installedCount()).isZero();
        try (Stream<Path> records = Files.exists(state) ? Files.list(state) : Stream.empty()) {
            assertThat(records.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")))
                    .as("ownership records").isEmpty();
        }
    }

    /// Sets a rate on a flow while its `tc` is held at the gate, runs `meanwhile` (which must not
    /// wait for that `tc`), opens the gate and returns what the rate change threw (or `null`).
    private static QosException rateChangeWith(Path dir, NetnsTestBed bed, Consumer<Fixture> meanwhile,
                                               Consumer<Fixture> after) throws Exception {
        Path state = dir.resolve("state");
        KernelClasses classes = new KernelClasses(state, gatedTc(dir).toString(), KernelClasses.which("ip"));
        Engine engine = new Engine(Platform.current(), () -> classes);
        InetSocketAddress bAddr = new InetSocketAddress(bed.ipv4(Node.B), 5004);
        try (DatagramChannel tx = bed.inNamespace(Node.A, () -> DatagramChannel.open().connect(bAddr));
             DatagramChannel tx2 = bed.inNamespace(Node.A, () -> DatagramChannel.open().connect(bAddr))) {
            EmbeddedSession session = EmbeddedSession.open(engine, QosVersion.V1_0,
                    QosOptions.defaults().withPrivileged(true).withKernelShaping(true));
            try {
                int flowId = session.addFlow(tx, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
                Fixture f = new Fixture(engine, session, flowId, tx, tx2);
                CompletableFuture<QosException> setter = new CompletableFuture<>();
                Thread t = Thread.ofPlatform().name("test-rate-setter").start(() -> {
                    try {
                        session.setOutgoingRate(flowId, OutgoingRate.of(RATE_BPS, Shaping.SHAPE_AND_MARK));
                        setter.complete(null);
                    } catch (QosException e) {
                        setter.complete(e);
                    } catch (Throwable e) {
                        setter.completeExceptionally(e);
                    }
                });
                awaitFile(dir.resolve("entered"));
                // the setter's tc is held: everything else must go on (a hang here fails the test)
                CompletableFuture.runAsync(() -> meanwhile.accept(f)).get(20, TimeUnit.SECONDS);
                assertThat(setter).as("the rate change waits for its tc").isNotDone();
                Files.createFile(dir.resolve("gate"));
                QosException result = setter.get(30, TimeUnit.SECONDS);
                t.join();
                after.accept(f);
                return result;
            } finally {
                session.close();
                assertThat(engine.liveFlowCount()).isZero();
                assertNothingLeftBehind(bed, classes, state);
            }
        }
    }

    private record Fixture(Engine engine, EmbeddedSession session, int flowId, DatagramChannel tx,
                           DatagramChannel tx2) {
    }

    @Test
    void otherFlowsGoOnAndAFlowRemovedMeanwhileKeepsNoClass(@TempDir Path dir) throws Exception {
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            QosException e = rateChangeWith(dir, bed, f -> {
                // another flow of the same handle: added, changed, queried, removed
                int other = f.session().addFlow(f.tx2(), null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
                f.session().setTrafficType(other, TrafficType.CONTROL);
                f.session().setOutgoingRate(other, OutgoingRate.of(1_000_000, Shaping.USE_NON_CONFORMANT_MARKINGS));
                assertThat(f.session().enforcement(other)).isEqualTo(Enforcement.SEND_PATH);
                f.session().remove(other, null);
                // the flow being shaped still shows its old enforcement until its rate is committed
                assertThat(f.session().enforcement(f.flowId())).isEqualTo(Enforcement.NONE);
                assertThat(f.engine().metrics().flowsActive()).isEqualTo(1);
                // and is removed while its class is being installed
                f.session().remove(f.flowId(), null);
            }, f -> assertThat(f.session().exists(f.flowId())).isFalse());
            assertThat(e).as("the rate change of the removed flow").isNotNull();
            assertThat(e.error()).isEqualTo(QosError.NOT_FOUND);
        }
    }

    @Test
    void aHandleClosedMeanwhileFailsTheRateChangeWithInvalidHandle(@TempDir Path dir) throws Exception {
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            QosException e = rateChangeWith(dir, bed, f -> assertThat(f.session().close()).isTrue(), f -> { });
            assertThat(e).isNotNull();
            assertThat(e.error()).isEqualTo(QosError.INVALID_HANDLE);
        }
    }

    @Test
    void undisturbedTheClassIsCommittedAndASocketAddedLaterJoinsIt(@TempDir Path dir) throws Exception {
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            QosException e = rateChangeWith(dir, bed, f -> { }, f -> {
                assertThat(f.session().enforcement(f.flowId())).isEqualTo(Enforcement.KERNEL_CLASS);
                assertThat(tc(bed, "class", "show", "dev", "to-b")).contains("class htb 5156:1 ");
                // a second socket: the class's filters are updated (tc outside the lock again)
                f.session().addSocket(f.flowId(), f.tx2(), null);
                assertThat(f.session().enforcement(f.flowId())).isEqualTo(Enforcement.KERNEL_CLASS);
                assertThat(tc(bed, "filter", "show", "dev", "to-b").split("flowid 5156:1", -1).length - 1)
                        .as("filters of the class").isGreaterThanOrEqualTo(2);
                // removing the flow removes its class before the call returns
                f.session().remove(f.flowId(), null);
                assertThat(tc(bed, "class", "show", "dev", "to-b")).doesNotContain("5156:");
            });
            assertThat(e).isNull();
        }
    }
}
