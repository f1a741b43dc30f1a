package io.quaver;

import java.util.List;
import java.util.function.ToLongFunction;

/// A snapshot of the engine's counters and gauges ([QosSubsystem#metrics()]): the embedded
/// engine of this JVM, or the daemon's engine when the handle uses the daemon. Counters only
/// grow while the engine lives; gauges (`flowsActive`, `trackedClients`) are current values.
///
/// @param flowsCreated                  flows added
/// @param flowsRemoved                  flows removed (by the application, their last socket,
///                                      or their handle closing)
/// @param flowsActive                   live flows now
/// @param socketsAdded                  (socket, destination) registrations added to flows
/// @param trackedClients                clients tracked now
/// @param probePacketsSent              probe datagrams sent by the prober
/// @param probeBytesSent                bytes of those datagrams at the IP level
/// @param estimatesProduced             path estimates produced for adaptive flows' paths
/// @param notificationsCongested        Congested notifications completed
/// @param notificationsUncongested      Uncongested notifications completed
/// @param notificationsAvailable        Available notifications completed
/// @param notificationsCancelled        notifications cancelled or aborted (995)
/// @param admissionsAccepted            rate contracts admitted
/// @param admissionsRefused             rate contracts refused
/// @param datagramsSentAtOnce           shaped datagrams that conformed and left at once
/// @param datagramsDelayed              shaped datagrams delayed to the rate
/// @param datagramsNonConformant        datagrams sent with the non-conformant marks
/// @param sendsAborted                  queued or waiting sends aborted by a flow's removal
/// @param sinkMessagesDropped           messages the daemon's sink dropped (0 when embedded)
/// @param sinkMessagesMalformed         malformed messages the daemon's sink received (0 when
///                                      embedded)
public record QosMetrics(long flowsCreated, long flowsRemoved, long flowsActive, long socketsAdded,
                         long trackedClients, long probePacketsSent, long probeBytesSent, long estimatesProduced,
                         long notificationsCongested, long notificationsUncongested, long notificationsAvailable,
                         long notificationsCancelled, long admissionsAccepted, long admissionsRefused,
                         long datagramsSentAtOnce, long datagramsDelayed, long datagramsNonConformant,
                         long sendsAborted, long sinkMessagesDropped, long sinkMessagesMalformed) {

    /// How a value is exposed by a metrics system.
    ///
    /// @param name        dotted name, e.g. `quaver.probe.bytes`
    /// @param description one line
    /// @param baseUnit    `flows`, `bytes`, `packets`, ...
    /// @param counter     `true` for a monotonic counter, `false` for a gauge
    /// @param tags        dimension of a family of values (e.g. `type=congested`), empty if none
    /// @param value       reads the value from a snapshot
    public record Meter(String name, String description, String baseUnit, boolean counter, List<String> tags,
                        ToLongFunction<QosMetrics> value) {
    }

    private static final List<Meter> METERS = List.of(
            counter("quaver.flows.created", "flows added", "flows", QosMetrics::flowsCreated),
            counter("quaver.flows.removed", "flows removed", "flows", QosMetrics::flowsRemoved),
            new Meter("quaver.flows.active", "live flows", "flows", false, List.of(), QosMetrics::flowsActive),
            counter("quaver.sockets.added", "socket registrations added to flows", "sockets",
                    QosMetrics::socketsAdded),
            new Meter("quaver.clients.tracked", "clients tracked", "clients", false, List.of(),
                    QosMetrics::trackedClients),
            counter("quaver.probe.packets", "probe datagrams sent", "packets", QosMetrics::probePacketsSent),
            counter("quaver.probe.bytes", "probe bytes sent (IP level)", "bytes", QosMetrics::probeBytesSent),
            counter("quaver.estimates", "path estimates produced", "estimates", QosMetrics::estimatesProduced),
            tagged("quaver.notifications", "notifications completed or cancelled", "notifications", "type=congested",
                    QosMetrics::notificationsCongested),
            tagged("quaver.notifications", "notifications completed or cancelled", "notifications",
                    "type=uncongested", QosMetrics::notificationsUncongested),
            tagged("quaver.notifications", "notifications completed or cancelled", "notifications", "type=available",
                    QosMetrics::notificationsAvailable),
            tagged("quaver.notifications", "notifications completed or cancelled", "notifications", "type=cancelled",
                    QosMetrics::notificationsCancelled),
            tagged("quaver.admissions", "rate contracts decided", "contracts", "result=accepted",
                    QosMetrics::admissionsAccepted),
            tagged("quaver.admissions", "rate contracts decided", "contracts", "result=refused",
                    QosMetrics::admissionsRefused),
            tagged("quaver.shaping.datagrams", "shaping decisions", "datagrams", "decision=at_once",
                    QosMetrics::datagramsSentAtOnce),
            tagged("quaver.shaping.datagrams", "shaping decisions", "datagrams", "decision=delayed",
                    QosMetrics::datagramsDelayed),
            tagged("quaver.shaping.datagrams", "shaping decisions", "datagrams", "decision=non_conformant",
                    QosMetrics::datagramsNonConformant),
            counter("quaver.sends.aborted", "sends aborted by a flow's removal", "sends", QosMetrics::sendsAborted),
            tagged("quaver.sink.messages", "messages the sink did not serve", "messages", "reason=dropped",
                    QosMetrics::sinkMessagesDropped),
            tagged("quaver.sink.messages", "messages the sink did not serve", "messages", "reason=malformed",
                    QosMetrics::sinkMessagesMalformed));

    /// Every value of a snapshot with the name, unit and kind a metrics system exposes it
    /// under (the Micrometer binder and the daemon's Prometheus endpoint use this table).
    public static List<Meter> meters() {
        return METERS;
    }

    private static Meter counter(String name, String description, String unit, ToLongFunction<QosMetrics> value) {
        return new Meter(name, description, unit, true, List.of(), value);
    }

    private static Meter tagged(String name, String description, String unit, String tag,
                                ToLongFunction<QosMetrics> value) {
        return new Meter(name, description, unit, true, List.of(tag), value);
    }
}
