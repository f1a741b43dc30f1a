package io.quaver.internal.shaping;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/// The shaper core: a GCRA (generic cell rate algorithm, virtual-scheduling form, ITU-T I.371)
/// over bytes, as a pure function of `(nowNs, bytes)`.
///
/// State is one theoretical arrival time (TAT), kept in 1/256 ns relative to an epoch so that
/// a packet's cost is exact to well under a nanosecond at any rate (no drift at 1 Gbit/s with
/// 200-byte packets). Updates are a lock-free CAS on that one `long`.
///
/// - [#reserve(long, int)] is the pacer's decision: it commits the packet and answers how long
///   to wait before sending it (0 = send now).
/// - [#tryConsume(long, int)] is the marker's decision: conformant traffic consumes its share
///   and is sent with conformant marks; non-conformant traffic is sent at once, consumes
///   nothing, and carries the non-conformant marks.
///
/// The burst tolerance bounds catch-up: after the sender stalls (GC, preemption) or idles, at
/// most `burstBytes` (plus the packet being decided) may leave back to back, never "everything
/// that is late". Time is an argument; nothing here reads a clock.
public final class GcraShaper {
    private static final int SUB_NS_BITS = 8;

    private final long epochNs;
    private static final VarHandle TAT;

    static {
        try {
            TAT = MethodHandles.lookup().findVarHandle(GcraShaper.class, "tat", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /// The theoretical arrival time, ticks since the epoch (0: a full burst is available at
    /// first). A field of this object rather than an `AtomicLong`, so that a decision touches
    /// one object less (the send path runs right after a system call, with cold caches).
    /// Written only through TAT.
    private volatile long tat;
    private volatile Params params;

    /// @param rateBps    the rate in bits per second (> 0)
    /// @param burstBytes the burst tolerance in bytes (>= 0)
    /// @param epochNs    a time at or before the first call (e.g. `System.nanoTime()` now)
    public GcraShaper(long rateBps, long burstBytes, long epochNs) {
        this.epochNs = epochNs;
        this.params = Params.of(rateBps, burstBytes);
    }

    /// Changes rate and burst; traffic already committed keeps its schedule.
    public void setRate(long rateBps, long burstBytes) {
        this.params = Params.of(rateBps, burstBytes);
    }

    public long rateBps() {
        return params.rateBps;
    }

    public long burstBytes() {
        return params.burstBytes;
    }

    /// Commits `bytes` and returns the wait in nanoseconds before they may be sent (0 = now).
    ///
    /// A backlogged shaper (TAT at or after now) only adds the cost: one `getAndAdd`, which
    /// never retries under contention; TAT never decreases, so the add stays valid. An idle one
    /// moves TAT to now + cost with a CAS.
    public long reserve(long nowNs, int bytes) {
        Params p = params;
        long now = toTicks(nowNs);
        long cost = p.costTicks(bytes);
        while (true) {
            long current = tat;
            if (current >= now) {
                long prev = (long) TAT.getAndAdd(this, cost);
                return ceilNs(Math.max(now, prev - p.toleranceTicks) - now);
            }
            if (TAT.compareAndSet(this, current, now + cost)) {
                return ceilNs(Math.max(now, current - p.toleranceTicks) - now);
            }
        }
    }

    /// Whether `bytes` sent now conform to the rate; conformant bytes are committed,
    /// non-conformant ones are not.
    public boolean tryConsume(long nowNs, int bytes) {
        Params p = params;
        long now = toTicks(nowNs);
        long cost = p.costTicks(bytes);
        while (true) {
            long current = tat;
            if (current - p.toleranceTicks > now) {
                return false;
            }
            if (TAT.compareAndSet(this, current, Math.max(current, now) + cost)) {
                return true;
            }
        }
    }

    /// The earliest time (ns, same clock as the arguments) at which `bytes` would conform.
    public long nextConformantNs(long nowNs) {
        long sendAt = Math.max(toTicks(nowNs), tat - params.toleranceTicks);
        return epochNs + ceilNs(sendAt);
    }

    private long toTicks(long nowNs) {
        return (nowNs - epochNs) << SUB_NS_BITS;
    }

    private static long ceilNs(long ticks) {
        return (ticks + (1L << SUB_NS_BITS) - 1) >> SUB_NS_BITS;
    }

    private static final class Params {
        final long rateBps;
        final long burstBytes;
        final long toleranceTicks;
        /// The last packet size's cost, packed `(bytes << 42) | ticks` (0 = none): flows mostly
        /// send one size, and this spares the 64-bit division. Racy by design: any value read is
        /// a correct (bytes, ticks) pair, a long write being atomic.
        private volatile long memo;

        private Params(long rateBps, long burstBytes, long toleranceTicks) {
            this.rateBps = rateBps;
            this.burstBytes = burstBytes;
            this.toleranceTicks = toleranceTicks;
        }

        static Params of(long rateBps, long burstBytes) {
            if (rateBps <= 0) {
                throw new IllegalArgumentException("rate must be > 0 bit/s, was " + rateBps);
            }
            if (burstBytes < 0) {
                throw new IllegalArgumentException("burst must be >= 0 bytes, was " + burstBytes);
            }
            return new Params(rateBps, burstBytes, costTicks(rateBps, burstBytes));
        }

        long costTicks(int bytes) {
            long m = memo;
            if (m != 0 && (m >>> 42) == bytes) {
                return m & ((1L << 42) - 1);
            }
            long ticks = costTicks(rateBps, bytes);
            if (bytes > 0 && bytes < (1 << 21) && ticks < (1L << 42)) {
                memo = ((long) bytes << 42) | ticks;
            }
            return ticks;
        }

        /// bytes·8·1e9·256 / rate, rounded to the nearest tick, without overflow.
        private static long costTicks(long rateBps, long bytes) {
            long bits = bytes * 8;
            long q = Math.multiplyHigh(bits, 256_000_000_000L);
            long lo = bits * 256_000_000_000L;
            if (q == 0 && lo >= 0) {
                return (lo + rateBps / 2) / rateBps;
            }
            return java.math.BigInteger.valueOf(bits).multiply(java.math.BigInteger.valueOf(256_000_000_000L))
                    .add(java.math.BigInteger.valueOf(rateBps / 2))
                    .divide(java.math.BigInteger.valueOf(rateBps)).longValueExact();
        }
    }
}
