package io.quaver.internal.daemon;

import io.quaver.FlowInfo;

/// One flow of the daemon's host-wide registry, as `quaver flows` lists it.
///
/// @param info          the flow (traffic type, marks, rate contract, sockets, enforcement)
/// @param bottleneckBps the newest bottleneck estimate of its path, bits/s, -1 if none
/// @param availableBps  the newest available-bandwidth estimate, bits/s, -1 if none
/// @param owner         the client that holds it: `user(pid)` from the connection's credentials
public record DaemonFlow(FlowInfo info, long bottleneckBps, long availableBps, String owner) {
}
