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
/// @param bindAddress  the local address to listen on; `null` = every address, IPv4 and IPv6
///                     (a dual-stack `::` socket where the host has IPv6)
/// @param port         the TCP and UDP port (the same number for both); 2177 by default;
///                     0 = an ephemeral port free for both TCP and UDP
/// @param maxSessions  concurrent control connections; further connections are closed at
///                     once and counted in [SinkStats#sessionsRefused()]
/// @param idleTimeout  a control connection with no traffic (neither on it nor as probes for
///                     its session) for this long is closed
public record SinkOptions(InetAddress bindAddress, int port, int maxSessions, Duration idleTimeout) {
    /// The [MS-QLPB] sink port.
    public static final int DEFAULT_PORT = QosOptions.DEFAULT_SINK_PORT;
    /// Default [#idleTimeout()]: well above a route-check (0.4 s) or packet-pair (1.5 s)
    /// session, short enough to shed forgotten connections.
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    public SinkOptions {
        if (port < 0 || port > 65_535) {
            throw new QosException(QosError.INVALID_PARAMETER, "port must be 0..65535, was " + port);
        }
        if (maxSessions < 1) {
            throw new QosException(QosError.INVALID_PARAMETER, "maxSessions must be at least 1, was " + maxSessions);
        }
        if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()
                || idleTimeout.compareTo(Duration.ofDays(1)) > 0) {
            throw new QosException(QosError.INVALID_PARAMETER, "idleTimeout must be > 0 and at most a day, was "
                    + idleTimeout);
        }
    }

    /// All addresses (dual-stack), port 2177, the default sink-session limit of [QosLimits]
    /// (64), 30 s idle timeout.
    public static SinkOptions defaults() {
        return new SinkOptions(null, DEFAULT_PORT, QosLimits.DEFAULT.maxSinkSessions(), DEFAULT_IDLE_TIMEOUT);
    }

    public SinkOptions withBindAddress(InetAddress bindAddress) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout);
    }

    public SinkOptions withPort(int port) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout);
    }

    public SinkOptions withMaxSessions(int maxSessions) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout);
    }

    public SinkOptions withIdleTimeout(Duration idleTimeout) {
        return new SinkOptions(bindAddress, port, maxSessions, idleTimeout);
    }
}
