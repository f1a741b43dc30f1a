package io.quaver;

/// Counters of a [QosSink] since it started (a consistent-enough snapshot: each counter is
/// read atomically, not all of them at one instant).
///
/// @param sessionsAccepted    control connections accepted
/// @param sessionsActive      control connections open now
/// @param sessionsRefused     connections closed at once because `maxSessions` were open
/// @param sessionsTimedOut    connections closed by the idle timeout
/// @param probesReceived      valid probe datagrams received (packet pair, route check,
///                            probegap)
/// @param packetPairTrains    complete packet-pair trains (each answered by a Packet Pair
///                            Summary, unless its queue was full: then counted as dropped too)
/// @param routeCheckSummaries route-check observations reported (Route Check Summaries)
/// @param probegapsReflected  probegap probes reflected
/// @param malformedMessages   datagrams and control messages rejected by the decoder (a
///                            malformed control message also closes its connection)
/// @param droppedMessages     valid messages ignored: probes with no matching session or out
///                            of their train, control messages out of order (which close the
///                            connection), replies that could not be queued
/// @param bytesIn             bytes received (TCP payload and UDP datagrams)
/// @param bytesOut            bytes sent (TCP payload and UDP datagrams)
/// @param discardedBytes      bytes received on discard (flood) sessions, Discard messages
///                            excluded
/// @param rateLimitedConnections connections closed at once because their source address had
///                            `maxSessionsPerSource` sessions open or exceeded
///                            `sourceHandshakesPerSecond` (also counted in `sessionsRefused`)
/// @param rateLimitedDatagrams datagrams dropped unread because their source address exceeded
///                            `sourceRateBps` (not counted elsewhere)
/// @param authFailures        handshakes dropped by a sink with a secret: unauthenticated,
///                            wrongly authenticated, stale or replayed (their connection is
///                            closed without an answer)
/// @param repliesSuppressed   replies not sent because they would have made the sink send a
///                            session more bytes than it received from it (never happens with
///                            a well-formed [MS-QLPB] peer)
public record SinkStats(long sessionsAccepted, int sessionsActive, long sessionsRefused, long sessionsTimedOut,
                        long probesReceived, long packetPairTrains, long routeCheckSummaries,
                        long probegapsReflected, long malformedMessages, long droppedMessages, long bytesIn,
                        long bytesOut, long discardedBytes, long rateLimitedConnections, long rateLimitedDatagrams,
                        long authFailures, long repliesSuppressed) {
}
