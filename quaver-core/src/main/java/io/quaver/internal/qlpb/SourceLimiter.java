package io.quaver.internal.qlpb;

import io.quaver.internal.shaping.GcraShaper;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/// The sink's per-source-address limits, pure (time is an argument): a concurrent-session cap,
/// a token bucket on new control connections and one on probe bytes, each the project's GCRA
/// core ([GcraShaper#tryConsume(long, int)]) — conformant traffic passes and is charged,
/// the rest is refused and charges nothing, so a flooder is held to the rate while every
/// other source keeps its own full allowance.
///
/// The table is bounded ([#MAX_SOURCES]): when full, sources idle for [#IDLE_NS] with no
/// session are swept out (at most once per [#SWEEP_INTERVAL_NS]); a new source that still
/// finds no room shares one *overflow* entry with the other newcomers (so forged source
/// addresses cannot grow memory or push out the sources already known).
///
/// Thread-safe: datagrams are admitted by the sink's UDP thread, connections by its accept
/// thread, releases come from session threads.
final class SourceLimiter {
    static final int MAX_SOURCES = 4_096;
    static final long IDLE_NS = 10_000_000_000L;
    static final long SWEEP_INTERVAL_NS = 1_000_000_000L;

    /// One source address's state.
    static final class Source {
        final GcraShaper bytes;
        final GcraShaper connections;
        final AtomicInteger sessions = new AtomicInteger();
        volatile long lastSeenNs;

        Source(long rateBps, long burstBytes, int connectionsPerSecond, long nowNs) {
            this.bytes = new GcraShaper(rateBps, burstBytes, nowNs);
            // one "byte" per connection: a rate of n connections/s, a burst of n back to back
            this.connections = new GcraShaper(8L * connectionsPerSecond, connectionsPerSecond - 1L, nowNs);
            this.lastSeenNs = nowNs;
        }
    }

    private final long rateBps;
    private final long burstBytes;
    private final int connectionsPerSecond;
    private final int maxSessionsPerSource;
    private final ConcurrentHashMap<InetAddress, Source> sources = new ConcurrentHashMap<>();
    private final Source overflow;
    private final AtomicLong lastSweepNs;

    SourceLimiter(long rateBps, long burstBytes, int connectionsPerSecond, int maxSessionsPerSource, long nowNs) {
        this.rateBps = rateBps;
        this.burstBytes = burstBytes;
        this.connectionsPerSecond = connectionsPerSecond;
        this.maxSessionsPerSource = maxSessionsPerSource;
        this.overflow = new Source(rateBps, burstBytes, connectionsPerSecond, nowNs);
        this.lastSweepNs = new AtomicLong(nowNs - SWEEP_INTERVAL_NS);
    }

    /// Whether a datagram of `bytes` from `from` may be processed now (it is then charged).
    boolean admitDatagram(InetAddress from, int bytes, long nowNs) {
        Source s = source(from, nowNs);
        s.lastSeenNs = nowNs;
        return s.bytes.tryConsume(nowNs, Math.max(1, bytes));
    }

    /// Admits a new control connection from `from`: within the source's session cap and its
    /// connection rate. The session must [#release(Source)] the returned entry when it ends.
    ///
    /// @return the source's entry, or `null` if the connection must be refused
    Source admitConnection(InetAddress from, long nowNs) {
        Source s = source(from, nowNs);
        s.lastSeenNs = nowNs;
        while (true) {
            int open = s.sessions.get();
            if (open >= maxSessionsPerSource) {
                return null;
            }
            if (s.sessions.compareAndSet(open, open + 1)) {
                break;
            }
        }
        if (!s.connections.tryConsume(nowNs, 1)) {
            s.sessions.decrementAndGet();
            return null;
        }
        return s;
    }

    /// A session admitted by [#admitConnection] ended.
    void release(Source s) {
        if (s != null) {
            s.sessions.decrementAndGet();
        }
    }

    /// Sources in the table (the overflow entry excluded).
    int size() {
        return sources.size();
    }

    private Source source(InetAddress from, long nowNs) {
        Source s = sources.get(from);
        if (s != null) {
            return s;
        }
        if (sources.size() >= MAX_SOURCES && !sweep(nowNs)) {
            return overflow;
        }
        return sources.computeIfAbsent(from, a -> new Source(rateBps, burstBytes, connectionsPerSecond, nowNs));
    }

    /// Removes idle sources without sessions; `true` if there is room afterwards.
    private boolean sweep(long nowNs) {
        long last = lastSweepNs.get();
        if (nowNs - last >= SWEEP_INTERVAL_NS && lastSweepNs.compareAndSet(last, nowNs)) {
            sources.values().removeIf(s -> s.sessions.get() == 0 && nowNs - s.lastSeenNs >= IDLE_NS);
        }
        return sources.size() < MAX_SOURCES;
    }
}
