package io.quaver.internal;

import io.quaver.internal.platform.NetNamespace;
import io.quaver.internal.platform.Platform;
import io.quaver.internal.shaping.KernelClasses;
import io.quaver.internal.shaping.TcCommands.FiveTuple;

import java.nio.channels.NetworkChannel;
import java.util.List;
import java.util.Optional;

/// The `tc` work of one flow's kernel class: planned under the engine's lock, [run][#run] without
/// it (each `tc` is a process and may take long), its outcome committed under the lock again
/// (or discarded, and a class it installed removed, when the flow changed or went meanwhile).
final class KernelClassJob {
    final long rateBps;
    final long burstBytes;
    final List<FiveTuple> tuples;
    /// The flow's class to change in place; `null`: install a new one.
    final KernelClasses.Installed existing;
    /// A socket of the flow: its network namespace is the class's.
    private final NetworkChannel channel;

    /// Outcome: the class (new or `existing`) and, for a new one, its namespace; or a refusal.
    KernelClasses.Installed installed;
    NetNamespace ns;
    String refusal;
    /// Set when the outcome became the flow's (nothing to discard then).
    boolean committed;

    KernelClassJob(long rateBps, long burstBytes, List<FiveTuple> tuples, KernelClasses.Installed existing,
                   NetworkChannel channel) {
        this.rateBps = rateBps;
        this.burstBytes = burstBytes;
        this.tuples = List.copyOf(tuples);
        this.existing = existing;
        this.channel = channel;
    }

    /// Runs the `tc` commands (call without the engine's lock).
    void run(KernelClasses classes, Platform platform) {
        try {
            if (existing != null) {
                classes.update(existing, rateBps, burstBytes, tuples);
                installed = existing;
                return;
            }
            Optional<NetNamespace> where = platform.namespaceOf(channel);
            if (where.isEmpty()) {
                refusal = "the socket's network namespace is unknown (SIOCGSKNS)";
                return;
            }
            try {
                installed = classes.install(where.get(), rateBps, burstBytes, tuples);
                ns = where.get();
            } catch (KernelClasses.Refused e) {
                where.get().close();
                throw e;
            }
        } catch (KernelClasses.Refused e) {
            refusal = e.getMessage();
        } catch (RuntimeException e) {
            refusal = "kernel-class shaping failed: " + e;
        }
    }

    /// Whether this job was planned for exactly this class state.
    boolean matches(long rateBps, long burstBytes, List<FiveTuple> tuples, KernelClasses.Installed existing) {
        return this.rateBps == rateBps && this.burstBytes == burstBytes && this.tuples.equals(tuples)
                && this.existing == existing;
    }
}
