package io.quaver.internal;

import io.quaver.Marks;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.internal.shaping.GcraShaper;
import io.quaver.internal.shaping.Pacer;
import io.quaver.internal.shaping.PacingPolicy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/// The send path of one flow: paces ([Mode#PACE]) or marks per datagram
/// ([Mode#MARK_NON_CONFORMANT]) what the application sends through
/// [io.quaver.QosFlow#send], lock-free on the hot path.
///
/// The engine configures it (under its lock) whenever the flow's rate, marks, enforcement or
/// sockets change; senders read volatile snapshots. One [GcraShaper] per flow makes the rate
/// apply to the flow as a whole, whichever of its sockets or destinations a datagram uses.
/// Bytes are counted at the IP level: payload + 28 (IPv4/UDP) or 48 (IPv6/UDP) per datagram.
final class FlowSender implements SendPath {
    /// What the send path does with a datagram.
    enum Mode {
        /// Send at once with the flow's marks (no rate, or the kernel enforces it).
        DIRECT,
        /// Delay to the rate (shaper `reserve`).
        PACE,
        /// Never delay; datagrams beyond the rate carry the non-conformant marks.
        MARK_NON_CONFORMANT
    }

    /// One (socket, destination) registration of the flow.
    record Registration(Engine.SocketState socket, InetSocketAddress destination, int headerBytes) {
    }

    private static final Registration[] NONE = new Registration[0];

    final int flowId;
    private final Pacer pacer;
    private volatile Registration[] registrations = NONE;
    private volatile Mode mode = Mode.DIRECT;
    private volatile GcraShaper shaper;
    private volatile Marks conformant;
    private volatile Marks nonConformant = Marks.NONE;
    /// Whether the flow carries 802.1p tags (adaptive, on-link, path verified): then the
    /// per-datagram marks include the user priority (non-conformant: 0).
    private volatile boolean l2Tagging;
    private volatile QosError closedError; // null while open
    private boolean pacerHeld; // engine lock
    private final AtomicInteger queued = new AtomicInteger();
    /// The thread that most recently started waiting in a blocking send (unparked on close);
    /// other waiters notice a close within [#MAX_PARK_SLICE_NS]. No allocation per send.
    private volatile Thread lastWaiter;
    /// Longest single park of a blocking send, so that every waiter sees a close promptly.
    private static final long MAX_PARK_SLICE_NS = 10_000_000;

    private final EngineMetrics metrics;
    /// IP-level bytes handed to the kernel so far, counted only on a mirror engine's flows
    /// (a daemon's clients report them); `null` elsewhere, so that an embedded send pays nothing.
    private final LongAdder ipBytesSent;
    /// The engine's send counters, held directly: one dereference less per datagram.
    private final LongAdder sentAtOnce;
    private final LongAdder sentDelayed;
    private final LongAdder sentNonConformant;

    /// @param countBytes count the IP-level bytes sent ([#ipBytesSent]): a mirror engine's flow
    FlowSender(int flowId, Pacer pacer, EngineMetrics metrics, boolean countBytes) {
        this.flowId = flowId;
        this.ipBytesSent = countBytes ? new LongAdder() : null;
        this.pacer = pacer;
        this.metrics = metrics;
        this.sentAtOnce = metrics.sentAtOnce;
        this.sentDelayed = metrics.sentDelayed;
        this.sentNonConformant = metrics.sentNonConformant;
    }

    // ------------------------------------------------------------------ configuration (engine lock)

    void setRegistrations(Registration[] regs) {
        this.registrations = regs;
    }

    void setMarks(Marks conformant, Marks nonConformant, boolean l2Tagging) {
        this.conformant = conformant;
        this.nonConformant = nonConformant;
        this.l2Tagging = l2Tagging;
    }

    /// Switches the mode; `rateBps` and `burstBytes` matter for PACE and MARK_NON_CONFORMANT.
    void configure(Mode next, long rateBps, long burstBytes) {
        if (next != Mode.DIRECT) {
            GcraShaper s = shaper;
            if (s == null) {
                shaper = new GcraShaper(rateBps, burstBytes, System.nanoTime());
            } else if (s.rateBps() != rateBps || s.burstBytes() != burstBytes) {
                s.setRate(rateBps, burstBytes);
            }
        } else {
            shaper = null;
        }
        if (next == Mode.PACE && !pacerHeld) {
            pacer.acquire();
            pacerHeld = true;
        } else if (next != Mode.PACE && pacerHeld) {
            pacer.release();
            pacerHeld = false;
        }
        this.mode = next;
    }

    Mode mode() {
        return mode;
    }

    /// Marks the send path closed: new sends fail with `error`, blocked senders wake and fail
    /// with `OPERATION_ABORTED`. Aborting queued jobs is [#abortQueued()], outside the lock.
    void markClosed(QosError error) {
        if (closedError == null) {
            closedError = error;
        }
        Thread t = lastWaiter;
        if (t != null) {
            LockSupport.unpark(t);
        }
        if (pacerHeld) {
            pacer.release();
            pacerHeld = false;
        }
    }

    /// Completes queued sends with `OPERATION_ABORTED` (995); call without the engine lock.
    void abortQueued() {
        pacer.abort(this, aborted());
    }

    /// IP-level bytes sent through this send path so far (payload and UDP/IP or estimated
    /// TCP/IP headers); 0 where they are not counted (flows of an embedded engine).
    long ipBytesSent() {
        return ipBytesSent == null ? 0 : ipBytesSent.sum();
    }

    // ------------------------------------------------------------------ sending

    /// Sends on the flow's only registration (blocking; paced as configured).
    @Override
    public int send(ByteBuffer payload) {
        Registration r = only();
        if (r.socket().channel instanceof SocketChannel) {
            return sendStream(r, payload);
        }
        return sendDatagram(r, payload);
    }

    /// Sends on registration (socket, destination) of the flow (blocking; paced as configured).
    @Override
    public int send(DatagramChannel socket, ByteBuffer payload, InetSocketAddress destination) {
        return sendDatagram(find(socket, destination), payload);
    }

    /// Sends later, on the pacer thread, at the datagram's departure time.
    @Override
    public CompletableFuture<Integer> sendAsync(DatagramChannel socket, ByteBuffer payload, InetSocketAddress destination) {
        Registration r = socket == null ? only() : find(socket, destination);
        if (!(r.socket().channel instanceof DatagramChannel)) {
            throw Errors.invalidParameter("the asynchronous send is for UDP flows; use send(ByteBuffer) on TCP");
        }
        checkOpen();
        if (payload == null) {
            throw Errors.invalidParameter("payload is null");
        }
        Mode m = mode;
        GcraShaper s = shaper;
        if (m != Mode.PACE || s == null) {
            try {
                return CompletableFuture.completedFuture(sendDatagram(r, payload));
            } catch (QosException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        int wire = payload.remaining() + r.headerBytes();
        long now = System.nanoTime();
        long wait = s.reserve(now, wire);
        if (wait == 0 && queued.get() == 0) {
            sentAtOnce.increment();
            try {
                return CompletableFuture.completedFuture(transmit(r, payload, conformant));
            } catch (QosException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        sentDelayed.increment();
        CompletableFuture<Integer> f = new CompletableFuture<>();
        long gapNs = PacingPolicy.packetTimeNs(s.rateBps(), wire);
        queued.incrementAndGet();
        pacer.submit(now + wait, new Pacer.Job() {
            @Override
            public void fire() {
                queued.decrementAndGet();
                if (closedError != null) {
                    metrics.sendsAborted.increment();
                    f.completeExceptionally(aborted());
                    return;
                }
                try {
                    f.complete(transmit(r, payload, conformant));
                } catch (QosException e) {
                    f.completeExceptionally(e);
                }
            }

            @Override
            public void abort(Throwable cause) {
                queued.decrementAndGet();
                metrics.sendsAborted.increment();
                f.completeExceptionally(cause);
            }

            @Override
            public Object owner() {
                return FlowSender.this;
            }

            @Override
            public long gapNs() {
                return gapNs;
            }
        });
        return f;
    }

    /// The earliest `System.nanoTime()` at which a datagram sent now on this flow would
    /// conform to the rate (now when nothing is shaped).
    @Override
    public long nextSendTimeNs() {
        GcraShaper s = shaper;
        long now = System.nanoTime();
        return s == null ? now : Math.max(now, s.nextConformantNs(now));
    }

    /// Callers have checked that the flow is open (in [#only()], [#find] or [#sendAsync]).
    private int sendDatagram(Registration r, ByteBuffer payload) {
        if (payload == null) {
            throw Errors.invalidParameter("payload is null");
        }
        Mode m = mode;
        GcraShaper s = shaper;
        int wire = payload.remaining() + r.headerBytes();
        if (m == Mode.PACE && s != null) {
            long now = System.nanoTime();
            long wait = s.reserve(now, wire);
            if (wait > 0) {
                sentDelayed.increment();
                await(now + wait, PacingPolicy.packetTimeNs(s.rateBps(), wire));
            } else {
                sentAtOnce.increment();
            }
            return transmit(r, payload, conformant);
        }
        if (m == Mode.MARK_NON_CONFORMANT && s != null) {
            boolean ok = s.tryConsume(System.nanoTime(), wire);
            (ok ? sentAtOnce : sentNonConformant).increment();
            return transmit(r, payload, ok ? conformant : nonConformant);
        }
        return transmit(r, payload, conformant);
    }

    /// TCP through the send path: the stream is written in chunks of about 1 ms at the rate
    /// (at least one MSS, at most 64 KiB), each paced for its IP-level size.
    private int sendStream(Registration r, ByteBuffer payload) {
        if (payload == null) {
            throw Errors.invalidParameter("payload is null");
        }
        SocketChannel ch = (SocketChannel) r.socket().channel;
        int total = 0;
        try {
            while (payload.hasRemaining()) {
                GcraShaper s = shaper;
                int chunk = payload.remaining();
                if (mode == Mode.PACE && s != null) {
                    chunk = (int) Math.min(chunk, Math.clamp(s.rateBps() / 8 / 1000, 1448, 65_536));
                    long wire = PacingPolicy.tcpWireBytes(chunk, 1448, r.headerBytes());
                    long now = System.nanoTime();
                    long wait = s.reserve(now, (int) wire);
                    if (wait > 0) {
                        sentDelayed.increment();
                        await(now + wait, PacingPolicy.packetTimeNs(s.rateBps(), wire));
                    } else {
                        sentAtOnce.increment();
                    }
                }
                ByteBuffer slice = payload.slice(payload.position(), chunk);
                while (slice.hasRemaining()) {
                    int n = ch.write(slice);
                    if (n == 0) {
                        Thread.onSpinWait(); // a non-blocking channel with a full buffer
                    }
                }
                payload.position(payload.position() + chunk);
                if (ipBytesSent != null) {
                    ipBytesSent.add(PacingPolicy.tcpWireBytes(chunk, 1448, r.headerBytes()));
                }
                total += chunk;
            }
            return total;
        } catch (IOException e) {
            throw sendFailed(e);
        }
    }

    /// 1117 for a failed send; a socket the application closed says so (docs/errors.md).
    static QosException sendFailed(IOException e) {
        if (e instanceof java.nio.channels.ClosedChannelException) {
            return new QosException(QosError.IO_DEVICE, "send failed: the flow's socket is closed (remove it from the"
                    + " flow, or close the flow)", e);
        }
        return new QosException(QosError.IO_DEVICE, "send failed: " + e.getMessage(), e);
    }

    private int transmit(Registration r, ByteBuffer payload, Marks marks) {
        Engine.SocketState st = r.socket();
        int tos = marks == null ? st.originalTos : (marks.tos() | (st.originalTos & 0x3));
        int priority = l2Tagging && marks != null ? marks.userPriority() : -1;
        if (st.appliedTos != tos || (priority >= 0 && st.appliedPriority != priority)) {
            st.switchMarks(tos, priority);
        }
        DatagramChannel ch = (DatagramChannel) st.channel;
        try {
            int n = write(st, ch, payload, r);
            if (n > 0 && ipBytesSent != null) {
                ipBytesSent.add(n + r.headerBytes());
            }
            return n;
        } catch (IOException e) {
            throw sendFailed(e);
        }
    }

    /// A connected channel writes to its peer, an unconnected one sends to the registration's
    /// destination. `isConnected()` takes the channel's state lock on every call, so the
    /// socket's last known state is tried instead; the JDK rejects the wrong call before sending
    /// anything, and the state is then corrected (only when the application connects or
    /// disconnects the channel).
    private static int write(Engine.SocketState st, DatagramChannel ch, ByteBuffer payload, Registration r)
            throws IOException {
        if (st.datagramConnected) {
            try {
                return ch.write(payload);
            } catch (NotYetConnectedException disconnected) {
                st.datagramConnected = false;
            }
        }
        try {
            return ch.send(payload, r.destination());
        } catch (AlreadyConnectedException connectedElsewhere) {
            st.datagramConnected = true;
            return ch.write(payload);
        }
    }

    /// Waits for `deadlineNs` on the calling thread: parks, then spins for a window fitted to
    /// the host's wake-up latency and to `gapNs`, the flow's packet spacing
    /// ([PacingPolicy#spinWindowNs]).
    private void await(long deadlineNs, long gapNs) {
        Thread me = Thread.currentThread();
        lastWaiter = me;
        try {
            while (true) {
                if (closedError != null) {
                    metrics.sendsAborted.increment();
                    throw aborted();
                }
                if (me.isInterrupted()) {
                    throw new QosException(QosError.OPERATION_ABORTED, "interrupted while waiting to send");
                }
                long remaining = deadlineNs - System.nanoTime();
                if (remaining <= 0) {
                    return;
                }
                long window = PacingPolicy.spinWindowNs(gapNs, PacingPolicy.PARK_OVERSHOOT.estimateNs());
                long park = PacingPolicy.parkNs(remaining, window);
                if (park > 0) {
                    PacingPolicy.parkAndLearn(this, Math.min(park, MAX_PARK_SLICE_NS));
                } else {
                    Thread.onSpinWait();
                }
            }
        } finally {
            if (lastWaiter == me) {
                lastWaiter = null;
            }
        }
    }

    private Registration only() {
        Registration[] regs = registrations;
        checkOpen();
        if (regs.length != 1) {
            throw Errors.invalidParameter("send(ByteBuffer) needs a flow of exactly one socket and destination; flow "
                    + Integer.toUnsignedString(flowId) + " has " + regs.length
                    + " (use send(socket, payload, destination))");
        }
        return regs[0];
    }

    private Registration find(NetworkChannel socket, InetSocketAddress destination) {
        checkOpen();
        if (socket == null) {
            throw Errors.invalidParameter("socket is null");
        }
        boolean member = false;
        for (Registration r : registrations) {
            if (r.socket().channel == socket) {
                member = true;
                if (destination == null || Addresses.sameEndpoint(r.destination(), destination)) {
                    return r;
                }
            }
        }
        if (!member) {
            throw Errors.notFound("the socket is not in flow " + Integer.toUnsignedString(flowId));
        }
        throw Errors.invalidParameter("destination " + destination + " is not registered for this socket in flow "
                + Integer.toUnsignedString(flowId));
    }

    private void checkOpen() {
        QosError e = closedError;
        if (e != null) {
            throw new QosException(e, e == QosError.INVALID_HANDLE ? "the QoS handle is closed"
                    : "no flow " + Integer.toUnsignedString(flowId) + " on this handle");
        }
    }

    private static QosException aborted() {
        return new QosException(QosError.OPERATION_ABORTED, "the flow or its QoS handle was closed");
    }
}
