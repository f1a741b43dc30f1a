package io.quaver.internal.probe;

import io.quaver.SharedSecret;
import io.quaver.internal.platform.Platform;

import java.net.InetSocketAddress;
import java.util.Objects;

/// How one [ClientProber] reaches its sink.
///
/// @param sink        the sink's TCP control endpoint (client address, sink port)
/// @param probeTarget where UDP probes go: normally the same endpoint; a link emulator's
///                    ingress in tests
/// @param ttlOne      send probes with TTL (hop limit) 1, so they cannot leave the link
///                    (on-link policy); `false` for off-link experiments (normal TTL)
/// @param routeCheck  run the route check (802.1p safety) — meaningful on-link only
/// @param sockets     the socket factory
/// @param platform    for TTL and `SO_PRIORITY`
/// @param counters    where the datagrams sent are counted (the engine's metrics)
/// @param secret      authenticate the handshakes with this secret; `null` = plain [MS-QLPB]
public record ProberConfig(InetSocketAddress sink, InetSocketAddress probeTarget, boolean ttlOne,
                           boolean routeCheck, ProbeSockets sockets, Platform platform,
                           ProbeCounters counters, SharedSecret secret) {
    public ProberConfig {
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(probeTarget, "probeTarget");
        Objects.requireNonNull(sockets, "sockets");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(counters, "counters");
    }

    /// Probes and control to the same sink endpoint, system sockets.
    public static ProberConfig of(InetSocketAddress sink, boolean ttlOne, Platform platform) {
        return new ProberConfig(sink, sink, ttlOne, ttlOne, ProbeSockets.system(), platform, new ProbeCounters(), null);
    }

    public ProberConfig withProbeTarget(InetSocketAddress target) {
        return new ProberConfig(sink, target, ttlOne, routeCheck, sockets, platform, counters, secret);
    }

    public ProberConfig withSockets(ProbeSockets factory) {
        return new ProberConfig(sink, probeTarget, ttlOne, routeCheck, factory, platform, counters, secret);
    }

    public ProberConfig withRouteCheck(boolean enabled) {
        return new ProberConfig(sink, probeTarget, ttlOne, enabled, sockets, platform, counters, secret);
    }

    public ProberConfig withCounters(ProbeCounters counters) {
        return new ProberConfig(sink, probeTarget, ttlOne, routeCheck, sockets, platform, counters, secret);
    }

    public ProberConfig withSecret(SharedSecret sharedSecret) {
        return new ProberConfig(sink, probeTarget, ttlOne, routeCheck, sockets, platform, counters, sharedSecret);
    }
}
