package io.quaver.internal.qlpb;

import io.quaver.SinkStats;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/// The sink's counters; updated from its threads without allocation, read as [SinkStats].
final class SinkCounters {
    final AtomicLong sessionsAccepted = new AtomicLong();
    final AtomicLong sessionsRefused = new AtomicLong();
    final AtomicLong sessionsTimedOut = new AtomicLong();
    final AtomicLong probesReceived = new AtomicLong();
    final AtomicLong packetPairTrains = new AtomicLong();
    final AtomicLong routeCheckSummaries = new AtomicLong();
    final AtomicLong probegapsReflected = new AtomicLong();
    final AtomicLong malformedMessages = new AtomicLong();
    final AtomicLong droppedMessages = new AtomicLong();
    final AtomicLong bytesIn = new AtomicLong();
    final AtomicLong bytesOut = new AtomicLong();
    final AtomicLong discardedBytes = new AtomicLong();
    final AtomicLong rateLimitedConnections = new AtomicLong();
    final AtomicLong rateLimitedDatagrams = new AtomicLong();
    final AtomicLong authFailures = new AtomicLong();
    final AtomicLong repliesSuppressed = new AtomicLong();
    /// Exceptions caught where none should occur (not in [SinkStats]; tests expect 0).
    final AtomicLong unexpectedFailures = new AtomicLong();

    SinkStats snapshot(IntSupplier activeSessions) {
        return new SinkStats(sessionsAccepted.get(), activeSessions.getAsInt(), sessionsRefused.get(),
                sessionsTimedOut.get(), probesReceived.get(), packetPairTrains.get(), routeCheckSummaries.get(),
                probegapsReflected.get(), malformedMessages.get(), droppedMessages.get(), bytesIn.get(),
                bytesOut.get(), discardedBytes.get(), rateLimitedConnections.get(), rateLimitedDatagrams.get(),
                authFailures.get(), repliesSuppressed.get());
    }
}
