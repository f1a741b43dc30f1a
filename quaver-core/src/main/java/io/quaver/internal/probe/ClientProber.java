package io.quaver.internal.probe;

import io.quaver.QosError;
import io.quaver.internal.platform.ReceiveTimestamps;
import io.quaver.internal.probe.ProbeScheduler.Action;
import io.quaver.internal.probe.ProbeScheduler.Idle;
import io.quaver.internal.probe.ProbeScheduler.SendProbegap;
import io.quaver.internal.probe.ProbeScheduler.SendTrain;
import io.quaver.internal.probe.ProbeScheduler.TrainOutcome;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/// The [MS-QLPB] initiator for one client: control connections, packet-pair trains,
/// probegap sampling and the route check, feeding a [PathModel] and driven by a
/// [ProbeScheduler] (which decides what is sent when: fast first measurement, continuous
/// sampling while an adaptive flow is active, low-rate upkeep).
///
/// ## Threads (all named `quaver-prober-<client>-…`)
/// * `tx` (platform): the timing-critical sender. Asks the scheduler for the next action and
///   carries it out: probegap probes on time, waiting with a hybrid park-then-spin (park until
///   ~100 µs before the deadline, then spin); pre-built packet-pair trains back-to-back, or
///   paced the same way when the scheduler asks for a stream (Spruce);
/// * `ctl` (virtual): the control connections. For each train it opens a TCP connection to
///   the sink and completes the handshake (250 ms, qwave.md §8.5; two attempts), builds the
///   train with the connection's port, and waits for the Packet Pair Summary; it also runs
///   the route check after the first successful train and every 5 minutes;
/// * `rx` (platform): blocks on the probe socket and timestamps each reflected probegap with
///   its arrival time ([ReceiveTimestamps]: the kernel's receive timestamp where the platform
///   has it, otherwise right after the receive returns).
///
/// A probegap probe's send time is read just before the send and published to the receiver
/// at once (its reflection may come back before the send call returns: the kernel may run
/// the whole round trip, and other packets' work, inside that call). The sender reads the
/// clock again when the send returns; a send that took longer than [#SEND_STALL_NS] means
/// the sender was descheduled around it, so the probe may have left well after the reading,
/// and its sample is withdrawn. A reflection that already came back was sent before the stall
/// ended and is kept; one that comes later gives no sample but is reported as an *arrival*
/// ([PathModel#onProbegapArrival], [ProbeObserver#onProbegapArrival]), so that the congestion
/// detector does not count a probe that arrived as lost.
/// Train send times are read the same way but only place the window that probegap samples
/// avoid, which tolerates a late reading.
///
/// When no sink answers the handshake the prober is *unreachable*; the scheduler's retries
/// (with back-off) go on for as long as the prober is open, and a reachable sink makes it
/// reachable again.
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
    /// [MS-QLPB]: route-check session length.
    public static final long ROUTE_CHECK_SESSION_NS = 400_000_000L;
    /// How often the route check is repeated.
    public static final long ROUTE_CHECK_INTERVAL_NS = 300_000_000_000L;
    /// UDP payload of a bare probegap probe (the 32-byte header).
    static final int PROBEGAP_BYTES = QlpbCodec.PROBEGAP_HEADER_BYTES;
    /// A probegap send that takes longer than this counts as stalled and its sample is withdrawn.
    /// A send takes tens of microseconds, but may also run up to one softirq round for other
    /// packets (`net.core.netdev_budget_usecs`, 2 ms by default: a shaper's dequeue, a cross
    /// traffic's delivery). A first version that published the send time only after a send of
    /// at most 500 µs lost 10–20 % of the samples under 50 % CBR load on the test bed, which the
    /// detector read as loss. A descheduled sender is away for a scheduler slice or longer.
    static final long SEND_STALL_NS = 3_000_000;
    private static final long SPIN_NS = 100_000;
    private static final int RING = 4096;
    /// Marks a ring slot whose probe's sample was withdrawn (sequences are 32-bit).
    private static final long WITHDRAWN = 1L << 40;
    private static final byte[] EMPTY = new byte[0];

    private final ProberConfig config;
    /// Signs the handshakes when the config has a secret; `null` = plain [MS-QLPB].
    private final io.quaver.internal.qlpb.HandshakeAuth auth;
    private final java.security.SecureRandom secureRandom = new java.security.SecureRandom();
    private final PathModel model;
    private final ProbeScheduler scheduler;
    private final String name;
    private final int ipOverheadBytes;
    private final ProtocolFamily family;
    private final long startNs = System.nanoTime();
    private final long sendStallNs;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // --- guarded by lock
    private Status status = Status.CONNECTING;
    private boolean active;
    private long routeCheckDueNs;
    private Boolean prioritySupported;
    private long firstEstimateNs = Long.MIN_VALUE;
    private long lastHandshakeOutcomeNs = Long.MIN_VALUE;
    private int freshWaiters;
    // ---

    private final DatagramChannel udp;
    private final ReceiveTimestamps udpStamps;
    private final AtomicLong stalledProbegaps = new AtomicLong();
    private final AtomicLong probeBytesSent = new AtomicLong();
    private final AtomicLong probeBytesReceived = new AtomicLong();
    private final AtomicLong probegapSeq = new AtomicLong();
    private final AtomicLongArray ringSeq = new AtomicLongArray(RING);
    private final long[] ringSendNs = new long[RING];
    /// Trains the sender hands to the control thread (a rendezvous: one at a time).
    private final SynchronousQueue<TrainJob> trainRequests = new SynchronousQueue<>();
    private volatile boolean wake;
    private volatile boolean closed;
    private volatile Consumer<Boolean> routeCheckListener = b -> { };
    /// A local network fault seen on the last failed exchange (57 or 59), `null` if none.
    private volatile QosError fault;
    private volatile long lastFaultCheckNs = Long.MIN_VALUE;
    private volatile Consumer<QosError> faultListener = e -> { };
    private volatile ProbeObserver observer = new ProbeObserver() { };
    private final Thread ctl;
    private final Thread tx;
    private final Thread rx;
    private final List<Closeable> openedByControl = new ArrayList<>();
    /// Next packet-pair sequence number (control thread only; never 0).
    private long trainSeq = 1;
    private QlpbStreamDecoder pendingDecoder;

    private ClientProber(ProberConfig config, PathModel model, ProbeScheduler scheduler, String name,
                         long sendStallNs) throws IOException {
        this.config = config;
        this.sendStallNs = sendStallNs;
        this.auth = config.secret() == null ? null : new io.quaver.internal.qlpb.HandshakeAuth(config.secret());
        this.model = model;
        this.name = name;
        boolean v4 = config.probeTarget().getAddress() instanceof Inet4Address;
        this.family = v4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
        this.ipOverheadBytes = v4 ? 28 : 48;
        this.scheduler = scheduler != null ? scheduler : new InterimScheduler(PROBEGAP_BYTES + ipOverheadBytes);
        this.udp = openProbeSocket();
        try {
            this.udpStamps = config.platform().receiveTimestamps(udp);
        } catch (RuntimeException e) {
            closeQuietly(udp);
            throw e;
        }
        this.tx = Thread.ofPlatform().daemon(true).name("quaver-prober-" + name + "-tx").unstarted(this::runTx);
        this.rx = Thread.ofPlatform().daemon(true).name("quaver-prober-" + name + "-rx").unstarted(this::runRx);
        this.ctl = Thread.ofVirtual().name("quaver-prober-" + name + "-ctl").unstarted(this::runControl);
    }

    /// Opens the probe socket and starts the prober with the [InterimScheduler]; the first
    /// experiment begins at once.
    ///
    /// @param name a short name for the threads (e.g. the client's address)
    /// @throws IOException if the probe socket cannot be opened
    public static ClientProber start(ProberConfig config, PathModel model, String name) throws IOException {
        return start(config, model, null, name);
    }

    /// As [#start(ProberConfig, PathModel, String)] with the given scheduler (`null` = the
    /// interim one).
    public static ClientProber start(ProberConfig config, PathModel model, ProbeScheduler scheduler, String name)
            throws IOException {
        return start(config, model, scheduler, name, SEND_STALL_NS);
    }

    /// As [#start(ProberConfig, PathModel, ProbeScheduler, String)] with another send-stall
    /// threshold (tests: 0 withdraws every probegap sample).
    static ClientProber start(ProberConfig config, PathModel model, ProbeScheduler scheduler, String name,
                              long sendStallNs) throws IOException {
        ClientProber p = new ClientProber(config, model, scheduler, name, sendStallNs);
        p.rx.start();
        p.ctl.start();
        p.tx.start();
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
    /// a handshake that ended after this call (or the timeout). Returns the status then.
    public Status recheck(Duration timeout) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        lock.lock();
        try {
            if (status == Status.REACHABLE || status == Status.CLOSED) {
                return status;
            }
            if (status == Status.UNREACHABLE) {
                scheduler.requestFresh(t0);
                wakeSender();
            }
            while (status == Status.CONNECTING || (status == Status.UNREACHABLE && !handshakeAfter(t0))) {
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

    private boolean handshakeAfter(long t0) {
        return lastHandshakeOutcomeNs != Long.MIN_VALUE && lastHandshakeOutcomeNs - t0 >= 0;
    }

    /// Whether an adaptive flow to this client is open: the scheduler then samples
    /// continuously (and starts a fast measurement when a flow appears).
    public void setActive(boolean on) {
        lock.lock();
        try {
            active = on;
        } finally {
            lock.unlock();
        }
        wakeSender();
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

    /// Asks for a fresh measurement and waits for estimates whose every value was sampled
    /// after this call.
    ///
    /// @return the fresh estimates, or `null` if none could be had within the timeout or the
    ///         sink does not answer
    public PathEstimates fresh(Duration timeout) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        if (currentFault() != null) {
            return null;
        }
        lock.lock();
        try {
            scheduler.requestFresh(t0);
            wakeSender();
            freshWaiters++;
            try {
                while (true) {
                    PathEstimates e = model.estimates(System.nanoTime());
                    if (e.allNewerThan(t0)) {
                        return e;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || status == Status.CLOSED || fault != null
                            || (status == Status.UNREACHABLE && handshakeAfter(t0))) {
                        return null;
                    }
                    changed.awaitNanos(left);
                }
            } finally {
                freshWaiters--;
            }
        } finally {
            lock.unlock();
        }
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

    /// Called (on a prober thread, no lock held) when the path fails: the sink stopped
    /// answering (1232), or the local link towards it went down (57) or lost its address (59).
    public void onFault(Consumer<QosError> listener) {
        faultListener = listener == null ? e -> { } : listener;
    }

    /// The local network fault seen on the last failed exchange with the sink:
    /// [QosError#ADAP_HDW_ERR] (the egress interface is down) or [QosError#UNEXP_NET_ERR] (no
    /// local address on the sink's subnet any more); `null` when there is none, or the failure
    /// is the sink's (see [#status()]). Cleared by the next successful exchange.
    public QosError fault() {
        return fault;
    }

    /// [#fault()], looked at again now if one is set (the link may be back).
    public QosError currentFault() {
        if (fault != null) {
            lastFaultCheckNs = System.nanoTime();
            fault = classifyLink();
        }
        return fault;
    }

    /// Looks at the local link after a failed send or connect; sets or clears [#fault()].
    private void networkFailure(IOException e) {
        if (closed || !LocalLink.isLocalNetworkError(e)) {
            return;
        }
        long now = System.nanoTime();
        if (fault != null && now - lastFaultCheckNs < 200_000_000L) {
            return; // already known; looked at recently
        }
        lastFaultCheckNs = now;
        setFault(classifyLink());
    }

    private QosError classifyLink() {
        try {
            return config.sockets().localLink(config.sink().getAddress(), config.ttlOne()).error();
        } catch (IOException | RuntimeException x) {
            return QosError.UNEXP_NET_ERR;
        }
    }

    private void setFault(QosError f) {
        QosError before = fault;
        fault = f;
        if (f != null && before == null) {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            reportFault(f);
        }
    }

    private void reportFault(QosError f) {
        try {
            faultListener.accept(f);
        } catch (RuntimeException x) {
            LOG.log(System.Logger.Level.WARNING, "fault listener failed", x);
        }
    }

    /// Sets the observer of samples and estimates (`null` = none).
    public void setObserver(ProbeObserver o) {
        observer = o == null ? new ProbeObserver() { } : o;
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

    /// Whether reflections are timestamped with the kernel's receive timestamps.
    public boolean kernelReceiveTimestamps() {
        return udpStamps.kernelTimestamps();
    }

    /// Probegap probes whose send stalled (longer than [#SEND_STALL_NS]): withdrawn, their
    /// samples not used unless the reflection was already back (later reflections count as
    /// arrivals).
    public long stalledProbegaps() {
        return stalledProbegaps.get();
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
        udpStamps.close();
        synchronized (openedByControl) {
            for (Closeable c : openedByControl) {
                closeQuietly(c);
            }
        }
        ctl.interrupt();
        wakeSender();
        for (Thread t : new Thread[] {tx, ctl, rx}) {
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

    private void wakeSender() {
        wake = true;
        LockSupport.unpark(tx);
    }

    // ------------------------------------------------------------------ sender

    /// A train on its way: asked for by the sender, made ready (handshake, datagrams) by the
    /// control thread, sent by the sender.
    private static final class TrainJob {
        final SendTrain spec;
        final CompletableFuture<ByteBuffer[]> ready = new CompletableFuture<>();
        final CompletableFuture<Long> sent = new CompletableFuture<>();
        /// Send time of each probe (written by the sender before [#sent] completes).
        final long[] sendNs;

        TrainJob(SendTrain spec) {
            this.spec = spec;
            this.sendNs = new long[spec.count()];
        }
    }

    private void runTx() {
        config.platform().preciseTimers();
        ByteBuffer probe = ByteBuffer.allocateDirect(QlpbCodec.MAX_DATAGRAM_BYTES);
        try {
            while (!closed) {
                Action action;
                boolean reachable;
                lock.lock();
                try {
                    long now = System.nanoTime();
                    action = scheduler.next(now, active, model.estimates(now));
                    reachable = status == Status.REACHABLE;
                } finally {
                    lock.unlock();
                }
                switch (action) {
                    case Idle idle -> waitUntil(idle.untilNs());
                    case SendProbegap p -> {
                        if (reachable) {
                            sendProbegap(probe, p.probeIpBytes());
                        } else {
                            waitUntil(System.nanoTime() + 50_000_000L); // no sink: nothing to sample
                        }
                    }
                    case SendTrain t -> runTrain(t);
                }
            }
        } catch (InterruptedException e) {
            // closing
        } catch (RuntimeException | Error e) {
            if (!closed) {
                LOG.log(System.Logger.Level.WARNING, "prober " + name + " sender failed", e);
            }
        }
    }

    /// Parks until ~[#SPIN_NS] before the deadline, then spins; returns early when woken.
    private void waitUntil(long deadlineNs) {
        while (!closed) {
            if (wake) {
                wake = false;
                return;
            }
            long left = deadlineNs - System.nanoTime();
            if (left <= 0) {
                return;
            }
            if (left > SPIN_NS) {
                LockSupport.parkNanos(left - SPIN_NS);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private void sendProbegap(ByteBuffer probe, int probeIpBytes) {
        int payload = Math.max(0, probeIpBytes - ipOverheadBytes - PROBEGAP_BYTES);
        long seq = probegapSeq.getAndIncrement() & 0xFFFF_FFFFL;
        long now = System.nanoTime();
        probe.clear();
        QlpbCodec.encode(new QlpbMessage.ProbegapProbe(seq, now / 100, 0, 0,
                payload == 0 ? EMPTY : new byte[payload]), probe);
        probe.flip();
        int slot = (int) (seq % RING);
        long sendNs = System.nanoTime();
        ringSendNs[slot] = sendNs;
        ringSeq.set(slot, seq); // publishes the send time to the receiver
        try {
            int n = probe.remaining();
            udp.write(probe);
            if (System.nanoTime() - sendNs > sendStallNs) {
                ringSeq.compareAndSet(slot, seq, seq | WITHDRAWN); // a reflection already used stays used
                stalledProbegaps.incrementAndGet();
            }
            probeBytesSent.addAndGet(n + ipOverheadBytes);
        config.counters().sent(n + ipOverheadBytes);
        } catch (IOException e) {
            // ICMP unreachable surfaces as PortUnreachableException: the sink went away
            LOG.log(System.Logger.Level.TRACE, () -> "probegap send failed: " + e);
            networkFailure(e);
        }
    }

    /// Hands the train to the control thread, waits until it is ready (handshake done), sends
    /// it back-to-back.
    private void runTrain(SendTrain spec) throws InterruptedException {
        TrainJob job = new TrainJob(spec);
        if (!trainRequests.offer(job, 1, TimeUnit.SECONDS)) {
            trainDone(TrainOutcome.LOST); // the control thread is busy (a route check): again later
            return;
        }
        ByteBuffer[] datagrams;
        try {
            datagrams = job.ready.get(2 * HANDSHAKE_ATTEMPTS * HANDSHAKE_TIMEOUT_NS + 1_000_000_000L,
                    TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            job.sent.complete(-1L);
            return; // the control thread reports the result
        }
        try {
            long startNs = System.nanoTime();
            for (int i = 0; i < datagrams.length; i++) {
                ByteBuffer b = datagrams[i];
                int n = b.remaining();
                if (spec.gapNs() > 0 && i > 0) {
                    paceUntil(startNs + i * spec.gapNs()); // absolute times: a late send is caught up
                }
                job.sendNs[i] = System.nanoTime();
                udp.write(b);
                probeBytesSent.addAndGet(n + ipOverheadBytes);
                config.counters().sent(n + ipOverheadBytes);
            }
            long now = System.nanoTime();
            lock.lock();
            try {
                scheduler.onTrainSent(now, spec);
            } finally {
                lock.unlock();
            }
            job.sent.complete(now);
        } catch (IOException e) {
            job.sent.complete(-1L);
            networkFailure(e);
        }
    }

    /// Parks until ~[#SPIN_NS] before the deadline, then spins (a paced stream's next probe;
    /// unlike [#waitUntil(long)] not cut short by a wake-up).
    private void paceUntil(long deadlineNs) {
        long left;
        while (!closed && (left = deadlineNs - System.nanoTime()) > 0) {
            if (left > SPIN_NS) {
                LockSupport.parkNanos(left - SPIN_NS);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /// Reports a train's outcome to the scheduler and wakes the sender.
    private void trainDone(TrainOutcome outcome) {
        lock.lock();
        try {
            scheduler.onTrainResult(System.nanoTime(), outcome);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        wakeSender();
    }

    // ------------------------------------------------------------------ control

    private void runControl() {
        try {
            while (!closed) {
                TrainJob job = trainRequests.poll(1, TimeUnit.SECONDS);
                if (job != null) {
                    trainDone(packetPair(job));
                }
                if (!closed && config.routeCheck() && routeCheckDue()) {
                    routeCheckSession();
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

    private boolean routeCheckDue() {
        lock.lock();
        try {
            return status == Status.REACHABLE && prioritySupportedOrDue();
        } finally {
            lock.unlock();
        }
    }

    private boolean prioritySupportedOrDue() {
        return routeCheckDueNs == 0 || System.nanoTime() - routeCheckDueNs >= 0;
    }

    /// One packet-pair session for one train: handshake, train, summary.
    ///
    /// @return what became of the train
    private TrainOutcome packetPair(TrainJob job) throws InterruptedException {
        SocketChannel ch = handshake(new QlpbMessage.PacketPairHandshake());
        if (ch == null) {
            job.ready.completeExceptionally(new IOException("no sink answered"));
            return TrainOutcome.NO_SINK;
        }
        QlpbStreamDecoder decoder = pendingDecoder;
        long end = System.nanoTime() + PACKET_PAIR_SESSION_NS;
        try {
            long seq = trainSeq;
            int count = job.spec.count();
            trainSeq = (trainSeq + count) & 0xFFFF_FFFFL;
            if (trainSeq < count) {
                trainSeq = 1; // wrapped: keep the numbers increasing within a train, never 0
            }
            job.ready.complete(buildTrain(ch.socket().getLocalPort(), seq, job.spec));
            long sentNs;
            try {
                sentNs = job.sent.get(2, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                return TrainOutcome.LOST;
            }
            if (sentNs < 0) {
                return TrainOutcome.LOST;
            }
            PathEstimates known = estimates();
            long rtt = known.rttUs().orElse(10_000) * 1000;
            long bits = job.spec.bytes() * 8;
            // a bottleneck that is only a lower bound (every train so far passed unslowed, maybe
            // within a token bucket's burst) says nothing of how long a longer train's tail
            // takes: wait to the session's end then (a 480 KB train behind a 2 Mbit/s bucket of
            // 256 KB needs 0.9 s, 1.3 s with 30 % cross traffic; giving up on it hid the bucket)
            long drain = known.sustainedRateUnknown() ? PACKET_PAIR_SESSION_NS
                    : known.bottleneckBps().isPresent()
                    ? bits * 1_000_000_000L / Math.max(1, known.bottleneckBps().getAsLong()) : 300_000_000L;
            long wait = Math.min(end, System.nanoTime() + 250_000_000L + 2 * rtt
                    + Math.min(drain, known.sustainedRateUnknown() ? PACKET_PAIR_SESSION_NS : 1_000_000_000L));
            QlpbMessage m;
            while ((m = read(ch, decoder, wait)) != null) {
                if (m instanceof PacketPairSummary s && s.sequence() == seq) {
                    onSummary(s, job.spec, job.sendNs);
                    return TrainOutcome.SUMMARY;
                }
            }
            return TrainOutcome.LOST;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "prober " + name + ": packet-pair session failed: " + e);
            return TrainOutcome.LOST;
        } finally {
            untrackAndClose(ch);
        }
    }

    private void onSummary(PacketPairSummary s, SendTrain spec, long[] sendNs) {
        long now = System.nanoTime();
        PathEstimates after;
        lock.lock();
        try {
            if (spec.paced()) {
                model.onStream(now, spec.probeIpBytes(), s.timestampDeltas100ns(), sendNs);
            } else {
                model.onTrain(now, spec.probeIpBytes(), s.timestampDeltas100ns(), s.interfaceSpeedBps(), sendNs);
            }
            noteEstimates(now);
            changed.signalAll();
            after = model.estimates(now);
        } finally {
            lock.unlock();
        }
        try {
            observer.onEstimates(now, after);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "probe observer failed", e);
        }
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

    private ByteBuffer[] buildTrain(int initiatorPort, long firstSeq, SendTrain spec) {
        int messageBytes = Math.max(QlpbCodec.PROBE_HEADER_BYTES, spec.probeIpBytes() - ipOverheadBytes);
        int payload = messageBytes - QlpbCodec.PROBE_HEADER_BYTES;
        ByteBuffer[] train = new ByteBuffer[spec.count()];
        byte[] random = new byte[payload];
        ThreadLocalRandom.current().nextBytes(random); // [MS-QLPB]: random payload
        for (int i = 0; i < spec.count(); i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(messageBytes);
            QlpbCodec.encode(new QlpbMessage.PacketPairProbe(initiatorPort, spec.count(),
                    (firstSeq + i) & 0xFFFF_FFFFL, i == 0, payload), b);
            b.put(QlpbCodec.PROBE_HEADER_BYTES, random);
            train[i] = b.flip();
        }
        return train;
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
                out.write(bytes(auth == null ? hello
                        : auth.sign(hello.messageId(), System.currentTimeMillis(), secureRandom)));
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
                networkFailure(e);
            }
            untrackAndClose(ch);
        }
        handshakeOutcome(false);
        return null;
    }

    private void handshakeOutcome(boolean ok) {
        boolean lost;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            lastHandshakeOutcomeNs = System.nanoTime();
            lost = !ok && status == Status.REACHABLE;
            status = ok ? Status.REACHABLE : Status.UNREACHABLE;
            if (ok) {
                fault = null;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (lost) {
            QosError f = fault;
            reportFault(f != null ? f : QosError.HOST_UNREACHABLE);
        }
        wakeSender();
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
        scheduleRouteCheck(ROUTE_CHECK_INTERVAL_NS);
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
        config.counters().sent(n + ipOverheadBytes);
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
            long recvNs = udpStamps.receivedNs(System.nanoTime());
            buffer.flip();
            if (!view.decode(buffer) || view.messageId() != QlpbCodec.ID_PROBEGAP_REFLECTED) {
                continue;
            }
            probeBytesReceived.addAndGet(view.lengthBytes() + ipOverheadBytes);
            fault = null;
            long seq = view.sequence();
            int slot = (int) (seq % RING);
            long mark = ringSeq.get(slot);
            long sendNs = ringSendNs[slot];
            long markAfter = ringSeq.get(slot);
            if (mark == seq && markAfter == seq) {
                // a sample (below)
            } else if ((mark == seq || mark == (seq | WITHDRAWN)) && markAfter == (seq | WITHDRAWN)) {
                arrivedWithoutSample(seq, recvNs);
                continue;
            } else {
                continue; // unknown, or too old: its slot was reused
            }
            long sinkRecv = view.sinkRecvTimestamp100ns();
            long sinkSend = view.sinkSendTimestamp100ns();
            PathEstimates now;
            lock.lock();
            try {
                model.onProbegap(seq, sendNs, sinkRecv, sinkSend, recvNs, view.lengthBytes() + ipOverheadBytes);
                noteEstimates(recvNs);
                if (freshWaiters > 0) {
                    changed.signalAll();
                }
                now = model.estimates(recvNs);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "path model failed on a probegap sample", e);
                continue;
            } finally {
                lock.unlock();
            }
            try {
                ProbeObserver o = observer;
                o.onProbegap(seq, sendNs, sinkRecv, sinkSend, recvNs);
                o.onEstimates(recvNs, now);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "probe observer failed", e);
            }
        }
    }

    /// A reflection of a probe whose sample was withdrawn: an arrival for the model and the
    /// observer (not a loss), without timing.
    private void arrivedWithoutSample(long seq, long recvNs) {
        lock.lock();
        try {
            model.onProbegapArrival(seq, recvNs);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "path model failed on a probegap arrival", e);
            return;
        } finally {
            lock.unlock();
        }
        try {
            observer.onProbegapArrival(seq, recvNs);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "probe observer failed", e);
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
