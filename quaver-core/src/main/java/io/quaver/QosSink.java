package io.quaver;

import io.quaver.internal.qlpb.SinkEngine;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/// A qWave layer-3 probing sink ([MS-QLPB]): the peer that answers a prober's packet-pair,
/// probegap and route-check experiments and absorbs its flood sessions. Run one on a device
/// that Quaver (or Windows qWAVE) should be able to estimate the path to.
///
/// The sink listens on TCP and UDP, on the same port (2177 by default). Control connections
/// are served on virtual threads; probes are received and timestamped on one dedicated
/// platform thread. Every thread is named `quaver-sink-*`. The sink is bounded
/// ([SinkOptions#maxSessions()], [SinkOptions#idleTimeout()], per-source session, connection
/// and probe-rate limits), never sends a peer more bytes than it received from it, can
/// require authenticated handshakes ([SinkOptions#secret()]), drops malformed or
/// out-of-order input with a counter ([#stats()]) and never lets an exception escape its
/// threads. [#close()] stops everything and releases every socket and thread.
///
/// Embedding it, e.g. in a `main`:
///
/// ```java
/// try (QosSink sink = QosSink.start(SinkOptions.defaults())) {
///     Runtime.getRuntime().addShutdownHook(new Thread(sink::close));
///     sink.awaitClose();
/// }
/// ```
public final class QosSink implements AutoCloseable {
    private final SinkEngine engine;

    private QosSink(SinkEngine engine) {
        this.engine = engine;
    }

    /// Binds TCP and UDP and starts serving.
    ///
    /// @throws QosException [QosError#IO_DEVICE] if the sockets cannot be bound (e.g. the port
    ///                      is taken), [QosError#INVALID_PARAMETER] for `null` options
    public static QosSink start(SinkOptions options) {
        if (options == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "options are required");
        }
        try {
            return new QosSink(SinkEngine.start(options));
        } catch (IOException e) {
            throw new QosException(QosError.IO_DEVICE, "cannot start the sink on "
                    + (options.bindAddress() == null ? "*" : options.bindAddress().getHostAddress()) + " port "
                    + options.port() + ": " + e.getMessage(), e);
        }
    }

    /// Starts a sink with [SinkOptions#defaults()] (all addresses, port 2177).
    public static QosSink start() {
        return start(SinkOptions.defaults());
    }

    /// The port the sink listens on (TCP and UDP); the chosen one when 0 was asked for.
    public int port() {
        return engine.port();
    }

    /// The local TCP address of the sink (wildcard or the bound address, with [#port()]).
    public InetSocketAddress localAddress() {
        return engine.localAddress();
    }

    /// The sink's counters.
    public SinkStats stats() {
        return engine.stats();
    }

    /// Whether the sink is serving (not closed).
    public boolean isOpen() {
        return engine.isOpen();
    }

    /// Blocks until the sink is closed (by [#close()] from another thread).
    public void awaitClose() throws InterruptedException {
        engine.awaitTermination();
    }

    /// Blocks until the sink is closed or the timeout elapses.
    ///
    /// @return `true` if the sink is closed
    public boolean awaitClose(Duration timeout) throws InterruptedException {
        return engine.awaitTermination(Objects.requireNonNull(timeout, "timeout"));
    }

    /// Stops the sink: closes the listening sockets and every session, and waits for its
    /// threads to end. Idempotent.
    @Override
    public void close() {
        engine.close();
    }

    @Override
    public String toString() {
        return "QosSink[" + localAddress() + (isOpen() ? "" : ", closed") + "]";
    }
}
