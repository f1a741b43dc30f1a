package io.quaver.internal.qlpb;

import io.quaver.internal.qlpb.DecodeResult.Decoded;
import io.quaver.internal.qlpb.DecodeResult.Rejected;
import io.quaver.internal.qlpb.QlpbMessage.AuthenticatedHandshake;
import io.quaver.internal.qlpb.QlpbMessage.Discard;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairHandshake;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckHandshake;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/// One control connection of the sink (a "Probe Session" of [MS-QLPB] §3.2.1) and its two
/// virtual threads: the *reader* decodes what the initiator sends (handshake or Discard,
/// then flood bytes) and owns the session's lifetime; the *writer* sends what the sink has
/// to say (Handshake Success, summaries) from a small queue, so the UDP thread never blocks
/// on TCP.
///
/// The probe state ([#packetPair()], [#routeCheck()]) belongs to the sink's UDP thread; it is
/// created with the session and published to that thread through the [SessionRegistry] at
/// the handshake.
///
/// ## No amplification
/// A session never sends more bytes than it received: its TCP bytes plus the probes accepted
/// for it ([#received(int)]) are its *reply budget*, and a reply that would exceed it is
/// suppressed (counted). A well-formed [MS-QLPB] exchange never reaches the budget: a
/// handshake (4 or 60 bytes) is answered by 4; a train of n ≥ 2 probes of ≥ 12 bytes by a
/// 16 + 8·(n − 1)-byte summary; a route-check train by 4 bytes. Queued replies are also bounded
/// in bytes (four summaries of the longest train accepted), which with the train buffer bounds
/// a session's memory.
final class SinkSession {
    /// What the connection turned out to be (§3.2.1 "Type").
    enum Type { UNKNOWN, PACKET_PAIR, ROUTE_CHECK, DISCARD }

    private static final System.Logger LOG = System.getLogger("io.quaver.sink");
    private static final byte[] HANDSHAKE_SUCCESS = bytes(new QlpbMessage.HandshakeSuccess());
    /// Replies queued per session before further ones are dropped (an initiator that stops
    /// reading cannot make the sink hold more).
    private static final int OUTBOUND_CAPACITY = io.quaver.SinkOptions.MAX_QUEUED_REPLIES;
    private static final int READ_CHUNK_BYTES = 16 * 1024;

    private final SinkEngine engine;
    private final long id;
    private final Socket socket;
    private final InetAddress initiatorAddress;
    private final int initiatorPort;
    private final long idleTimeoutNanos;
    private final ArrayBlockingQueue<byte[]> outbound = new ArrayBlockingQueue<>(OUTBOUND_CAPACITY);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final PacketPairTrain packetPair = new PacketPairTrain();
    private final RouteCheckObserver routeCheck = new RouteCheckObserver();
    private volatile Type type = Type.UNKNOWN;
    private volatile long lastActivityNanos;
    private volatile long interfaceSpeedBps;
    private volatile Thread writer;
    private final SourceLimiter.Source source;
    private final AtomicLong bytesReceived = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final long maxQueuedBytes;

    SinkSession(SinkEngine engine, long id, Socket socket, long idleTimeoutNanos, SourceLimiter.Source source) {
        this.engine = engine;
        this.source = source;
        this.maxQueuedBytes = 4L * (QlpbCodec.SUMMARY_FIXED_BYTES
                + (long) QlpbCodec.DELTA_BYTES * (engine.options().maxTrainProbes() - 1));
        this.id = id;
        this.socket = socket;
        this.initiatorAddress = socket.getInetAddress();
        this.initiatorPort = socket.getPort();
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.lastActivityNanos = System.nanoTime();
    }

    long id() {
        return id;
    }

    InetAddress initiatorAddress() {
        return initiatorAddress;
    }

    int initiatorPort() {
        return initiatorPort;
    }

    Type type() {
        return type;
    }

    /// The packet-pair receiver (UDP thread only).
    PacketPairTrain packetPair() {
        return packetPair;
    }

    /// The route-check observer (UDP thread only).
    RouteCheckObserver routeCheck() {
        return routeCheck;
    }

    long interfaceSpeedBps() {
        return interfaceSpeedBps;
    }

    /// The per-source entry this session counts against.
    SourceLimiter.Source source() {
        return source;
    }

    /// Adds `bytes` received for this session (a probe accepted for it) to its reply budget.
    void received(int bytes) {
        bytesReceived.addAndGet(bytes);
    }

    /// Marks the session active now (a probe for it arrived).
    void touch(long nowNanos) {
        lastActivityNanos = nowNanos;
    }

    /// Starts the reader and writer threads.
    void start() {
        Thread w = engine.spawnVirtual("quaver-sink-writer-" + id, this::runWriter);
        writer = w;
        if (closed.get()) {
            w.interrupt();
        }
        engine.spawnVirtual("quaver-sink-session-" + id, this::runReader);
    }

    /// Queues a message for the initiator; never blocks.
    ///
    /// @return `false` if the queue was full or the session closed (the message is dropped)
    boolean send(QlpbMessage message) {
        return !closed.get() && enqueue(bytes(message));
    }

    /// Queues a reply within the reply budget and the queue bounds.
    private boolean enqueue(byte[] reply) {
        while (true) {
            long sent = bytesSent.get();
            if (sent + reply.length > bytesReceived.get()) {
                engine.counters().repliesSuppressed.incrementAndGet();
                return false;
            }
            if (bytesSent.compareAndSet(sent, sent + reply.length)) {
                break;
            }
        }
        if (queuedBytes.addAndGet(reply.length) > maxQueuedBytes || !outbound.offer(reply)) {
            queuedBytes.addAndGet(-reply.length);
            bytesSent.addAndGet(-reply.length);
            return false;
        }
        return true;
    }

    private static byte[] bytes(QlpbMessage message) {
        byte[] out = new byte[QlpbCodec.encodedLength(message)];
        QlpbCodec.encode(message, ByteBuffer.wrap(out));
        return out;
    }

    /// Closes the connection and stops both threads; idempotent, callable from any thread.
    void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        engine.registry().remove(this);
        try {
            socket.close();
        } catch (IOException | RuntimeException e) {
            // nothing more to release
        }
        Thread w = writer;
        if (w != null) {
            w.interrupt();
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    private void runReader() {
        boolean timedOut = false;
        SinkCounters counters = engine.counters();
        try {
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            byte[] chunk = new byte[READ_CHUNK_BYTES];
            // Initiators send only header-sized messages; a summary (a sink's message) from
            // them is out of place, so never buffer one of any size.
            QlpbStreamDecoder decoder = new QlpbStreamDecoder(1);
            while (!closed.get()) {
                long remainingNanos = idleTimeoutNanos - (System.nanoTime() - lastActivityNanos);
                if (remainingNanos <= 0) {
                    timedOut = true;
                    break;
                }
                socket.setSoTimeout((int) Math.clamp(TimeUnit.NANOSECONDS.toMillis(remainingNanos) + 1, 1,
                        Integer.MAX_VALUE));
                int n;
                try {
                    n = in.read(chunk);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                if (n < 0) {
                    break;
                }
                lastActivityNanos = System.nanoTime();
                counters.bytesIn.addAndGet(n);
                bytesReceived.addAndGet(n);
                if (type == Type.DISCARD) {
                    counters.discardedBytes.addAndGet(n);
                    continue;
                }
                decoder.feed(chunk, 0, n);
                if (!handleMessages(decoder, counters)) {
                    break;
                }
            }
        } catch (IOException e) {
            // the connection broke or the session was closed
        } catch (RuntimeException | Error e) {
            counters.unexpectedFailures.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "sink session " + id + " failed", e);
        } finally {
            boolean closedByIdleTimeout = timedOut && !closed.get();
            close();
            engine.sessionEnded(this);
            if (closedByIdleTimeout) {
                counters.sessionsTimedOut.incrementAndGet();
            }
        }
    }

    /// Handles every complete message; `false` = close the session.
    private boolean handleMessages(QlpbStreamDecoder decoder, SinkCounters counters) {
        for (DecodeResult result = decoder.poll(); result != null; result = decoder.poll()) {
            if (result instanceof Rejected rejected) {
                counters.malformedMessages.incrementAndGet();
                LOG.log(System.Logger.Level.DEBUG, () -> "sink session " + id + ": " + rejected.detail());
                return false;
            }
            QlpbMessage message = ((Decoded) result).message();
            if (type != Type.UNKNOWN) {
                // §3.2.5.1-3: a handshake or Discard on a session that already has a type
                // destroys it; and an initiator never sends anything else
                counters.droppedMessages.incrementAndGet();
                return false;
            }
            switch (message) {
                case Discard _ -> {
                    type = Type.DISCARD;
                    counters.discardedBytes.addAndGet(decoder.discardBuffered());
                    return true;
                }
                case PacketPairHandshake _ when engine.auth() == null -> handshake(Type.PACKET_PAIR);
                case RouteCheckHandshake _ when engine.auth() == null -> handshake(Type.ROUTE_CHECK);
                case PacketPairHandshake _, RouteCheckHandshake _ -> {
                    counters.authFailures.incrementAndGet(); // a sink with a secret: no answer
                    return false;
                }
                case AuthenticatedHandshake a -> {
                    HandshakeAuth auth = engine.auth();
                    HandshakeAuth.Verdict verdict = auth == null ? HandshakeAuth.Verdict.OK
                            : auth.verify(a, System.currentTimeMillis());
                    if (verdict != HandshakeAuth.Verdict.OK) {
                        counters.authFailures.incrementAndGet();
                        LOG.log(System.Logger.Level.DEBUG, () -> "sink session " + id + ": handshake " + verdict);
                        return false;
                    }
                    handshake(a.handshakeId() == QlpbCodec.ID_PACKET_PAIR ? Type.PACKET_PAIR : Type.ROUTE_CHECK);
                }
                default -> {
                    counters.droppedMessages.incrementAndGet();
                    return false;
                }
            }
        }
        return true;
    }

    private void handshake(Type newType) {
        interfaceSpeedBps = engine.interfaceSpeedBps(socket.getLocalAddress());
        type = newType;
        engine.registry().add(this);
        if (!enqueue(HANDSHAKE_SUCCESS)) {
            engine.counters().droppedMessages.incrementAndGet();
        }
    }

    private void runWriter() {
        try {
            OutputStream out = socket.getOutputStream();
            while (!closed.get()) {
                byte[] message = outbound.take();
                queuedBytes.addAndGet(-message.length);
                out.write(message);
                engine.counters().bytesOut.addAndGet(message.length);
            }
        } catch (InterruptedException e) {
            // closing
        } catch (IOException e) {
            close();
        } catch (RuntimeException | Error e) {
            engine.counters().unexpectedFailures.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "sink session " + id + " writer failed", e);
            close();
        }
    }

    @Override
    public String toString() {
        return "SinkSession[" + id + ", " + initiatorAddress.getHostAddress() + ":" + initiatorPort + ", " + type
                + "]";
    }
}
