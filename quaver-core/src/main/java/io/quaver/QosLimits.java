package io.quaver;

/// Explicit resource limits (decisions.md item 24); reaching one fails with
/// [QosError#NO_SYSTEM_RESOURCES].
///
/// @param maxFlows                 live flows in the subsystem
/// @param maxSocketsPerFlow        socket/destination registrations in one flow
/// @param maxTrackedClients        clients tracked at once
/// @param maxPendingNotifications  notification requests pending at once on the flows of one
///                                 handle (each flow holds at most one per type)
/// @param maxSinkSessions          concurrent sessions of a sink
public record QosLimits(int maxFlows, int maxSocketsPerFlow, int maxTrackedClients,
                        int maxPendingNotifications, int maxSinkSessions) {
    /// Generous defaults for one host.
    public static final QosLimits DEFAULT = new QosLimits(65_536, 1_024, 1_024, 16_384, 64);

    public QosLimits {
        if (maxFlows < 1 || maxSocketsPerFlow < 1 || maxTrackedClients < 1 || maxPendingNotifications < 1
                || maxSinkSessions < 1) {
            throw new QosException(QosError.INVALID_PARAMETER, "every limit must be at least 1: " + this);
        }
    }
}
