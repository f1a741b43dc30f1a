package io.quaver.internal.qlpb;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/// Sessions that completed a handshake, found by (initiator address, initiator TCP port) —
/// how a UDP probe names its session. Lookups allocate nothing (the probe loop's hot path):
/// one map lookup by address, then a scan of the few sessions from that address.
final class SessionRegistry {
    private static final SinkSession[] NONE = new SinkSession[0];
    private final ConcurrentHashMap<InetAddress, SinkSession[]> byAddress = new ConcurrentHashMap<>();

    void add(SinkSession session) {
        byAddress.merge(session.initiatorAddress(), new SinkSession[] {session}, (old, one) -> {
            SinkSession[] grown = Arrays.copyOf(old, old.length + 1);
            grown[old.length] = one[0];
            return grown;
        });
    }

    void remove(SinkSession session) {
        byAddress.computeIfPresent(session.initiatorAddress(), (address, old) -> {
            SinkSession[] kept = NONE;
            for (SinkSession s : old) {
                if (s != session) {
                    kept = Arrays.copyOf(kept, kept.length + 1);
                    kept[kept.length - 1] = s;
                }
            }
            return kept.length == 0 ? null : kept;
        });
    }

    /// The newest registered session of that initiator, or `null`.
    SinkSession find(InetAddress initiator, int initiatorPort) {
        SinkSession[] sessions = byAddress.get(initiator);
        if (sessions == null) {
            return null;
        }
        for (int i = sessions.length - 1; i >= 0; i--) {
            if (sessions[i].initiatorPort() == initiatorPort) {
                return sessions[i];
            }
        }
        return null;
    }

    boolean isEmpty() {
        return byAddress.isEmpty();
    }
}
