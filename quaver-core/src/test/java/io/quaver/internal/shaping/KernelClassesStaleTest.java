package io.quaver.internal.shaping;

import io.quaver.internal.platform.NetNamespace;
import io.quaver.internal.shaping.TcCommands.FiveTuple;
import io.quaver.testkit.Availability;
import io.quaver.testkit.NetnsTestBed;
import io.quaver.testkit.NetnsTestBed.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/// After a crash: the ownership records of a process that is gone lead the next start to
/// remove its classes, filters and root qdisc; a live owner's classes are left alone.
class KernelClassesStaleTest {

    @Test
    void staleClassesOfADeadProcessAreRemovedAtStart(@TempDir Path state) throws Exception {
        Availability a = NetnsTestBed.availability();
        assumeTrue(a.ok(), () -> "stale clean-up not tested: " + a.reason());
        try (NetnsTestBed bed = NetnsTestBed.builder().ipv6(false).build()) {
            Path nsPath = Path.of("/run/netns", bed.namespace(Node.A));
            FiveTuple t1 = new FiveTuple(true, new InetSocketAddress(bed.ipv4(Node.A), 40000),
                    new InetSocketAddress(bed.ipv4(Node.B), 5004));
            FiveTuple t2 = new FiveTuple(true, new InetSocketAddress(bed.ipv4(Node.A), 40001),
                    new InetSocketAddress(bed.ipv4(Node.B), 5004));
            KernelClasses crashed = new KernelClasses(state, KernelClasses.which("tc"), KernelClasses.which("ip"));
            NetNamespace ns = NetNamespace.open(nsPath);
            KernelClasses.Installed dead = crashed.install(ns, 1_000_000, 3_000, List.of(t1));
            KernelClasses.Installed alive = crashed.install(ns, 2_000_000, 3_000, List.of(t2));
            assertThat(dead.minor()).isEqualTo(1);
            assertThat(alive.minor()).isEqualTo(2);
            // the first class's owner "crashed": its record names a process that does not exist
            Path deadRecord = state.resolve(ns.inode() + "_to-b_1");
            assertThat(deadRecord).exists();
            Files.writeString(deadRecord, "999999999 12345\n");

            KernelClasses restarted = new KernelClasses(state, KernelClasses.which("tc"), KernelClasses.which("ip"));
            restarted.cleanStaleOnce();
            String classes = bed.exec(Node.A, "tc", "class", "show", "dev", "to-b").orThrow().stdout();
            assertThat(classes).doesNotContain("5156:1 ").contains("5156:2 ");
            assertThat(deadRecord).doesNotExist();
            assertThat(state.resolve(ns.inode() + "_to-b_2")).exists();

            // the live owner's class goes with it; the root qdisc goes with the last class
            crashed.remove(alive);
            assertThat(bed.exec(Node.A, "tc", "qdisc", "show", "dev", "to-b", "root").orThrow().stdout())
                    .doesNotContain("5156:");
            ns.close();
        }
    }
}
