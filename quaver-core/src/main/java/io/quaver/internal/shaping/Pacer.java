package io.quaver.internal.shaping;

import java.lang.System.Logger.Level;
import java.util.Comparator;
import java.util.Iterator;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/// The pacer: one platform thread that performs deferred sends at their departure times.
///
/// Jobs are handed over through a lock-free inbox and kept in a heap ordered by deadline (then
/// by submission, so a flow's packets never overtake each other). The thread waits for the
/// earliest deadline with a **hybrid wait**: it parks until a spin window before it
/// ([PacingPolicy#spinWindowNs]: fitted to the host's measured wake-up latency, at most a tenth
/// of the packet gap — the job's flow's, or all flows' together when that is denser) and spins
/// for the rest — unless the packets come closer than
/// [PacingPolicy#MIN_SPIN_GAP_NS] (above ~2 k packets/s), where it only parks and then sends
/// everything that became due in one batch (performance-anchors.md §3.2: spinning at those
/// rates costs a whole core for little gain).
///
/// The thread starts with the first [#acquire()] or submitted job and ends once no flow holds
/// the pacer ([#release()]) and nothing is pending, so an idle JVM has no pacer thread.
/// Jobs run on this thread: their completions (and the application's dependent actions on
/// them) must be short.
public final class Pacer {
    private static final System.Logger LOG = System.getLogger(Pacer.class.getName());
    private static final long IDLE_PARK_NS = 50_000_000;

    /// A deferred send.
    public interface Job {
        /// Performs the send; runs on the pacer thread at or after the deadline.
        void fire();

        /// Completes the job with a failure instead (the flow went away).
        void abort(Throwable cause);

        /// The owner whose [#abort(Object, Throwable)] cancels this job.
        Object owner();

        /// The spacing of this job's flow's packets in ns: decides the spin window of the wait
        /// (see the class comment and [PacingPolicy#spinWindowNs]).
        long gapNs();
    }

    private record Entry(long deadlineNs, long seq, Job job) {
    }

    private record Abort(Object owner, Throwable cause, CountDownLatch done) {
    }

    private final String threadName;
    private final Runnable onThreadStart;
    private final ConcurrentLinkedQueue<Object> inbox = new ConcurrentLinkedQueue<>();
    private final PriorityQueue<Entry> heap = new PriorityQueue<>(
            Comparator.comparingLong(Entry::deadlineNs).thenComparingLong(Entry::seq));
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong firedJobs = new AtomicLong();
    private final AtomicLong wakeUps = new AtomicLong();
    private int users; // guarded by this
    private volatile Thread thread; // written under this
    /// While the pacer thread is about to park or parked: the time it will wake by itself
    /// (`System.nanoTime()` clock); 0 while it runs. A submission wakes it only for an earlier
    /// deadline, so a backlog of far deadlines costs no wake-ups (goal G14).
    private volatile long parkedUntilNs;
    /// Smoothed spacing of the jobs the pacer performs, all flows together (pacer thread
    /// only): many slow flows make a dense schedule, which is batched rather than spun for.
    private long aggregateGapNs = Long.MAX_VALUE;
    private long lastFireNs;

    public Pacer(String threadName) {
        this(threadName, () -> { });
    }

    /// @param onThreadStart runs first on the pacer's thread (the platform's precise timers)
    public Pacer(String threadName, Runnable onThreadStart) {
        this.threadName = threadName;
        this.onThreadStart = onThreadStart;
    }

    /// A flow starts needing the pacer.
    public synchronized void acquire() {
        users++;
    }

    /// A flow no longer needs the pacer; the thread ends when none does and nothing is pending.
    public void release() {
        Thread t;
        synchronized (this) {
            if (users > 0) {
                users--;
            }
            t = thread;
        }
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /// Whether the pacer thread is running.
    public boolean isRunning() {
        return thread != null;
    }

    /// Jobs performed since creation.
    public long firedJobs() {
        return firedJobs.get();
    }

    /// Wake-ups that sent at least one job (firedJobs / wakeUps = batching).
    public long wakeUps() {
        return wakeUps.get();
    }

    /// Schedules `job` for `deadlineNs` (`System.nanoTime()` clock).
    public void submit(long deadlineNs, Job job) {
        inbox.add(new Entry(deadlineNs, seq.getAndIncrement(), job));
        Thread t = thread;
        if (t == null) {
            LockSupport.unpark(ensureRunning());
            return;
        }
        // Dekker-style with the loop: it publishes parkedUntilNs, then re-checks the inbox
        long until = parkedUntilNs;
        if (until != 0 && deadlineNs - until < 0) {
            LockSupport.unpark(t);
        }
    }

    /// Aborts every pending job of `owner` with `cause`, and returns once they are completed
    /// (at most ~2 s; at once when called on the pacer thread itself).
    public void abort(Object owner, Throwable cause) {
        Thread t = thread;
        if (t == null) {
            return; // nothing can be pending
        }
        if (Thread.currentThread() == t) {
            purge(owner, cause);
            return;
        }
        Abort a = new Abort(owner, cause, new CountDownLatch(1));
        inbox.add(a);
        LockSupport.unpark(ensureRunning()); // always: an abort has no deadline
        try {
            if (!a.done().await(2, TimeUnit.SECONDS)) {
                LOG.log(Level.WARNING, "pacer did not abort the jobs of " + owner + " within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized Thread ensureRunning() {
        Thread t = thread;
        if (t == null) {
            t = Thread.ofPlatform().name(threadName).daemon(true).unstarted(this::run);
            thread = t;
            t.start();
        }
        return t;
    }

    private void run() {
        try {
            onThreadStart.run();
            loop();
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "pacer thread failed", t);
            synchronized (this) {
                thread = null;
            }
            for (Entry e : heap) {
                e.job().abort(t);
            }
            heap.clear();
        }
    }

    private void loop() {
        while (true) {
            drainInbox();
            Entry head = heap.peek();
            if (head == null) {
                synchronized (this) {
                    if (users == 0 && inbox.isEmpty()) {
                        thread = null;
                        return;
                    }
                }
                parkUntil(System.nanoTime() + IDLE_PARK_NS, IDLE_PARK_NS, false);
                continue;
            }
            long now = System.nanoTime();
            long remaining = head.deadlineNs() - now;
            if (remaining <= 0) {
                wakeUps.incrementAndGet();
                int batch = 0;
                while ((head = heap.peek()) != null && head.deadlineNs() - now <= 0) {
                    heap.poll();
                    firedJobs.incrementAndGet();
                    fire(head.job());
                    batch++;
                }
                if (lastFireNs != 0) {
                    long gap = Math.min(1_000_000_000L, (now - lastFireNs) / batch);
                    aggregateGapNs = aggregateGapNs == Long.MAX_VALUE ? gap : aggregateGapNs + (gap - aggregateGapNs) / 16;
                }
                lastFireNs = now;
                continue;
            }
            long gap = Math.min(head.job().gapNs(), aggregateGapNs);
            long window = PacingPolicy.spinWindowNs(gap, PacingPolicy.PARK_OVERSHOOT.estimateNs());
            long park = PacingPolicy.parkNs(remaining, window);
            if (park > 0) {
                parkUntil(now + park, park, true);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /// Parks for `parkNs` unless a job or command arrived meanwhile; submissions with an
    /// earlier deadline than `untilNs` unpark it.
    private void parkUntil(long untilNs, long parkNs, boolean learn) {
        parkedUntilNs = untilNs == 0 ? 1 : untilNs;
        try {
            if (!inbox.isEmpty()) {
                return; // something arrived after the last drain: handle it first
            }
            if (learn) {
                PacingPolicy.parkAndLearn(this, parkNs);
            } else {
                LockSupport.parkNanos(this, parkNs);
            }
        } finally {
            parkedUntilNs = 0;
        }
    }

    private void drainInbox() {
        Object o;
        while ((o = inbox.poll()) != null) {
            if (o instanceof Entry e) {
                heap.add(e);
            } else if (o instanceof Abort a) {
                purge(a.owner(), a.cause());
                a.done().countDown();
            }
        }
    }

    private void purge(Object owner, Throwable cause) {
        for (Iterator<Entry> it = heap.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.job().owner() == owner) {
                it.remove();
                abortQuietly(e.job(), cause);
            }
        }
        // jobs of the owner still in the inbox (submitted concurrently) are aborted as well
        for (Iterator<Object> it = inbox.iterator(); it.hasNext(); ) {
            if (it.next() instanceof Entry e && e.job().owner() == owner && inbox.remove(e)) {
                abortQuietly(e.job(), cause);
            }
        }
    }

    private static void fire(Job job) {
        try {
            job.fire();
        } catch (Throwable t) {
            abortQuietly(job, t);
        }
    }

    private static void abortQuietly(Job job, Throwable cause) {
        try {
            job.abort(cause);
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "aborting a pacer job failed", t);
        }
    }
}
