package io.quaver.internal.daemon;

import io.quaver.internal.platform.Threads;
import io.quaver.MarkingPolicy;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosMetrics;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.quaver.internal.daemon.ControlProtocol.*;

/// One control connection to a daemon: HELLO, then request/response calls; a reader thread
/// takes the replies and hands [ControlProtocol#NOTIFIED] and [ControlProtocol#MARKS_CHANGED]
/// frames to the owner. When the daemon goes away every call fails with
/// `DEVICE_REINITIALIZATION_NEEDED` (1164).
public final class DaemonClient implements AutoCloseable {
    /// How long a call waits for its reply before the daemon is considered gone.
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    /// What the daemon answered to HELLO.
    ///
    /// @param privileged    whether this connection is privileged (policy and peer credentials)
    /// @param sinkPort      the port the daemon's probers reach sinks on
    /// @param offLink       whether off-link experiments are allowed
    /// @param trackingGrace the grace period of tracked clients
    /// @param marks         the host-wide marking policy
    record Hello(boolean privileged, int sinkPort, boolean offLink, Duration trackingGrace, MarkingPolicy marks) {
    }

    /// Decodes a reply body.
    interface Decoder<T> {
        T decode(Wire.Reader r) throws Wire.Malformed;
    }

    private final Path path;
    private final SocketChannel channel;
    private final Object writeLock = new Object();
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<Frame>> calls = new ConcurrentHashMap<>();
    private final Consumer<Frame> notified;
    private final Consumer<QosException> lost;
    private final Thread reader;
    private final Hello hello;
    private volatile QosException down;
    private volatile boolean closing;

    private DaemonClient(Path path, SocketChannel channel, Consumer<Frame> notified, Consumer<QosException> lost,
                         int wantPrivilege) {
        this.path = path;
        this.channel = channel;
        this.notified = notified;
        this.lost = lost;
        this.reader = Thread.ofVirtual().name("quaver-daemon-client").unstarted(this::readLoop);
        reader.start();
        Hello h;
        try {
            h = call(HELLO, new Wire.Writer().u16(VERSION).u8(wantPrivilege).str("quaver-java"), r -> {
                int version = r.u16();
                if (version != VERSION) {
                    throw new Wire.Malformed("the daemon answered with protocol version " + version);
                }
                Hello x = new Hello(r.bool(), r.u16(), r.bool(), Duration.ofMillis(r.i64()), policy(r));
                r.end();
                return x;
            });
        } catch (QosException e) {
            close();
            throw e;
        }
        this.hello = h;
    }

    /// Connects and says HELLO.
    ///
    /// @param wantPrivilege 0: as the daemon's policy says, 1: not privileged, 2: privileged
    ///                      if the policy allows
    /// @param notified      receives [ControlProtocol#NOTIFIED] and [ControlProtocol#MARKS_CHANGED]
    ///                      frames (on the reader thread)
    /// @param lost          called once if the daemon goes away (on the reader thread)
    /// @throws QosException `CONNECTION_REFUSED` (1225) when no daemon listens on `path`, or
    ///         the daemon's refusal (e.g. `NOT_SUPPORTED` for a protocol version it does not speak)
    static DaemonClient connect(Path path, int wantPrivilege, Consumer<Frame> notified,
                                Consumer<QosException> lost) {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            throw new QosException(QosError.NO_SYSTEM_RESOURCES, "cannot open a UNIX-domain socket: " + e.getMessage());
        }
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new QosException(QosError.CONNECTION_REFUSED, "no Quaver daemon at " + path
                    + " (is `quaver daemon` running?): " + e.getMessage());
        }
        return new DaemonClient(path, ch, notified, lost, wantPrivilege);
    }

    /// Connects for a query (the command line): no notifications.
    public static DaemonClient open(Path path) {
        return connect(path, 0, f -> { }, e -> { });
    }

    Hello hello() {
        return hello;
    }

    /// A new request id (notification requests pick theirs before calling).
    int newId() {
        return ids.incrementAndGet();
    }

    /// Sends a request and waits for its reply.
    <T> T call(int type, Wire.Writer body, Decoder<T> decoder) {
        return call(newId(), type, body, decoder);
    }

    <T> T call(int id, int type, Wire.Writer body, Decoder<T> decoder) {
        QosException d = down;
        if (d != null) {
            throw copy(d);
        }
        CompletableFuture<Frame> reply = new CompletableFuture<>();
        calls.put(id, reply);
        Frame f;
        try {
            send(id, type, body);
            f = reply.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException | TimeoutException e) {
            throw copy(goneAway(e.toString()));
        } catch (ExecutionException e) {
            throw e.getCause() instanceof QosException q ? copy(q) : new QosException(QosError.GEN_FAILURE,
                    "daemon call failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QosException(QosError.OPERATION_ABORTED, "interrupted while waiting for the daemon");
        } finally {
            calls.remove(id);
        }
        try {
            Wire.Reader r = f.reader();
            if (f.type() == ERROR) {
                throw remoteError(r);
            }
            return decoder.decode(r);
        } catch (Wire.Malformed e) {
            throw new QosException(QosError.IO_DEVICE, "malformed reply from the daemon: " + e.getMessage());
        }
    }

    /// Sends a request whose reply nobody waits for (a cancellation).
    void sendOnly(int type, Wire.Writer body) {
        if (down == null) {
            try {
                send(newId(), type, body);
            } catch (IOException e) {
                goneAway(e.toString());
            }
        }
    }

    private void send(int id, int type, Wire.Writer body) throws IOException {
        var frame = ControlProtocol.frame(type, id, body);
        synchronized (writeLock) {
            ControlProtocol.write(channel, frame);
        }
    }

    /// Decodes the error a daemon reported.
    static QosException remoteError(Wire.Reader r) throws Wire.Malformed {
        int code = r.i32();
        String message = r.str();
        QosError e = QosError.fromCode(code);
        return new QosException(e == null ? QosError.GEN_FAILURE : e, message);
    }

    private static QosException copy(QosException e) {
        return new QosException(e.error(), e.getMessage(), e);
    }

    private void readLoop() {
        String why = "the connection closed";
        try {
            while (true) {
                Frame f = ControlProtocol.read(channel);
                if (f.type() == NOTIFIED || f.type() == MARKS_CHANGED) {
                    notified.accept(f);
                } else {
                    CompletableFuture<Frame> c = calls.get(f.requestId());
                    if (c != null) {
                        c.complete(f);
                    }
                }
            }
        } catch (IOException | Wire.Malformed e) {
            why = e.toString();
        }
        if (!closing) {
            goneAway(why);
        } else {
            QosException closed = new QosException(QosError.INVALID_HANDLE, "the QoS handle is closed");
            calls.values().forEach(c -> c.completeExceptionally(closed));
        }
    }

    private synchronized QosException goneAway(String why) {
        if (down != null) {
            return down;
        }
        QosException e = new QosException(QosError.DEVICE_REINITIALIZATION_NEEDED, "the Quaver daemon at " + path
                + " went away (" + why + "); open a new handle");
        down = e;
        closeQuietly(channel);
        calls.values().forEach(c -> c.completeExceptionally(e));
        if (!closing) {
            lost.accept(e);
        }
        return e;
    }

    /// Whether the daemon went away.
    boolean isDown() {
        return down != null;
    }

    /// Every flow of the host (privileged connections only).
    public List<DaemonFlow> flows() {
        return call(ENUMERATE, null, r -> {
            int n = r.i32();
            if (n < 0) {
                throw new Wire.Malformed("bad flow count " + n);
            }
            List<DaemonFlow> out = new ArrayList<>(Math.min(n, 1024));
            for (int i = 0; i < n; i++) {
                out.add(flowRow(r));
            }
            r.end();
            return out;
        });
    }

    /// The daemon's counters.
    public QosMetrics metrics() {
        return call(METRICS, null, r -> {
            QosMetrics m = ControlProtocol.metrics(r);
            r.end();
            return m;
        });
    }

    /// Closes the connection (the daemon then removes this client's flows) and waits for the
    /// reader thread.
    @Override
    public void close() {
        closing = true;
        closeQuietly(channel);
        if (Thread.currentThread() != reader) {
            Threads.joinUninterruptibly(reader);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
