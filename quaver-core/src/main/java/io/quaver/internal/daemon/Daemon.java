package io.quaver.internal.daemon;

import io.quaver.internal.platform.Threads;
import io.quaver.FlowInfo;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosMetrics;
import io.quaver.QosSink;
import io.quaver.SharedSecret;
import io.quaver.SinkOptions;
import io.quaver.SinkStats;
import io.quaver.internal.Engine;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/// `quaver daemon`: one engine as a host service. It owns the host-wide flow registry, the
/// tracking registry with its probers, estimates, notifications and admission control, one
/// sink, and the policy (marks per traffic type, off-link experiments, privilege rules by the
/// peer credentials of the control connection). Applications reach it through
/// [DaemonSession] over a UNIX-domain socket; their sockets stay in their process, where the
/// client library applies the marks the daemon decides and runs the send path with the
/// contract the daemon admitted (docs/daemon-protocol.md).
///
/// Each control connection is served by a virtual thread; a connection that drops (a client
/// that crashed) loses its flows, and its tracked clients enter their grace period.
public final class Daemon implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.quaver.daemon");

    /// How to run a daemon.
    ///
    /// @param socket      the control socket's path
    /// @param policy      the host-wide policy
    /// @param sinkPort    the port of the daemon's sink and of the sinks its probers reach
    ///                    (0 = an ephemeral port for the sink, which the probers then use)
    /// @param metricsPort the Prometheus endpoint's port on 127.0.0.1 (0 = ephemeral, -1 = none)
    /// @param secret      `null` for plain [MS-QLPB]; otherwise the daemon's probers authenticate
    ///                    their handshakes with it and its sink serves only handshakes
    ///                    authenticated with it
    public record Config(Path socket, DaemonPolicy policy, int sinkPort, int metricsPort, SharedSecret secret) {
        /// Without a probe secret.
        public Config(Path socket, DaemonPolicy policy, int sinkPort, int metricsPort) {
            this(socket, policy, sinkPort, metricsPort, null);
        }
    }

    private final Config config;
    private final Engine engine = Engine.create();
    private final ServerSocketChannel server;
    private final QosSink sink;
    private final MetricsEndpoint endpoint;
    private final Thread acceptor;
    private final Set<DaemonConnection> connections = ConcurrentHashMap.newKeySet();
    private final List<Thread> connectionThreads = new ArrayList<>();
    /// Owner label of every live flow (the connection's user and number).
    final ConcurrentHashMap<Integer, String> owners = new ConcurrentHashMap<>();
    /// The connection holding each live flow (to tell its client of marks changes).
    private final ConcurrentHashMap<Integer, DaemonConnection> holders = new ConcurrentHashMap<>();
    /// Send rates of the flows whose clients report them.
    private final ConcurrentHashMap<Integer, SendMeter> meters = new ConcurrentHashMap<>();
    private final AtomicInteger connectionCount = new AtomicInteger();
    private volatile boolean closed;

    private Daemon(Config config) throws IOException {
        this.config = config;
        Path path = config.socket().toAbsolutePath();
        removeStale(path);
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        QosSink startedSink = null;
        MetricsEndpoint startedEndpoint = null;
        try {
            s.bind(UnixDomainSocketAddress.of(path));
            // anyone may connect; what a connection may do is decided by its peer credentials
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
            startedSink = QosSink.start(SinkOptions.defaults().withPort(config.sinkPort()).withSecret(config.secret()));
            if (config.metricsPort() >= 0) {
                startedEndpoint = MetricsEndpoint.start(config.metricsPort(), this::metrics);
            }
        } catch (IOException | RuntimeException e) {
            s.close();
            Files.deleteIfExists(path);
            if (startedSink != null) {
                startedSink.close();
            }
            throw e;
        }
        this.server = s;
        this.sink = startedSink;
        this.endpoint = startedEndpoint;
        engine.setMarksListener(id -> {
            DaemonConnection c = holders.get(id);
            if (c != null) {
                c.marksChanged(id);
            }
        });
        this.acceptor = Thread.ofPlatform().name("quaver-daemon-accept").daemon(true).unstarted(this::acceptLoop);
    }

    /// Starts a daemon: binds the control socket (replacing a stale socket file no daemon
    /// answers on), starts the sink and the metrics endpoint.
    ///
    /// @throws IOException   when the socket cannot be bound
    /// @throws QosException  `ALREADY_EXISTS` when a daemon already answers on the path
    public static Daemon start(Config config) throws IOException {
        Daemon d = new Daemon(config);
        d.acceptor.start();
        LOG.log(System.Logger.Level.INFO, "Quaver daemon on " + config.socket() + ", sink port " + d.sinkPort());
        return d;
    }

    private static void removeStale(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new QosException(QosError.ALREADY_EXISTS, "a Quaver daemon already listens on " + path);
        } catch (IOException e) {
            Files.deleteIfExists(path); // nobody answers: a crashed daemon's socket file
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, "accept failed: " + e);
                }
                return;
            }
            DaemonConnection c = new DaemonConnection(this, ch, connectionCount.incrementAndGet());
            synchronized (connectionThreads) {
                if (closed) {
                    c.shutdown();
                    return;
                }
                connections.add(c);
                connectionThreads.removeIf(t -> !t.isAlive());
                connectionThreads.add(Thread.ofVirtual().name("quaver-daemon-conn-" + c.number()).start(() -> {
                    try {
                        c.serve();
                    } finally {
                        connections.remove(c);
                    }
                }));
            }
        }
    }

    Engine engine() {
        return engine;
    }

    /// The engine serving the daemon's clients (for the dashboard).
    public Engine hostEngine() {
        return engine;
    }

    public DaemonPolicy policy() {
        return config.policy();
    }

    /// The secret the daemon's probers and sink authenticate handshakes with, or `null`.
    public SharedSecret secret() {
        return config.secret();
    }

    /// The counters of the daemon's sink.
    public SinkStats sinkStats() {
        return sink.stats();
    }

    public Path socketPath() {
        return config.socket();
    }

    /// The port the daemon's sink listens on (also the port its probers reach sinks on).
    public int sinkPort() {
        return sink.port();
    }

    /// The Prometheus endpoint's port, or -1 when there is none.
    public int metricsPort() {
        return endpoint == null ? -1 : endpoint.port();
    }

    /// Control connections open now.
    public int connectionCount() {
        return connections.size();
    }

    /// The engine's counters with the sink's drops.
    public QosMetrics metrics() {
        QosMetrics m = engine.metrics();
        SinkStats s = sink.stats();
        return new QosMetrics(m.flowsCreated(), m.flowsRemoved(), m.flowsActive(), m.socketsAdded(),
                m.trackedClients(), m.probePacketsSent(), m.probeBytesSent(), m.estimatesProduced(),
                m.notificationsCongested(), m.notificationsUncongested(), m.notificationsAvailable(),
                m.notificationsCancelled(), m.admissionsAccepted(), m.admissionsRefused(), m.datagramsSentAtOnce(),
                m.datagramsDelayed(), m.datagramsNonConformant(), m.sendsAborted(), s.droppedMessages(),
                s.malformedMessages());
    }

    /// Every flow of the host, with estimates and owners.
    public List<DaemonFlow> flows() {
        List<DaemonFlow> out = new ArrayList<>();
        for (FlowInfo raw : engine.enumerateAll()) {
            // the daemon's sockets stand for the clients' (their local addresses mean nothing)
            List<FlowInfo.Member> members = new ArrayList<>();
            for (FlowInfo.Member m : raw.members()) {
                members.add(new FlowInfo.Member(m.protocol(), null, m.destination(), true));
            }
            FlowInfo info = new FlowInfo(raw.flowId(), raw.mode(), raw.trafficType(), raw.explicitDscp(),
                    raw.applied(), raw.rate(), members, raw.enforcement());
            long[] est = engine.estimatesOf(info.flowId());
            out.add(new DaemonFlow(info, est == null ? -1 : est[0], est == null ? -1 : est[1],
                    owners.getOrDefault(info.flowId(), "?")));
        }
        return out;
    }

    /// A flow was created by a connection.
    void flowAdded(int flowId, DaemonConnection holder, String owner) {
        owners.put(flowId, owner);
        holders.put(flowId, holder);
    }

    /// A flow was removed.
    void flowGone(int flowId) {
        owners.remove(flowId);
        holders.remove(flowId);
        meters.remove(flowId);
    }

    /// A connection ended: every flow of `owner` is gone.
    void flowsGone(String owner) {
        for (var e : owners.entrySet()) {
            if (e.getValue().equals(owner)) {
                flowGone(e.getKey());
            }
        }
    }

    /// A client's report of the IP-level bytes sent through a flow's send path so far.
    void sent(int flowId, long ipBytes) {
        meters.computeIfAbsent(flowId, id -> new SendMeter()).record(System.nanoTime(), ipBytes);
    }

    /// The send rate of a flow as its client reports it, bits/s: -1 when not reported (the
    /// client does not send through the flow's send path, or has not reported twice yet), 0
    /// when it stopped sending.
    public long sentRateBps(int flowId) {
        SendMeter m = meters.get(flowId);
        return m == null ? -1 : m.rateBps(System.nanoTime());
    }

    /// Waits until the daemon is closed.
    public void awaitClose() throws InterruptedException {
        acceptor.join();
    }

    /// Stops the daemon: its clients' connections close (they get 1164 from then on), their
    /// flows are removed, tracking ends, the sink and the endpoint stop, the socket file goes.
    @Override
    public void close() {
        List<Thread> threads;
        synchronized (connectionThreads) {
            if (closed) {
                return;
            }
            closed = true;
            threads = List.copyOf(connectionThreads);
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the control socket: " + e);
        }
        for (DaemonConnection c : List.copyOf(connections)) {
            c.shutdown();
        }
        Threads.joinUninterruptibly(acceptor);
        threads.forEach(Threads::joinUninterruptibly);
        engine.tracking().untrackAll();
        sink.close();
        if (endpoint != null) {
            endpoint.close();
        }
        try {
            Files.deleteIfExists(config.socket().toAbsolutePath());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "removing the socket file: " + e);
        }
    }
}
