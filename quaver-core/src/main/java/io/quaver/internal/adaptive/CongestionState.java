package io.quaver.internal.adaptive;

/// The congestion state of a path as the [CongestionDetector] reports it, and as
/// `QOSNotifyCongested` / `QOSNotifyUncongested` observe it (qwave.md §5.9, §7.5).
public enum CongestionState {
    /// The path carries its load without a growing or standing queue (the initial state).
    UNCONGESTED,
    /// A queue is building or standing at the bottleneck, or packets are being dropped.
    CONGESTED
}
