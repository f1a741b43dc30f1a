package io.quaver.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/// An in-process emulated link for UDP: a relay on loopback with a bottleneck, queue, delay,
/// jitter, loss and cross traffic in each direction.
///
/// Clients send to [#ingressAddress()]; the emulator forwards each datagram to the target through
/// the *forward* [EmulatedLink]. For every client address it opens one upstream socket (like a
/// port-mapping NAT, but without rewriting anything visible to the client), so whatever the target
/// sends back to that socket is relayed through the *reverse* link to that client: request/response
/// protocols work through it, with several clients at once.
///
/// ```
/// client ──▶ ingress socket ══ forward link ══▶ upstream socket (one per client) ──▶ target
/// client ◀── ingress socket ◀══ reverse link ══ upstream socket ◀──────────────────── target
/// ```
///
/// Each direction has its own [LinkConfig]; the reverse direction is unshaped unless configured.
/// Parameters can be changed while running through [#forward()] and [#reverse()] for step-change
/// experiments, and counters read with [EmulatedLink#stats()].
///
/// ```java
/// try (var link = LinkEmulator.builder()
///         .target(server.getLocalAddress())
///         .forward(LinkConfig.ofRateBps(10_000_000).withDelayNs(20_000_000))
///         .build()) {
///     client.send(buf, link.ingressAddress());
///     ...
///     link.forward().setCrossTrafficBps(4_000_000);
/// }
/// ```
///
/// Threads: four platform daemon threads named `quaver-linkemu-<id>-{fwd,rev}-{rx,tx}`: one
/// receiver and one sender per direction. [#close()] stops and joins them and closes every socket.
public final class LinkEmulator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LinkEmulator.class.getName());
    private static final AtomicInteger IDS = new AtomicInteger();

    /// Default spin window before a delivery time: 100 µs.
    public static final long DEFAULT_SPIN_NS = 100_000;
    /// Default socket buffer size requested (the kernel caps it at `net.core.rmem_max`/`wmem_max`).
    public static final int DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
    /// Default maximum number of client addresses (upstream sockets).
    public static final int DEFAULT_MAX_SESSIONS = 1024;

    private record Session(SocketAddress client, DatagramChannel upstream) {
    }

    private final String name;
    private final InetSocketAddress target;
    private final DatagramChannel ingress;
    private final InetSocketAddress ingressAddress;
    private final Selector selector;
    private final EmulatedLink forward;
    private final EmulatedLink reverse;
    private final Map<SocketAddress, Session> sessions = new ConcurrentHashMap<>();
    private final int maxSessions;
    private final int socketBufferBytes;
    private final Thread forwardReceiver;
    private final Thread reverseReceiver;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong refusedPackets = new AtomicLong();
    private volatile boolean closed;

    private LinkEmulator(Builder b) throws IOException {
        this.name = "quaver-linkemu-" + IDS.incrementAndGet();
        this.target = Objects.requireNonNull(b.target, "target");
        if (target.isUnresolved()) {
            throw new IllegalArgumentException("target must be resolved: " + target);
        }
        boolean targetIpv6 = target.getAddress() instanceof Inet6Address;
        InetSocketAddress bindTo = b.ingress != null ? b.ingress
                : new InetSocketAddress(targetIpv6 ? InetAddress.getByName("::1") : InetAddress.getByName("127.0.0.1"), 0);
        boolean ingressIpv6 = bindTo.getAddress() instanceof Inet6Address;
        this.maxSessions = b.maxSessions;
        this.socketBufferBytes = b.socketBufferBytes;
        this.selector = Selector.open();
        DatagramChannel in = null;
        try {
            in = DatagramChannel.open(family(ingressIpv6));
            tune(in);
            in.bind(bindTo);
            this.ingress = in;
            this.ingressAddress = (InetSocketAddress) in.getLocalAddress();
        } catch (IOException | RuntimeException e) {
            if (in != null) {
                in.close();
            }
            selector.close();
            throw e;
        }
        this.forward = new EmulatedLink(name + "-fwd-tx", b.forward, targetIpv6, b.spinNs, this::fail);
        this.reverse = new EmulatedLink(name + "-rev-tx", b.reverse, ingressIpv6, b.spinNs, this::fail);
        this.forwardReceiver = Thread.ofPlatform().name(name + "-fwd-rx").daemon(true).unstarted(this::runForwardReceiver);
        this.reverseReceiver = Thread.ofPlatform().name(name + "-rev-rx").daemon(true).unstarted(this::runReverseReceiver);
        forward.start();
        reverse.start();
        forwardReceiver.start();
        reverseReceiver.start();
    }

    /// A new builder.
    public static Builder builder() {
        return new Builder();
    }

    private static ProtocolFamily family(boolean ipv6) {
        return ipv6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }

    private void tune(DatagramChannel ch) throws IOException {
        ch.setOption(StandardSocketOptions.SO_RCVBUF, socketBufferBytes);
        ch.setOption(StandardSocketOptions.SO_SNDBUF, socketBufferBytes);
    }

    /// Where clients send: the emulator's ingress socket.
    public InetSocketAddress ingressAddress() {
        return ingressAddress;
    }

    /// Where datagrams are forwarded.
    public InetSocketAddress targetAddress() {
        return target;
    }

    /// The client → target direction.
    public EmulatedLink forward() {
        return forward;
    }

    /// The target → client direction.
    public EmulatedLink reverse() {
        return reverse;
    }

    /// Number of client addresses seen (each has its own upstream socket).
    public int sessionCount() {
        return sessions.size();
    }

    /// Datagrams thrown away because [Builder#maxSessions] client addresses were already in use.
    public long refusedPackets() {
        return refusedPackets.get();
    }

    /// The local address of the upstream socket used for `client`, if it has sent anything: the
    /// source address the target sees.
    public InetSocketAddress upstreamAddressFor(SocketAddress client) throws IOException {
        Session s = sessions.get(client);
        return s == null ? null : (InetSocketAddress) s.upstream().getLocalAddress();
    }

    /// Waits until no datagram is in flight in either direction (everything received has been
    /// delivered, dropped or lost); returns `false` on timeout.
    public boolean awaitDrained(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (forward.stats().inFlightPackets() > 0 || reverse.stats().inFlightPackets() > 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    private void runForwardReceiver() {
        ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
        try {
            while (!closed) {
                buf.clear();
                SocketAddress client = ingress.receive(buf);
                long arrivalNs = System.nanoTime();
                buf.flip();
                byte[] data = new byte[buf.remaining()];
                buf.get(data);
                Session session;
                try {
                    session = sessionFor(client);
                } catch (UncheckedIOException e) {
                    // Could not open an upstream socket (descriptors exhausted?): refuse this
                    // datagram, keep relaying for the others, and report the problem on close().
                    fail(e);
                    session = null;
                }
                if (session == null) {
                    refusedPackets.incrementAndGet();
                    continue;
                }
                forward.accept(arrivalNs, data, session.upstream(), target);
            }
        } catch (ClosedChannelException e) {
            if (!closed) {
                fail(e);
            }
        } catch (Throwable t) {
            if (!closed) {
                fail(t);
            }
        }
    }

    private Session sessionFor(SocketAddress client) {
        Session s = sessions.get(client);
        if (s != null || sessions.size() >= maxSessions) {
            return s;
        }
        try {
            boolean ipv6 = target.getAddress() instanceof Inet6Address;
            DatagramChannel up = DatagramChannel.open(family(ipv6));
            try {
                tune(up);
                InetAddress local = target.getAddress().isLoopbackAddress()
                        ? target.getAddress()
                        : InetAddress.getByName(ipv6 ? "::" : "0.0.0.0");
                up.bind(new InetSocketAddress(local, 0));
                up.configureBlocking(false);
                s = new Session(client, up);
                // Registering while the reverse receiver is blocked in select() is allowed (JDK 11+);
                // the wakeup makes it take the new key into account at once.
                up.register(selector, SelectionKey.OP_READ, s);
                sessions.put(client, s);
                selector.wakeup();
                return s;
            } catch (IOException | RuntimeException e) {
                up.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void runReverseReceiver() {
        ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
        try {
            while (!closed) {
                selector.select();
                for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey key = it.next();
                    it.remove();
                    if (!key.isValid() || !key.isReadable()) {
                        continue;
                    }
                    Session s = (Session) key.attachment();
                    while (true) {
                        buf.clear();
                        SocketAddress from = s.upstream().receive(buf);
                        if (from == null) {
                            break;
                        }
                        long arrivalNs = System.nanoTime();
                        buf.flip();
                        byte[] data = new byte[buf.remaining()];
                        buf.get(data);
                        reverse.accept(arrivalNs, data, ingress, s.client());
                    }
                }
            }
        } catch (ClosedChannelException | ClosedSelectorException e) {
            if (!closed) {
                fail(e);
            }
        } catch (Throwable t) {
            if (!closed) {
                fail(t);
            }
        }
    }

    private void fail(Throwable t) {
        if (failure.compareAndSet(null, t)) {
            LOG.log(System.Logger.Level.WARNING, name + " thread failed", t);
        }
    }

    /// The threads of this emulator (for leak checks and diagnostics).
    List<Thread> threads() {
        return List.of(forwardReceiver, reverseReceiver, forward.thread(), reverse.thread());
    }

    /// Stops the threads, waits for them and closes all sockets. Datagrams still in flight are
    /// discarded.
    ///
    /// @throws IllegalStateException if one of the emulator's threads had failed unexpectedly (after
    ///         everything has been closed), so that bugs in tests or in the emulator do not go unseen
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Throwable> problems = new ArrayList<>();
        closeQuietly(ingress, problems);
        selector.wakeup();
        join(forwardReceiver);
        join(reverseReceiver);
        forward.close();
        reverse.close();
        for (Session s : sessions.values()) {
            closeQuietly(s.upstream(), problems);
        }
        try {
            selector.close();
        } catch (IOException e) {
            problems.add(e);
        }
        Throwable t = failure.get();
        if (t != null) {
            var e = new IllegalStateException(name + " failed while running: " + t, t);
            problems.forEach(e::addSuppressed);
            throw e;
        }
    }

    private static void closeQuietly(DatagramChannel ch, List<Throwable> problems) {
        try {
            ch.close();
        } catch (IOException e) {
            problems.add(e);
        }
    }

    private static void join(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            t.interrupt();
        }
    }

    @Override
    public String toString() {
        return name + "[" + ingressAddress + " → " + target + "]";
    }

    /// Builder for [LinkEmulator]. Only [#target] is required.
    public static final class Builder {
        private InetSocketAddress target;
        private InetSocketAddress ingress;
        private LinkConfig forward = LinkConfig.unshaped();
        private LinkConfig reverse = LinkConfig.unshaped();
        private long spinNs = DEFAULT_SPIN_NS;
        private int socketBufferBytes = DEFAULT_SOCKET_BUFFER_BYTES;
        private int maxSessions = DEFAULT_MAX_SESSIONS;

        private Builder() {
        }

        /// Where to forward datagrams (a loopback address, or one inside a namespace of yours).
        public Builder target(InetSocketAddress target) {
            this.target = target;
            return this;
        }

        /// Where to forward datagrams, as a socket address (for example a channel's local address).
        public Builder target(SocketAddress target) {
            return target((InetSocketAddress) target);
        }

        /// The ingress socket's address; default: loopback of the target's family, ephemeral port.
        public Builder ingress(InetSocketAddress ingress) {
            this.ingress = ingress;
            return this;
        }

        /// The client → target direction; default [LinkConfig#unshaped()].
        public Builder forward(LinkConfig forward) {
            this.forward = Objects.requireNonNull(forward);
            return this;
        }

        /// The target → client direction; default [LinkConfig#unshaped()].
        public Builder reverse(LinkConfig reverse) {
            this.reverse = Objects.requireNonNull(reverse);
            return this;
        }

        /// Time before a delivery at which senders stop parking and start spinning; default
        /// [#DEFAULT_SPIN_NS]. 0 parks only (less CPU, less accurate).
        public Builder spinNs(long spinNs) {
            if (spinNs < 0) {
                throw new IllegalArgumentException("spinNs must be >= 0");
            }
            this.spinNs = spinNs;
            return this;
        }

        /// Receive and send buffer size requested for every socket.
        public Builder socketBufferBytes(int socketBufferBytes) {
            if (socketBufferBytes <= 0) {
                throw new IllegalArgumentException("socketBufferBytes must be > 0");
            }
            this.socketBufferBytes = socketBufferBytes;
            return this;
        }

        /// Maximum number of distinct client addresses; datagrams from further ones are refused.
        public Builder maxSessions(int maxSessions) {
            if (maxSessions <= 0) {
                throw new IllegalArgumentException("maxSessions must be > 0");
            }
            this.maxSessions = maxSessions;
            return this;
        }

        /// Opens the sockets and starts the threads.
        public LinkEmulator build() throws IOException {
            return new LinkEmulator(this);
        }
    }
}
