package io.quaver.internal.adaptive;

/// The three `QOS_NOTIFY_FLOW` operations (qwave.md §5.9).
public enum NotificationType {
    /// `QOSNotifyCongested`: completes when the path is congested.
    CONGESTED,
    /// `QOSNotifyUncongested`: completes when the path is not congested.
    UNCONGESTED,
    /// `QOSNotifyAvailable`: completes when the flow can be raised to a target rate.
    AVAILABLE
}
