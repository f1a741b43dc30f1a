package io.quaver.dashboard;

/// Whether a flow's path is congested, as its source knows it.
public enum CongestionState {
    /// Not known (no notification requested or answered yet).
    UNKNOWN,
    /// Not congested.
    UNCONGESTED,
    /// Congested: the [Recorder] counts the time in this state as a congestion episode.
    CONGESTED
}
