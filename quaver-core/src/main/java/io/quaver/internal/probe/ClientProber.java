package io.quaver.internal.probe;

import io.quaver.internal.qlpb.DecodeResult;
import io.quaver.internal.qlpb.ProbeView;
import io.quaver.internal.qlpb.QlpbCodec;
import io.quaver.internal.qlpb.QlpbMessage;
import io.quaver.internal.qlpb.QlpbMessage.HandshakeSuccess;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairSummary;
import io.quaver.internal.qlpb.QlpbMessage.RouteCheckSummary;
import io.quaver.internal.qlpb.QlpbStreamDecoder;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/// The [MS-QLPB] initiator for one client: control connections, packet-pair trains,
/// probegap sampling and the route check, feeding a [PathModel].
///
/// ## Threads (all named `quaver-prober-<client>-…`)
/// * `ctl` (virtual): the control loop. Opens a TCP connection per experiment (handshake
///   timeout 250 ms, qwave.md §8.5), hands the train to `tx`, reads the summary, decides
///   when the next experiment is due, and runs the route check;
/// * `tx` (platform): the timing-critical sender. Sends pre-built packet-pair trains
///   back-to-back and probegap probes on schedule, waiting with a hybrid park-then-spin
///   (park until ~100 µs before the deadline, then spin), with bounded catch-up;
/// * `rx` (platform): blocks on the probe socket and timestamps each reflected probegap
///   right after the receive returns.
///
/// ## Load
/// * a *fast* phase after start, after a fresh request, and whenever an adaptive flow
///   appears: one train at once, then probegap every 1 ms for [#FAST_PHASE_NS];
/// * *active* (an adaptive flow to this client is open): probegap every 1 ms (qWAVE's
///   cadence), a train every ≥ 5 s within 2 % of the capacity;
/// * *upkeep* (tracking only): probegap within 0.3 % and trains within 0.6 % of the estimated
///   capacity (≤ 1 % together, goal G6), at most one train per 10 s and at least one per 120 s.
///
/// When no sink answers the handshake the prober is *unreachable* and retries with a
/// back-off (1 s doubling to 30 s) for as long as it is open.
public final class ClientProber implements Closeable {
    private static final System.Logger LOG = System.getLogger("io.quaver.prober");

    /// Status of the path to the sink.
    public enum Status {
        /// The first handshake is under way.
        CONNECTING,
        /// The sink answered the last handshake.
        REACHABLE,
        /// No sink answered the last handshake.
        UNREACHABLE,
        /// The prober was closed.
        CLOSED
    }

    /// [MS-QLPB]: how long to wait for the Connection Handshake Success.
    public static final long HANDSHAKE_TIMEOUT_NS = 250_000_000L;
    /// Handshake attempts per experiment before the sink counts as not answering.
    public static final int HANDSHAKE_ATTEMPTS = 2;
    /// [MS-QLPB]: a packet-pair session ends 1.5 s after it starts.
    public static final long PACKET_PAIR_SESSION_NS = 1_500_000_000L;
    /// [MS-QLPB]: at most 3 trains per packet-pair session, ≥ 20 ms apart.
    public static final int TRAIN_ATTEMPTS = 3;
    /// [MS-QLPB]: route-check session length.
    public static final long ROUTE_CHECK_SESSION_NS = 400_000_000L;
    /// [MS-QLPB]: the probegap cadence.
    public static final long PROBEGAP_FAST_INTERVAL_NS = 1_000_000L;
    /// How long probegap runs at 1 ms after a train in the fast phase.
    public static final long FAST_PHASE_NS = 400_000_000L;
    /// Most probes in a packet-pair train (72 KB at 1500 bytes).
    public static final int TRAIN_PROBES = 48;
    /// Probes in the first train, before the capacity is known (36 KB: fits the queue of most
    /// bottlenecks of ≥ 10 Mbit/s, so the first estimate needs no second try).
    public static final int FIRST_TRAIN_PROBES = 24;
    /// Queue depth a train is sized for once the capacity is known: as many probes as the
    /// bottleneck drains in this time (bounded by [#MIN_TRAIN_PROBES] and [#TRAIN_PROBES]).
    public static final long TRAIN_QUEUE_NS = 40_000_000L;
    /// Fewest probes in a train: a train that never completes (a shallow bottleneck queue
    /// dropped its tail; the sink needs every probe) is halved down to this.
    public static final int MIN_TRAIN_PROBES = 6;
    /// Size of a train probe at the IP level (a full 1500-byte packet).
    public static final int TRAIN_PROBE_IP_BYTES = 1500;
    /// UDP payload of a probegap probe (the 32-byte header, no payload).
    static final int PROBEGAP_BYTES = QlpbCodec.PROBEGAP_HEADER_BYTES;
    private static final long SPIN_NS = 100_000;
    private static final int RING = 4096;
    private static final long RETRY_MIN_NS = 1_000_000_000L;
    private static final long RETRY_MAX_NS = 30_000_000_000L;

    private final ProberConfig config;
    private final PathModel model;
    private final String name;
    private final int ipOverheadBytes;
    private final ProtocolFamily family;
    private final long startNs = System.nanoTime();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // --- guarded by lock
    private Status status = Status.CONNECTING;
    private boolean active;
    private long freshRequestNs = Long.MIN_VALUE;
    private long fastUntilNs = Long.MIN_VALUE;
    private long lastTrainNs = Long.MIN_VALUE;
    private long routeCheckDueNs;
    private Boolean prioritySupported;
    private long firstEstimateNs = Long.MIN_VALUE;
    private int handshakeFailures;
    private boolean probegapOn;
    private long quietUntilNs;
    // ---

    private final DatagramChannel udp;
    private final AtomicLong probeBytesSent = new AtomicLong();
    private final AtomicLong probeBytesReceived = new AtomicLong();
    private final AtomicLong probegapSeq = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicLongArray ringSeq = new java.util.concurrent.atomic.AtomicLongArray(RING);
    private final long[] ringSendNs = new long[RING];
    private volatile TrainJob pendingTrain;
    private volatile boolean closed;
    private volatile Consumer<Boolean> routeCheckListener = b -> { };
    private final Thread ctl;
    private final Thread tx;
    private final Thread rx;
    private final List<Closeable> openedByControl = new ArrayList<>();
    private long trainSeq = 1;
    /// Probes in the next train (control thread only).
    private int trainProbes = FIRST_TRAIN_PROBES;

    private ClientProber(ProberConfig config, PathModel model, String name) throws IOException {
        this.config = config;
        this.model = model;
        this.name = name;
        boolean v4 = config.probeTarget().getAddress() instanceof Inet4Address;
        this.family = v4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
        this.ipOverheadBytes = v4 ? 28 : 48;
        this.udp = openProbeSocket();
        this.tx = Thread.ofPlatform().daemon(true).name("quaver-prober-" + name + "-tx").unstarted(this::runTx);
        this.rx = Thread.ofPlatform().daemon(true).name("quaver-prober-" + name + "-rx").unstarted(this::runRx);
        this.ctl = Thread.ofVirtual().name("quaver-prober-" + name + "-ctl").unstarted(this::runControl);
    }

    /// Opens the probe socket and starts the prober; the first experiment begins at once.
    ///
    /// @param name a short name for the threads (e.g. the client's address)
    /// @throws IOException if the probe socket cannot be opened
    public static ClientProber start(ProberConfig config, PathModel model, String name) throws IOException {
        ClientProber p = new ClientProber(config, model, name);
        p.lock.lock();
        try {
            p.fastUntilNs = p.startNs + FAST_PHASE_NS;
        } finally {
            p.lock.unlock();
        }
        p.rx.start();
        p.tx.start();
        p.ctl.start();
        return p;
    }

    private DatagramChannel openProbeSocket() throws IOException {
        DatagramChannel ch = config.sockets().openDatagram(family);
        try {
            ch.connect(config.probeTarget());
            try {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
            } catch (IOException | UnsupportedOperationException ignored) {
                // the default will do
            }
            applyTtl(ch);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private void applyTtl(DatagramChannel ch) {
        if (config.ttlOne() && !config.platform().setTtl(ch, 1)) {
            LOG.log(System.Logger.Level.DEBUG, () -> "prober " + name + ": TTL 1 not available on this platform");
        }
    }

    // ------------------------------------------------------------------ public view

    public ProberConfig config() {
        return config;
    }

    public Status status() {
        lock.lock();
        try {
            return status;
        } finally {
            lock.unlock();
        }
    }

    /// Waits until the first handshake has an outcome (or the timeout passes) and returns the
    /// status then.
    public Status awaitFirstHandshake(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (status == Status.CONNECTING) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
            return status;
        } finally {
            lock.unlock();
        }
    }

    /// Asks an unreachable prober to try the handshake again now, and waits for the outcome of
    /// a handshake begun after this call (or the timeout). Returns the status then.
    public Status recheck(Duration timeout) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        lock.lock();
        try {
            if (status == Status.CONNECTING) {
                lock.unlock();
                try {
                    return awaitFirstHandshake(timeout);
                } finally {
                    lock.lock();
                }
            }
            if (status != Status.UNREACHABLE) {
                return status;
            }
            freshRequestNs = t0;
            changed.signalAll();
            while (!handshakeAfter(t0) && status != Status.CLOSED) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
            return status;
        } finally {
            lock.unlock();
        }
    }

    /// Whether an adaptive flow to this client is open: probegap runs continuously at 1 ms.
    /// Turning it on starts a fast phase (one train at once).
    public void setActive(boolean on) {
        lock.lock();
        try {
            if (on && !active) {
                fastUntilNs = System.nanoTime() + FAST_PHASE_NS;
                lastTrainNs = Long.MIN_VALUE; // a fresh train at once
            }
            active = on;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        LockSupport.unpark(tx);
    }

    /// The current estimates.
    public PathEstimates estimates() {
        lock.lock();
        try {
            return model.estimates(System.nanoTime());
        } finally {
            lock.unlock();
        }
    }

    /// Asks for a fresh measurement (a train and a probegap burst) and waits for estimates
    /// whose every value was sampled after this call.
    ///
    /// @return the fresh estimates, or `null` if none could be had within the timeout or the
    ///         sink does not answer
    public PathEstimates fresh(Duration timeout) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        lock.lock();
        try {
            freshRequestNs = t0;
            fastUntilNs = Math.max(fastUntilNs, t0 + FAST_PHASE_NS);
            changed.signalAll();
            while (true) {
                PathEstimates e = model.estimates(System.nanoTime());
                if (e.allNewerThan(t0)) {
                    return e;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || status == Status.CLOSED || (status == Status.UNREACHABLE && handshakeAfter(t0))) {
                    return null;
                }
                changed.awaitNanos(Math.min(left, 20_000_000L));
            }
        } finally {
            lock.unlock();
        }
    }

    private long lastHandshakeOutcomeNs = Long.MIN_VALUE;

    private boolean handshakeAfter(long t0) {
        return lastHandshakeOutcomeNs != Long.MIN_VALUE && lastHandshakeOutcomeNs - t0 >= 0;
    }

    /// The route check's answer: `TRUE` = priority (802.1p) is safe on the path, `FALSE` =
    /// not, `null` = not known (not run yet, or not applicable).
    public Boolean prioritySupported() {
        lock.lock();
        try {
            return prioritySupported;
        } finally {
            lock.unlock();
        }
    }

    /// Called (on the control thread) with each route-check result.
    public void onRouteCheck(Consumer<Boolean> listener) {
        routeCheckListener = listener == null ? b -> { } : listener;
    }

    /// Probe bytes sent so far at the IP level (trains, probegap, route check), UDP only.
    public long probeBytesSent() {
        return probeBytesSent.get();
    }

    /// Probegap reflections received so far, bytes at the IP level.
    public long probeBytesReceived() {
        return probeBytesReceived.get();
    }

    /// Nanoseconds from start to the first moment bottleneck, available bandwidth and RTT all
    /// existed, or -1 if not yet.
    public long firstEstimateAfterNs() {
        lock.lock();
        try {
            return firstEstimateNs == Long.MIN_VALUE ? -1 : firstEstimateNs - startNs;
        } finally {
            lock.unlock();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /// Stops every thread and closes every socket; idempotent. Waits for the threads.
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            status = Status.CLOSED;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        closeQuietly(udp);
        synchronized (openedByControl) {
            for (Closeable c : openedByControl) {
                closeQuietly(c);
            }
        }
        ctl.interrupt();
        LockSupport.unpark(tx);
        for (Thread t : new Thread[] {ctl, tx, rx}) {
            join(t);
        }
    }

    private static void join(Thread t) {
        if (t == Thread.currentThread()) {
            return;
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (t.isAlive() && System.nanoTime() < deadline) {
            try {
                t.join(Duration.ofMillis(100));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (t.isAlive()) {
            LOG.log(System.Logger.Level.WARNING, "prober thread " + t.getName() + " did not end in time");
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ClientProber[" + name + ", " + status() + "]";
    }

    // ------------------------------------------------------------------ control loop

    private void runControl() {
        long retryNs = RETRY_MIN_NS;
        try {
            while (!closed) {
                boolean ok = packetPairSession();
                if (closed) {
                    return;
                }
                if (ok) {
                    retryNs = RETRY_MIN_NS;
                    if (config.routeCheck() && needsRouteCheck()) {
                        routeCheckSession();
                    }
                    waitForNextTrain();
                } else {
                    waitNs(retryNs);
                    retryNs = Math.min(retryNs * 2, RETRY_MAX_NS);
                }
            }
        } catch (InterruptedException e) {
            // closing
        } catch (RuntimeException | Error e) {
            if (!closed) {
                LOG.log(System.Logger.Level.WARNING, "prober " + name + " control loop failed", e);
            }
        }
    }

    private boolean needsRouteCheck() {
        lock.lock();
        try {
            return System.nanoTime() - routeCheckDueNs >= 0;
        } finally {
            lock.unlock();
        }
    }

    /// Waits until the next train is due: the planned interval, a fresh request, a new
    /// adaptive flow, or close.
    private void waitForNextTrain() throws InterruptedException {
        lock.lock();
        try {
            while (!closed) {
                long now = System.nanoTime();
                if (freshRequestNs != Long.MIN_VALUE && freshRequestNs - lastTrainNs >= 0) {
                    return;
                }
                if (lastTrainNs == Long.MIN_VALUE) {
                    return;
                }
                long due = lastTrainNs + trainIntervalNs();
                if (now - due >= 0) {
                    return;
                }
                changed.awaitNanos(Math.min(due - now, 1_000_000_000L));
            }
        } finally {
            lock.unlock();
        }
    }

    private void waitNs(long ns) throws InterruptedException {
        long deadline = System.nanoTime() + ns;
        lock.lock();
        try {
            while (!closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || (freshRequestNs != Long.MIN_VALUE && freshRequestNs - lastHandshakeOutcomeNs > 0)) {
                    return;
                }
                changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /// Interval between trains for the current load (lock held).
    private long trainIntervalNs() {
        PathEstimates e = model.estimates(System.nanoTime());
        long trainBits = (long) TRAIN_PROBES * TRAIN_PROBE_IP_BYTES * 8;
        long capacity = e.bottleneckBps().orElse(0);
        if (capacity <= 0) {
            return 1_000_000_000L;
        }
        return active ? ProbeBudget.activeTrainIntervalNs(trainBits, capacity)
                : ProbeBudget.upkeepTrainIntervalNs(trainBits, capacity);
    }

    /// Opens a control connection and completes the handshake.
    ///
    /// @return the connected channel, or `null` if no sink answered
    private SocketChannel handshake(QlpbMessage hello) throws InterruptedException {
        for (int attempt = 0; attempt < HANDSHAKE_ATTEMPTS && !closed; attempt++) {
            if (attempt > 0) {
                Thread.sleep(20);
            }
            SocketChannel ch = null;
            try {
                ch = config.sockets().openControl(family);
                track(ch);
                ch.socket().connect(config.sink(), (int) TimeUnit.NANOSECONDS.toMillis(HANDSHAKE_TIMEOUT_NS));
                ch.socket().setTcpNoDelay(true);
                ch.socket().setSoTimeout((int) TimeUnit.NANOSECONDS.toMillis(HANDSHAKE_TIMEOUT_NS));
                OutputStream out = ch.socket().getOutputStream();
                out.write(bytes(hello));
                out.flush();
                QlpbStreamDecoder decoder = new QlpbStreamDecoder();
                QlpbMessage reply = read(ch, decoder, System.nanoTime() + HANDSHAKE_TIMEOUT_NS);
                if (reply instanceof HandshakeSuccess) {
                    handshakeOutcome(true);
                    pendingDecoder = decoder;
                    return ch;
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "prober " + name + ": handshake failed: " + e);
            }
            untrackAndClose(ch);
        }
        handshakeOutcome(false);
        return null;
    }

    private QlpbStreamDecoder pendingDecoder;

    private void handshakeOutcome(boolean ok) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            lastHandshakeOutcomeNs = System.nanoTime();
            if (ok) {
                handshakeFailures = 0;
                status = Status.REACHABLE;
                probegapOn = true;
            } else {
                handshakeFailures++;
                status = Status.UNREACHABLE;
                probegapOn = false;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        LockSupport.unpark(tx);
    }

    /// Reads the next message from the control connection until `deadlineNs`.
    ///
    /// @return the message, or `null` at the deadline
    private QlpbMessage read(SocketChannel ch, QlpbStreamDecoder decoder, long deadlineNs) throws IOException {
        InputStream in = ch.socket().getInputStream();
        byte[] chunk = new byte[4096];
        while (true) {
            DecodeResult r = decoder.poll();
            if (r instanceof DecodeResult.Decoded d) {
                return d.message();
            }
            if (r instanceof DecodeResult.Rejected rej) {
                throw new IOException("malformed message from the sink: " + rej.detail());
            }
            long left = deadlineNs - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            ch.socket().setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            int n;
            try {
                n = in.read(chunk);
            } catch (SocketTimeoutException e) {
                return null;
            }
            if (n < 0) {
                throw new IOException("the sink closed the control connection");
            }
            decoder.feed(chunk, 0, n);
        }
    }

    /// One packet-pair session: handshake, up to three trains, their summaries.
    ///
    /// @return whether the sink answered the handshake
    private boolean packetPairSession() throws InterruptedException {
        SocketChannel ch = handshake(new QlpbMessage.PacketPairHandshake());
        if (ch == null) {
            return false;
        }
        QlpbStreamDecoder decoder = pendingDecoder;
        long sessionStart = System.nanoTime();
        long end = sessionStart + PACKET_PAIR_SESSION_NS;
        int initiatorPort = ch.socket().getLocalPort();
        try {
            for (int attempt = 0; attempt < TRAIN_ATTEMPTS && !closed; attempt++) {
                long seq = trainSeq;
                trainSeq = (trainSeq + trainProbes) & 0xFFFF_FFFFL;
                if (trainSeq < trainProbes) {
                    trainSeq = 1;
                }
                TrainJob job = new TrainJob(buildTrain(initiatorPort, seq, trainProbes));
                lock.lock();
                try {
                    lastTrainNs = System.nanoTime();
                } finally {
                    lock.unlock();
                }
                pendingTrain = job;
                LockSupport.unpark(tx);
                long sentNs = job.awaitSent();
                if (sentNs < 0) {
                    return true; // closing or the send failed: try again later
                }
                PathEstimates known = estimates();
                long rtt = known.rttUs().orElse(10_000) * 1000;
                long trainBits = (long) job.datagrams.length * TRAIN_PROBE_IP_BYTES * 8;
                long drain = known.bottleneckBps().isPresent()
                        ? trainBits * 1_000_000_000L / Math.max(1, known.bottleneckBps().getAsLong())
                        : 300_000_000L;
                long wait = Math.min(end, System.nanoTime() + 250_000_000L + 2 * rtt + Math.min(drain, 1_000_000_000L));
                QlpbMessage m;
                while ((m = read(ch, decoder, wait)) != null) {
                    if (m instanceof PacketPairSummary s && s.sequence() == seq) {
                        onSummary(s);
                        trainProbes = sizeTrain(estimates().bottleneckBps().orElse(0), trainProbes);
                        return true;
                    }
                }
                trainProbes = Math.max(MIN_TRAIN_PROBES, trainProbes / 2); // lost: try a shorter one
                if (System.nanoTime() - end >= 0) {
                    break;
                }
                Thread.sleep(20);
            }
            return true; // the sink answered; the trains did not come through this time
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "prober " + name + ": packet-pair session failed: " + e);
            return true;
        } finally {
            untrackAndClose(ch);
        }
    }

    /// The next train's length once the capacity is known: what the bottleneck drains in
    /// [#TRAIN_QUEUE_NS], never more than one step (8 probes) above a length that just worked.
    static int sizeTrain(long capacityBps, int current) {
        if (capacityBps <= 0) {
            return current;
        }
        long fit = capacityBps / 8 * TRAIN_QUEUE_NS / 1_000_000_000L / TRAIN_PROBE_IP_BYTES;
        return (int) Math.clamp(Math.min(fit, current + MIN_TRAIN_PROBES), MIN_TRAIN_PROBES, TRAIN_PROBES);
    }

    private void onSummary(PacketPairSummary s) {
        long now = System.nanoTime();
        lock.lock();
        try {
            model.onTrain(now, TRAIN_PROBE_IP_BYTES, s.timestampDeltas100ns(), s.interfaceSpeedBps());
            fastUntilNs = Math.max(fastUntilNs, now + FAST_PHASE_NS);
            noteEstimates(now);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        LockSupport.unpark(tx);
    }

    /// Records the first moment all three values existed (lock held).
    private void noteEstimates(long now) {
        if (firstEstimateNs == Long.MIN_VALUE) {
            PathEstimates e = model.estimates(now);
            if (e.bottleneckBps().isPresent() && e.availableBps().isPresent() && e.rttUs().isPresent()) {
                firstEstimateNs = now;
            }
        }
    }

    private ByteBuffer[] buildTrain(int initiatorPort, long firstSeq, int probes) {
        int messageBytes = TRAIN_PROBE_IP_BYTES - ipOverheadBytes;
        int payload = messageBytes - QlpbCodec.PROBE_HEADER_BYTES;
        ByteBuffer[] train = new ByteBuffer[probes];
        byte[] random = new byte[payload];
        ThreadLocalRandom.current().nextBytes(random);
        for (int i = 0; i < probes; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(messageBytes);
            QlpbCodec.encode(new QlpbMessage.PacketPairProbe(initiatorPort, probes,
                    (firstSeq + i) & 0xFFFF_FFFFL, i == 0, payload), b);
            b.put(QlpbCodec.PROBE_HEADER_BYTES, random);
            train[i] = b.flip();
        }
        return train;
    }

    /// The route check: five-probe trains over a priority and a best-effort socket.
    private void routeCheckSession() throws InterruptedException {
        SocketChannel ch = handshake(new QlpbMessage.RouteCheckHandshake());
        if (ch == null) {
            return;
        }
        QlpbStreamDecoder decoder = pendingDecoder;
        DatagramChannel priority = null;
        DatagramChannel bestEffort = null;
        RouteCheckDecision decision = new RouteCheckDecision();
        long end = System.nanoTime() + ROUTE_CHECK_SESSION_NS;
        try {
            priority = track(config.sockets().openDatagram(family));
            bestEffort = track(config.sockets().openDatagram(family));
            priority.connect(config.probeTarget());
            bestEffort.connect(config.probeTarget());
            applyTtl(priority);
            applyTtl(bestEffort);
            priority.setOption(StandardSocketOptions.IP_TOS, 0xA0); // DSCP 0x28
            config.platform().setPriority(priority, 5);               // 802.1p 5 (after the TOS)
            int port = ch.socket().getLocalPort();
            int large = 1500 - ipOverheadBytes;
            int medium = 1496 - ipOverheadBytes;
            long seq = 1;
            for (int round = 0; round < RouteCheckDecision.MAX_ROUNDS && !closed; round++) {
                send(priority, new QlpbMessage.RouteCheckProbe(port, 0, seq, true, large - 12));
                send(bestEffort, new QlpbMessage.RouteCheckProbe(port, 0, seq + 1, false, medium - 12));
                send(bestEffort, new QlpbMessage.RouteCheckProbe(port, 0, seq + 2, false, medium - 12));
                send(bestEffort, new QlpbMessage.RouteCheckProbe(port, 0, seq + 3, false, 0));
                send(priority, new QlpbMessage.RouteCheckProbe(port, 5, seq + 4, false, 0));
                seq += 5;
                QlpbMessage m = read(ch, decoder, Math.min(end, System.nanoTime() + 100_000_000L));
                if (m instanceof RouteCheckSummary s && decision.onSummary(s.observation()) != null) {
                    break;
                }
                if (System.nanoTime() - end >= 0) {
                    break;
                }
                Thread.sleep(20);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "prober " + name + ": route check failed: " + e);
            if (decision.summaries() == 0) {
                scheduleRouteCheck(60_000_000_000L);
                return;
            }
        } finally {
            untrackAndClose(priority);
            untrackAndClose(bestEffort);
            untrackAndClose(ch);
        }
        boolean supported = decision.decided() != null ? decision.decided() : decision.atEnd();
        lock.lock();
        try {
            prioritySupported = supported;
        } finally {
            lock.unlock();
        }
        scheduleRouteCheck(300_000_000_000L);
        try {
            routeCheckListener.accept(supported);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "route-check listener failed", e);
        }
    }

    private void scheduleRouteCheck(long afterNs) {
        lock.lock();
        try {
            routeCheckDueNs = System.nanoTime() + afterNs;
        } finally {
            lock.unlock();
        }
    }

    private void send(DatagramChannel ch, QlpbMessage probe) throws IOException {
        ByteBuffer b = QlpbCodec.encode(probe);
        int n = b.remaining();
        ch.write(b);
        probeBytesSent.addAndGet(n + ipOverheadBytes);
    }

    private static byte[] bytes(QlpbMessage m) {
        ByteBuffer b = QlpbCodec.encode(m);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private <C extends Closeable> C track(C c) {
        synchronized (openedByControl) {
            openedByControl.add(c);
            if (closed) {
                closeQuietly(c);
            }
        }
        return c;
    }

    private void untrackAndClose(Closeable c) {
        if (c == null) {
            return;
        }
        synchronized (openedByControl) {
            openedByControl.remove(c);
        }
        closeQuietly(c);
    }

    // ------------------------------------------------------------------ sender

    /// A pre-built train handed to the sender thread.
    private static final class TrainJob {
        final ByteBuffer[] datagrams;
        private final java.util.concurrent.CompletableFuture<Long> sent = new java.util.concurrent.CompletableFuture<>();

        TrainJob(ByteBuffer[] datagrams) {
            this.datagrams = datagrams;
        }

        long awaitSent() throws InterruptedException {
            try {
                return sent.get(2, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                return -1;
            }
        }
    }

    private void runTx() {
        long next = System.nanoTime();
        ByteBuffer probe = ByteBuffer.allocateDirect(PROBEGAP_BYTES);
        try {
            while (!closed) {
                TrainJob job = pendingTrain;
                if (job != null) {
                    pendingTrain = null;
                    sendTrain(job);
                    continue;
                }
                long interval = probegapIntervalNs();
                if (interval <= 0) {
                    LockSupport.parkNanos(100_000_000L);
                    next = System.nanoTime();
                    continue;
                }
                long now = System.nanoTime();
                long quiet = quietUntil();
                if (quiet - next > 0) {
                    next = quiet;
                }
                if (next - now > interval) {
                    next = now + interval; // the interval shrank
                }
                if (!waitUntil(next)) {
                    continue; // woken for a train or a change
                }
                long seq = probegapSeq.getAndIncrement() & 0xFFFF_FFFFL;
                probe.clear();
                long actual = System.nanoTime();
                QlpbCodec.encode(new QlpbMessage.ProbegapProbe(seq, next / 100, 0, 0, EMPTY), probe);
                probe.flip();
                int slot = (int) (seq % RING);
                ringSendNs[slot] = actual;
                ringSeq.set(slot, seq); // publishes the send time to the receiver
                try {
                    udp.write(probe);
                    probeBytesSent.addAndGet(PROBEGAP_BYTES + ipOverheadBytes);
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    // ICMP unreachable surfaced as PortUnreachableException: the sink went away
                    LOG.log(System.Logger.Level.TRACE, () -> "probegap send failed: " + e);
                }
                next += interval;
                long late = System.nanoTime() - next;
                if (late > 4 * interval) {
                    next = System.nanoTime() + interval; // bounded catch-up: no bursts after a stall
                }
            }
        } catch (RuntimeException | Error e) {
            if (!closed) {
                LOG.log(System.Logger.Level.WARNING, "prober " + name + " sender failed", e);
            }
        }
    }

    private static final byte[] EMPTY = new byte[0];

    private long quietUntil() {
        lock.lock();
        try {
            return quietUntilNs;
        } finally {
            lock.unlock();
        }
    }

    /// Parks until ~[#SPIN_NS] before the deadline, then spins.
    ///
    /// @return `true` at the deadline, `false` if a train or close interrupted the wait
    private boolean waitUntil(long deadlineNs) {
        while (true) {
            if (closed || pendingTrain != null) {
                return false;
            }
            long left = deadlineNs - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            if (left > SPIN_NS) {
                LockSupport.parkNanos(left - SPIN_NS);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private void sendTrain(TrainJob job) {
        try {
            for (ByteBuffer b : job.datagrams) {
                int n = b.remaining();
                udp.write(b);
                probeBytesSent.addAndGet(n + ipOverheadBytes);
            }
            long now = System.nanoTime();
            lock.lock();
            try {
                // Probegap samples taken while our own train drains would count it as cross
                // traffic: stay quiet for the train's time at the bottleneck (50 ms if unknown).
                long capacity = model.estimates(now).bottleneckBps().orElse(0);
                long bits = (long) job.datagrams.length * TRAIN_PROBE_IP_BYTES * 8;
                long drainNs = capacity > 0 ? bits * 1_000_000_000L / capacity : 50_000_000L;
                quietUntilNs = now + Math.min(drainNs, 500_000_000L) + 2_000_000L;
            } finally {
                lock.unlock();
            }
            job.sent.complete(now);
        } catch (IOException e) {
            job.sent.complete(-1L);
        }
    }

    /// The probegap interval now, 0 = paused.
    private long probegapIntervalNs() {
        lock.lock();
        try {
            if (!probegapOn || closed) {
                return 0;
            }
            long now = System.nanoTime();
            if (active || now - fastUntilNs < 0) {
                return PROBEGAP_FAST_INTERVAL_NS;
            }
            return ProbeBudget.upkeepProbegapIntervalNs(PROBEGAP_BYTES + ipOverheadBytes,
                    model.estimates(now).bottleneckBps().orElse(0));
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ receiver

    private void runRx() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(2048);
        ProbeView view = new ProbeView();
        while (!closed) {
            buffer.clear();
            try {
                udp.receive(buffer);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                // PortUnreachableException on a connected socket: nobody is listening (yet)
                LockSupport.parkNanos(10_000_000L);
                continue;
            }
            long recvNs = System.nanoTime();
            buffer.flip();
            if (!view.decode(buffer) || view.messageId() != QlpbCodec.ID_PROBEGAP_REFLECTED) {
                continue;
            }
            probeBytesReceived.addAndGet(view.lengthBytes() + ipOverheadBytes);
            long seq = view.sequence();
            int slot = (int) (seq % RING);
            if (ringSeq.get(slot) != seq) {
                continue;
            }
            long sendNs = ringSendNs[slot];
            if (ringSeq.get(slot) != seq) {
                continue; // too old: its slot was reused
            }
            lock.lock();
            try {
                model.onProbegap(seq, sendNs, view.sinkRecvTimestamp100ns(), view.sinkSendTimestamp100ns(), recvNs,
                        PROBEGAP_BYTES + ipOverheadBytes);
                noteEstimates(recvNs);
                if (freshRequestNs != Long.MIN_VALUE) {
                    changed.signalAll();
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "path model failed on a probegap sample", e);
            } finally {
                lock.unlock();
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
