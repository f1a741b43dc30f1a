package io.quaver;

/// Whether a flow adapts to the path (qwave.md §5.5).
public enum FlowMode {
    /// The application uses estimates and notifications; one socket per flow; marks once an
    /// outgoing rate is admitted.
    ADAPTIVE,
    /// Marking and shaping only (`QOS_NON_ADAPTIVE_FLOW`); marks as soon as the flow exists;
    /// may hold several sockets and destinations.
    NON_ADAPTIVE
}
