package io.quaver.testkit;

/// Byte-accurate serialisation of datagrams onto a bottleneck link, in virtual time.
///
/// This is the pure heart of the [LinkEmulator]: it has no clock and no threads, so it can be driven
/// with exact numbers in tests. Every datagram offered at `arrivalNs` with `wireBytes` on the wire
/// gets a *departure time*: the instant its last bit leaves the bottleneck,
///
/// ```
/// departureNs = max(arrivalNs, lastDepartureNs) + wireBytes * 8 / rateBps   (seconds → ns)
/// ```
///
/// The division is carried out exactly: the sub-nanosecond remainder is carried over to the next
/// back-to-back datagram, so a long busy period has no rounding drift at any rate (at 10 Mbit/s a
/// 1228-byte datagram takes exactly 982 400 ns). The carry is reset whenever the link goes idle.
///
/// ## Queue
/// A datagram counts in the *backlog* from its arrival until its departure (the datagram currently
/// being serialised included, as a Linux qdisc counts it). Tail drop: a datagram whose
/// `wireBytes` would take the backlog above `queueLimitBytes` is refused ([#DROPPED]).
///
/// Cross traffic ([#offerCross]) shares the link and the backlog, so it delays and crowds out real
/// datagrams, but it is admitted against its *own* share of the buffer: it is refused only when the
/// cross-traffic bytes alone would exceed the limit. A saturating test flow therefore gets exactly
/// `rate − crossRate` (the available bandwidth) instead of pushing unresponsive cross traffic out by
/// tail drop, while cross traffic faster than the link is still bounded.
///
/// ## Rate changes
/// [#setRateBps] applies to datagrams offered afterwards; datagrams already scheduled keep their
/// departure times (the step takes effect for the next arrival, never reorders anything).
///
/// Times are in nanoseconds on any monotonic clock and must not go backwards between calls by more
/// than the caller can tolerate (an earlier `arrivalNs` is treated as arriving at the latest time
/// seen). Not thread-safe.
public final class SerializationSchedule {
    /// [#rateBps()] value meaning "no bottleneck": datagrams depart the instant they arrive.
    public static final long UNLIMITED_RATE = 0;
    /// [#queueLimitBytes()] value meaning "no tail drop".
    public static final long UNLIMITED_QUEUE = Long.MAX_VALUE;
    /// Returned by [#offer] and [#offerCross] for a datagram refused by tail drop.
    public static final long DROPPED = Long.MIN_VALUE;
    /// Largest datagram accepted, in wire bytes (keeps `bits × 10⁹` well inside a `long`).
    public static final int MAX_WIRE_BYTES = 1 << 20;

    private static final long NS_PER_S = 1_000_000_000L;

    private long rateBps;
    private long queueLimitBytes;

    private boolean started;
    private long latestArrivalNs;
    private long lastDepartureNs;
    /// Remainder of `bits × 10⁹ / rateBps` not yet turned into nanoseconds, in units of 1/rateBps ns.
    private long carry;

    // Ring buffer of queued datagrams (in departure order, which is also arrival order).
    private long[] departuresNs = new long[64];
    private int[] sizesBytes = new int[64];
    private boolean[] crossFlags = new boolean[64];
    private int head;
    private int count;
    private long backlogBytes;
    private long crossBacklogBytes;

    /// A schedule with the given bottleneck rate (bits per second, or [#UNLIMITED_RATE]) and queue
    /// limit (bytes on the wire, or [#UNLIMITED_QUEUE]).
    public SerializationSchedule(long rateBps, long queueLimitBytes) {
        setRateBps(rateBps);
        setQueueLimitBytes(queueLimitBytes);
    }

    /// Offers one real datagram; returns its departure time or [#DROPPED].
    public long offer(long arrivalNs, int wireBytes) {
        return admit(arrivalNs, wireBytes, false);
    }

    /// Offers one virtual cross-traffic datagram; returns its departure time or [#DROPPED].
    public long offerCross(long arrivalNs, int wireBytes) {
        return admit(arrivalNs, wireBytes, true);
    }

    private long admit(long arrivalNs, int wireBytes, boolean cross) {
        if (wireBytes < 0 || wireBytes > MAX_WIRE_BYTES) {
            throw new IllegalArgumentException("wireBytes must be 0.." + MAX_WIRE_BYTES + ", was " + wireBytes);
        }
        long t = clamp(arrivalNs);
        drain(t);
        if (rateBps == UNLIMITED_RATE) {
            return t;
        }
        long occupied = cross ? crossBacklogBytes : backlogBytes;
        if (occupied > queueLimitBytes - wireBytes) {
            return DROPPED;
        }
        long startNs;
        if (count == 0 || lastDepartureNs <= t) {
            startNs = t;
            carry = 0;
        } else {
            startNs = lastDepartureNs;
        }
        long numerator = wireBytes * 8L * NS_PER_S + carry;
        long departureNs = startNs + numerator / rateBps;
        carry = numerator % rateBps;
        lastDepartureNs = departureNs;
        push(departureNs, wireBytes, cross);
        return departureNs;
    }

    private long clamp(long t) {
        if (!started || t > latestArrivalNs) {
            started = true;
            latestArrivalNs = t;
        }
        return latestArrivalNs;
    }

    /// Bytes on the wire queued (waiting or being serialised) at `nowNs`, cross traffic included.
    public long backlogBytes(long nowNs) {
        drain(clamp(nowNs));
        return backlogBytes;
    }

    /// Cross-traffic bytes queued at `nowNs`.
    public long crossBacklogBytes(long nowNs) {
        drain(clamp(nowNs));
        return crossBacklogBytes;
    }

    /// Departure time of the last datagram admitted (meaningful only once one was admitted).
    public long lastDepartureNs() {
        return lastDepartureNs;
    }

    /// Serialisation time of `wireBytes` at the current rate, rounded down, in ns (0 if unlimited).
    public long serializationNs(int wireBytes) {
        return rateBps == UNLIMITED_RATE ? 0 : wireBytes * 8L * NS_PER_S / rateBps;
    }

    public long rateBps() {
        return rateBps;
    }

    public long queueLimitBytes() {
        return queueLimitBytes;
    }

    /// Changes the bottleneck rate for datagrams offered from now on.
    public void setRateBps(long rateBps) {
        if (rateBps < 0) {
            throw new IllegalArgumentException("rateBps must be >= 0 (0 = unlimited), was " + rateBps);
        }
        if (rateBps != this.rateBps) {
            carry = 0;
        }
        this.rateBps = rateBps;
    }

    /// Changes the tail-drop limit (bytes on the wire); already queued datagrams stay queued.
    public void setQueueLimitBytes(long queueLimitBytes) {
        if (queueLimitBytes < 0) {
            throw new IllegalArgumentException("queueLimitBytes must be >= 0, was " + queueLimitBytes);
        }
        this.queueLimitBytes = queueLimitBytes;
    }

    private void drain(long t) {
        while (count > 0 && departuresNs[head] <= t) {
            backlogBytes -= sizesBytes[head];
            if (crossFlags[head]) {
                crossBacklogBytes -= sizesBytes[head];
            }
            head = (head + 1) % departuresNs.length;
            count--;
        }
    }

    private void push(long departureNs, int wireBytes, boolean cross) {
        if (count == departuresNs.length) {
            grow();
        }
        int tail = (head + count) % departuresNs.length;
        departuresNs[tail] = departureNs;
        sizesBytes[tail] = wireBytes;
        crossFlags[tail] = cross;
        count++;
        backlogBytes += wireBytes;
        if (cross) {
            crossBacklogBytes += wireBytes;
        }
    }

    private void grow() {
        int n = departuresNs.length;
        long[] d = new long[n * 2];
        int[] s = new int[n * 2];
        boolean[] c = new boolean[n * 2];
        for (int i = 0; i < count; i++) {
            int j = (head + i) % n;
            d[i] = departuresNs[j];
            s[i] = sizesBytes[j];
            c[i] = crossFlags[j];
        }
        departuresNs = d;
        sizesBytes = s;
        crossFlags = c;
        head = 0;
    }
}
