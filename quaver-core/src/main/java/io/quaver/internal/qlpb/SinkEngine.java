package io.quaver.internal.qlpb;

import io.quaver.SinkOptions;
import io.quaver.SinkStats;
import io.quaver.internal.platform.Platform;
import io.quaver.internal.platform.ReceiveTimestamps;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckSummary;

import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

/// The [MS-QLPB] sink behind [io.quaver.QosSink].
///
/// ## Threads
/// * `quaver-sink-accept-<port>` (virtual): accepts control connections, enforces
///   `maxSessions`;
/// * `quaver-sink-session-<n>` / `quaver-sink-writer-<n>` (virtual): one pair per control
///   connection, see [SinkSession];
/// * `quaver-sink-udp-<port>` (platform, dedicated): receives every probe, timestamps the
///   probegap and packet-pair probes that pass the source limit with their arrival time
///   ([ReceiveTimestamps]: the kernel's receive timestamp where the platform has it, otherwise
///   [System#nanoTime()] right after the receive returns; converted to 100 ns units), and
///   runs the per-session packet-pair and route-check state, which only it touches.
///   Its loop allocates nothing per probe: one direct receive buffer, one [ProbeView], the
///   JDK's cached sender address, an allocation-free [SessionRegistry] lookup; probegap
///   replies are built in place in the receive buffer.
///
/// Every thread body catches everything; failures are counted or logged
/// (`System.Logger` "io.quaver.sink"), never thrown. [#close()] closes the sockets, then
/// joins every thread it started.
public final class SinkEngine implements Closeable {
    private static final System.Logger LOG = System.getLogger("io.quaver.sink");
    private static final int BIND_ATTEMPTS = 32;
    private static final int BACKLOG = 64;
    private static final int UDP_RECEIVE_BUFFER_BYTES = 1 << 20;
    private static final long CLOSE_JOIN_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final SinkOptions options;
    private final ServerSocket server;
    private final DatagramChannel udp;
    private final ReceiveTimestamps udpStamps;
    private final int port;
    private final ToLongFunction<InetAddress> interfaceSpeed;
    private final SinkCounters counters = new SinkCounters();
    private final SessionRegistry registry = new SessionRegistry();
    private final SourceLimiter limiter;
    private final HandshakeAuth auth;
    private final Set<SinkSession> sessions = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final AtomicLong sessionIds = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final Thread acceptThread;

    private SinkEngine(SinkOptions options, ServerSocket server, DatagramChannel udp,
                       ToLongFunction<InetAddress> interfaceSpeed) {
        this.options = options;
        this.server = server;
        this.udp = udp;
        this.udpStamps = Platform.current().receiveTimestamps(udp);
        this.port = server.getLocalPort();
        this.interfaceSpeed = interfaceSpeed;
        this.auth = options.secret() == null ? null : new HandshakeAuth(options.secret());
        this.limiter = new SourceLimiter(options.sourceRateBps(), options.sourceBurstBytes(),
                options.sourceHandshakesPerSecond(), options.maxSessionsPerSource(), System.nanoTime());
        spawn(Thread.ofPlatform().daemon(true), "quaver-sink-udp-" + port, this::runUdp);
        this.acceptThread = spawnVirtual("quaver-sink-accept-" + port, this::runAccept);
    }

    /// Binds and starts a sink.
    ///
    /// @throws IOException if TCP and UDP cannot both be bound on the port
    public static SinkEngine start(SinkOptions options) throws IOException {
        return start(options, InterfaceSpeeds::speedBps);
    }

    /// As [#start(SinkOptions)], with the source of `Interface_Speed` given (for tests).
    static SinkEngine start(SinkOptions options, ToLongFunction<InetAddress> interfaceSpeedBps) throws IOException {
        InetAddress address = options.bindAddress();
        IOException last = null;
        for (int attempt = 0; attempt < (options.port() == 0 ? BIND_ATTEMPTS : 1); attempt++) {
            ServerSocket server = new ServerSocket();
            DatagramChannel udp = null;
            try {
                server.setReuseAddress(true);
                server.bind(new InetSocketAddress(address, options.port()), BACKLOG);
                udp = address == null ? DatagramChannel.open()
                        : DatagramChannel.open(address instanceof Inet4Address ? StandardProtocolFamily.INET
                        : StandardProtocolFamily.INET6);
                udp.bind(new InetSocketAddress(address, server.getLocalPort()));
                try {
                    udp.setOption(StandardSocketOptions.SO_RCVBUF, UDP_RECEIVE_BUFFER_BYTES);
                } catch (IOException | UnsupportedOperationException e) {
                    // the default buffer will do
                }
                return new SinkEngine(options, server, udp, interfaceSpeedBps);
            } catch (BindException e) {
                // TCP got a port whose UDP twin is taken: try another (only with port 0)
                last = e;
                closeQuietly(udp);
                closeQuietly(server);
            } catch (IOException | RuntimeException e) {
                closeQuietly(udp);
                closeQuietly(server);
                throw e;
            }
        }
        throw last;
    }

    /// The TCP and UDP port.
    public int port() {
        return port;
    }

    /// The bound TCP address.
    public InetSocketAddress localAddress() {
        SocketAddress a = server.getLocalSocketAddress();
        return a instanceof InetSocketAddress isa ? isa : new InetSocketAddress(options.bindAddress(), port);
    }

    public SinkStats stats() {
        return counters.snapshot(sessions::size);
    }

    public boolean isOpen() {
        return !closed.get();
    }

    /// Whether probes are timestamped with the kernel's receive timestamps (otherwise in user
    /// space after the receive returns).
    public boolean kernelReceiveTimestamps() {
        return udpStamps.kernelTimestamps();
    }

    /// Threads started by this sink that have not finished (0 after [#close()]).
    public int liveThreadCount() {
        int n = 0;
        for (Thread t : threads) {
            if (t.isAlive()) {
                n++;
            }
        }
        return n;
    }

    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            try {
                terminated.await(CLOSE_JOIN_NANOS, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + CLOSE_JOIN_NANOS;
        try {
            closeQuietly(server);
            closeQuietly(udp);
            udpStamps.close();
            interrupted |= join(acceptThread, deadline); // no session starts after this
            for (SinkSession session : List.copyOf(sessions)) {
                session.close();
            }
            for (Thread t : List.copyOf(threads)) {
                interrupted |= join(t, deadline);
            }
        } finally {
            terminated.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /// Joins `t` until the deadline; `true` if interrupted meanwhile (the wait goes on).
    private static boolean join(Thread t, long deadlineNanos) {
        boolean interrupted = false;
        while (t.isAlive()) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                LOG.log(System.Logger.Level.WARNING, "sink thread " + t.getName() + " did not end in time");
                break;
            }
            try {
                t.join(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        return interrupted;
    }

    // ---- package-private services for sessions

    SinkCounters counters() {
        return counters;
    }

    /// Exceptions caught where none should happen (a bug); for tests, which expect 0.
    long unexpectedFailures() {
        return counters.unexpectedFailures.get();
    }

    SessionRegistry registry() {
        return registry;
    }

    long interfaceSpeedBps(InetAddress local) {
        try {
            return interfaceSpeed.applyAsLong(local);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    SinkOptions options() {
        return options;
    }

    /// The handshake authenticator, `null` when the sink has no secret.
    HandshakeAuth auth() {
        return auth;
    }

    void sessionEnded(SinkSession session) {
        sessions.remove(session);
        limiter.release(session.source());
    }

    Thread spawnVirtual(String name, Runnable body) {
        return spawn(Thread.ofVirtual(), name, body);
    }

    private Thread spawn(Thread.Builder builder, String name, Runnable body) {
        Thread t = builder.name(name).unstarted(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                counters.unexpectedFailures.incrementAndGet();
                LOG.log(System.Logger.Level.ERROR, "sink thread " + name + " failed", e);
            } finally {
                threads.remove(Thread.currentThread());
            }
        });
        threads.add(t);
        t.start();
        return t;
    }

    // ---- accept loop

    private void runAccept() {
        long idleTimeoutNanos = options.idleTimeout().toNanos();
        while (!closed.get()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (closed.get() || server.isClosed()) {
                    return;
                }
                LOG.log(System.Logger.Level.DEBUG, () -> "sink accept failed: " + e);
                pause();
                continue;
            }
            if (closed.get()) {
                closeQuietly(socket);
                return;
            }
            SourceLimiter.Source source = limiter.admitConnection(socket.getInetAddress(), System.nanoTime());
            if (source == null) {
                counters.rateLimitedConnections.incrementAndGet();
                counters.sessionsRefused.incrementAndGet();
                closeQuietly(socket);
                continue;
            }
            if (sessions.size() >= options.maxSessions()) {
                limiter.release(source);
                counters.sessionsRefused.incrementAndGet();
                closeQuietly(socket);
                continue;
            }
            SinkSession session = new SinkSession(this, sessionIds.incrementAndGet(), socket, idleTimeoutNanos,
                    source);
            sessions.add(session);
            counters.sessionsAccepted.incrementAndGet();
            session.start();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- UDP probe loop

    private void runUdp() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 16);
        ProbeView view = new ProbeView();
        while (!closed.get()) {
            buffer.clear();
            SocketAddress from;
            try {
                from = udp.receive(buffer);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed.get() || !udp.isOpen()) {
                    return;
                }
                LOG.log(System.Logger.Level.DEBUG, () -> "sink receive failed: " + e);
                continue;
            }
            long nowNanos = System.nanoTime();
            if (!(from instanceof InetSocketAddress sender)) {
                continue;
            }
            buffer.flip();
            try {
                onDatagram(buffer, sender, nowNanos, view);
            } catch (IOException e) {
                if (closed.get() || !udp.isOpen()) {
                    return;
                }
                LOG.log(System.Logger.Level.DEBUG, () -> "sink send failed: " + e);
            } catch (RuntimeException e) {
                counters.unexpectedFailures.incrementAndGet();
                LOG.log(System.Logger.Level.WARNING, "sink failed on a datagram from " + sender, e);
            }
        }
    }

    /// Converts a [System#nanoTime()] reading to the protocol's 100 ns units.
    static long to100ns(long nanos) {
        return nanos / 100;
    }

    private void onDatagram(ByteBuffer datagram, InetSocketAddress sender, long nowNanos, ProbeView view)
            throws IOException {
        counters.bytesIn.addAndGet(datagram.remaining());
        if (!limiter.admitDatagram(sender.getAddress(), datagram.remaining(), nowNanos)) {
            counters.rateLimitedDatagrams.incrementAndGet();
            return;
        }
        if (!view.decode(datagram)) {
            counters.malformedMessages.incrementAndGet();
            return;
        }
        counters.probesReceived.incrementAndGet();
        // the arrival time only for the probes that carry it: a flood costs no extra call
        switch (view.messageId()) {
            case QlpbCodec.ID_PROBEGAP -> reflect(datagram, sender, udpStamps.receivedNs(nowNanos));
            case QlpbCodec.ID_PACKET_PAIR -> onPacketPairProbe(view, sender, nowNanos, udpStamps.receivedNs(nowNanos));
            case QlpbCodec.ID_ROUTE_CHECK -> onRouteCheckProbe(view, sender, nowNanos);
            default -> counters.droppedMessages.incrementAndGet(); // a reflected probegap: not ours
        }
    }

    /// §3.2.5.6: echo at once to the exact sender, with the receive time taken on receipt and
    /// the send time taken just before sending. A stall between that reading and the send
    /// still lengthens the RTT the initiator computes; it cannot be measured here (the send
    /// time is in the datagram before it leaves), but the window is a few microseconds, against
    /// the whole time a probe waited for this thread, which the receive timestamp now covers.
    private void reflect(ByteBuffer datagram, InetSocketAddress sender, long receivedNanos) throws IOException {
        QlpbCodec.prepareProbegapReflection(datagram, to100ns(receivedNanos));
        QlpbCodec.stampSinkSend(datagram, to100ns(System.nanoTime()));
        int sent = udp.send(datagram, sender);
        if (sent > 0) {
            counters.bytesOut.addAndGet(sent);
            counters.probegapsReflected.incrementAndGet();
        } else {
            counters.droppedMessages.incrementAndGet();
        }
    }

    private void onPacketPairProbe(ProbeView probe, InetSocketAddress sender, long nowNanos, long arrivedNanos) {
        if (probe.trainSize() == 0) {
            return; // filler: on the wire only to shape the others (§2.2.2.3)
        }
        if (probe.trainSize() > options.maxTrainProbes()) {
            counters.droppedMessages.incrementAndGet(); // bounds the memory of a session
            return;
        }
        SinkSession session = registry.find(sender.getAddress(), probe.initiatorPort());
        if (session == null || session.type() != SinkSession.Type.PACKET_PAIR) {
            counters.droppedMessages.incrementAndGet();
            return;
        }
        session.touch(nowNanos);
        PacketPairTrain train = session.packetPair();
        PacketPairTrain.Outcome outcome = train.onProbe(probe.sequence(), probe.trainSize(), probe.first(),
                probe.lengthBytes(), to100ns(arrivedNanos));
        if (outcome != PacketPairTrain.Outcome.IGNORED) {
            session.received(probe.lengthBytes());
        }
        switch (outcome) {
            case IGNORED -> counters.droppedMessages.incrementAndGet();
            case COMPLETED -> {
                counters.packetPairTrains.incrementAndGet(); // before the reply can reach anyone
                if (!session.send(train.summary(session.interfaceSpeedBps()))) {
                    counters.droppedMessages.incrementAndGet();
                }
            }
            case STARTED, ACCEPTED -> {
            }
        }
    }

    private void onRouteCheckProbe(ProbeView probe, InetSocketAddress sender, long nowNanos) {
        SinkSession session = registry.find(sender.getAddress(), probe.initiatorPort());
        if (session == null || session.type() != SinkSession.Type.ROUTE_CHECK) {
            counters.droppedMessages.incrementAndGet();
            return;
        }
        session.touch(nowNanos);
        session.received(probe.lengthBytes());
        Observation observation = session.routeCheck().onProbe(probe.sequence(), probe.trainSize(),
                probe.oversized());
        if (observation != null) {
            counters.routeCheckSummaries.incrementAndGet(); // before the reply can reach anyone
            if (!session.send(new RouteCheckSummary(observation))) {
                counters.droppedMessages.incrementAndGet();
            }
        }
    }

    private static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            // nothing more to release
        }
    }
}
