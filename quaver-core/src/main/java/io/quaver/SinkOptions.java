package io.quaver;

import java.net.InetAddress;
import java.time.Duration;

/// Options of a [QosSink]. Start from [#defaults()] and change what you need:
///
/// ```java
/// var options = SinkOptions.defaults().withPort(0).withMaxSessions(8);
/// try (var sink = QosSink.start(options)) { ... sink.port() ... }
/// ```
///
/// ## Bounds against hostile peers
/// The sink faces the network. Per *source address* it enforces a concurrent-session cap
/// (`maxSessionsPerSource`), a token bucket on new control connections
/// (`sourceHandshakesPerSecond`, burst of the same number) and a token bucket on probe
/// datagrams (`sourceRateBps`, burst `sourceBurstBytes`); what exceeds them is dropped and
/// counted ([SinkStats#rateLimitedConnections()], [SinkStats#rateLimitedDatagrams()]), so that
/// one flooding source cannot starve the others. Memory per session is bounded by
/// `maxTrainProbes` (a session holds one receive timestamp per probe of its train and at most
/// [#MAX_QUEUED_REPLIES] queued replies). The defaults are well above what an [MS-QLPB]
/// initiator (Quaver's or Windows qWAVE's) sends.
///
/// @param bindAddress               the local address to listen on; `null` = every address,
///                                  IPv4 and IPv6 (a dual-stack `::` socket where the host has
///                                  IPv6)
/// @param port                      the TCP and UDP port (the same number for both); 2177 by
///                                  default; 0 = an ephemeral port free for both TCP and UDP
/// @param maxSessions               concurrent control connections; further connections are
///                                  closed at once and counted in [SinkStats#sessionsRefused()]
/// @param idleTimeout               a control connection with no traffic (neither on it nor as
///                                  probes for its session) for this long is closed
/// @param maxSessionsPerSource      concurrent control connections from one source address
///                                  (1..`maxSessions`)
/// @param sourceHandshakesPerSecond new control connections one source address may open per
///                                  second, as a token bucket with a burst of as many (1..10,000)
/// @param sourceRateBps             probe datagrams one source address may send, in bit/s of
///                                  UDP payload (at least 64 kbit/s)
/// @param sourceBurstBytes          the burst tolerance of `sourceRateBps` in bytes (at least
///                                  one 65,535-byte datagram, at most 64 MiB)
/// @param maxTrainProbes            the longest packet-pair train a session accepts (2..65,535);
///                                  longer trains are ignored and counted as dropped
/// @param secret                    `null` (the default) for plain [MS-QLPB]; otherwise only
///                                  handshakes authenticated with this secret are served (see
///                                  [SharedSecret])
public record SinkOptions(InetAddress bindAddress, int port, int maxSessions, Duration idleTimeout,
                          int maxSessionsPerSource, int sourceHandshakesPerSecond, long sourceRateBps,
                          long sourceBurstBytes, int maxTrainProbes, SharedSecret secret) {
    /// The [MS-QLPB] sink port.
    public static final int DEFAULT_PORT = QosOptions.DEFAULT_SINK_PORT;
    /// Default [#idleTimeout()]: well above a route-check (0.4 s) or packet-pair (1.5 s)
    /// session, short enough to shed forgotten connections.
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /// Default [#maxSessionsPerSource()].
    public static final int DEFAULT_MAX_SESSIONS_PER_SOURCE = 16;
    /// Default [#sourceHandshakesPerSecond()]: an initiator opens one connection per train
    /// (three quick ones at the start) and one per route check.
    public static final int DEFAULT_SOURCE_HANDSHAKES_PER_SECOND = 20;
    /// Default [#sourceRateBps()]: 200 Mbit/s.
    public static final long DEFAULT_SOURCE_RATE_BPS = 200_000_000L;
    /// Default [#sourceBurstBytes()]: 2 MiB, four of the largest trains Quaver sends.
    public static final long DEFAULT_SOURCE_BURST_BYTES = 2L << 20;
    /// Default [#maxTrainProbes()]: above Quaver's longest train (512 KiB of 200-byte probes).
    public static final int DEFAULT_MAX_TRAIN_PROBES = 4_096;
    /// Replies a session queues before further ones are dropped.
    public static final int MAX_QUEUED_REPLIES = 64;

    public SinkOptions {
        if (port < 0 || port > 65_535) {
            throw invalid("port must be 0..65535, was " + port);
        }
        if (maxSessions < 1) {
            throw invalid("maxSessions must be at least 1, was " + maxSessions);
        }
        if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()
                || idleTimeout.compareTo(Duration.ofDays(1)) > 0) {
            throw invalid("idleTimeout must be > 0 and at most a day, was " + idleTimeout);
        }
        if (maxSessionsPerSource < 1 || maxSessionsPerSource > maxSessions) {
            throw invalid("maxSessionsPerSource must be 1..maxSessions (" + maxSessions + "), was "
                    + maxSessionsPerSource);
        }
        if (sourceHandshakesPerSecond < 1 || sourceHandshakesPerSecond > 10_000) {
            throw invalid("sourceHandshakesPerSecond must be 1..10000, was " + sourceHandshakesPerSecond);
        }
        if (sourceRateBps < 64_000) {
            throw invalid("sourceRateBps must be at least 64000, was " + sourceRateBps);
        }
        if (sourceBurstBytes < 65_535 || sourceBurstBytes > 64L << 20) {
            throw invalid("sourceBurstBytes must be 65535..67108864, was " + sourceBurstBytes);
        }
        if (maxTrainProbes < 2 || maxTrainProbes > 65_535) {
            throw invalid("maxTrainProbes must be 2..65535, was " + maxTrainProbes);
        }
    }

    private static QosException invalid(String message) {
        return new QosException(QosError.INVALID_PARAMETER, message);
    }

    /// All addresses (dual-stack), port 2177, the default sink-session limit of [QosLimits]
    /// (64), 30 s idle timeout, the per-source defaults above, no secret.
    public static SinkOptions defaults() {
        return new SinkOptions(null, DEFAULT_PORT, QosLimits.DEFAULT.maxSinkSessions(), DEFAULT_IDLE_TIMEOUT,
                Math.min(DEFAULT_MAX_SESSIONS_PER_SOURCE, QosLimits.DEFAULT.maxSinkSessions()),
                DEFAULT_SOURCE_HANDSHAKES_PER_SECOND, DEFAULT_SOURCE_RATE_BPS, DEFAULT_SOURCE_BURST_BYTES,
                DEFAULT_MAX_TRAIN_PROBES, null);
    }

    public SinkOptions withBindAddress(InetAddress bindAddress) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout, maxSessionsPerSource,
                sourceHandshakesPerSecond, sourceRateBps, sourceBurstBytes, maxTrainProbes, secret);
    }

    public SinkOptions withPort(int port) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout, maxSessionsPerSource,
                sourceHandshakesPerSecond, sourceRateBps, sourceBurstBytes, maxTrainProbes, secret);
    }

    /// Sets `maxSessions`; `maxSessionsPerSource` is lowered to it when above.
    public SinkOptions withMaxSessions(int maxSessions) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout,
                Math.max(1, Math.min(maxSessionsPerSource, maxSessions)), sourceHandshakesPerSecond, sourceRateBps,
                sourceBurstBytes, maxTrainProbes, secret);
    }

    public SinkOptions withIdleTimeout(Duration idleTimeout) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout, maxSessionsPerSource,
                sourceHandshakesPerSecond, sourceRateBps, sourceBurstBytes, maxTrainProbes, secret);
    }

    public SinkOptions withMaxSessionsPerSource(int maxSessionsPerSource) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout, maxSessionsPerSource,
                sourceHandshakesPerSecond, sourceRateBps, sourceBurstBytes, maxTrainProbes, secret);
    }

    public SinkOptions withSourceHandshakesPerSecond(int handshakesPerSecond) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout, maxSessionsPerSource,
                handshakesPerSecond, sourceRateBps, sourceBurstBytes, maxTrainProbes, secret);
    }

    /// Sets the per-source probe rate limit (bit/s) and its burst (bytes).
    public SinkOptions withSourceRate(long rateBps, long burstBytes) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout, maxSessionsPerSource,
                sourceHandshakesPerSecond, rateBps, burstBytes, maxTrainProbes, secret);
    }

    public SinkOptions withMaxTrainProbes(int maxTrainProbes) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout, maxSessionsPerSource,
                sourceHandshakesPerSecond, sourceRateBps, sourceBurstBytes, maxTrainProbes, secret);
    }

    /// Requires handshakes authenticated with `secret` (`null` = plain [MS-QLPB], the default).
    public SinkOptions withSecret(SharedSecret secret) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout, maxSessionsPerSource,
                sourceHandshakesPerSecond, sourceRateBps, sourceBurstBytes, maxTrainProbes, secret);
    }
}
