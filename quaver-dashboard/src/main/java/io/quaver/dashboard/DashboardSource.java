package io.quaver.dashboard;

/// Supplies what the dashboard shows: the demo, the daemon, or a test's fake. Called from the
/// dashboard's sampler thread; it must be thread-safe and quick (it should read values kept up
/// to date elsewhere rather than measure).
@FunctionalInterface
public interface DashboardSource {
    /// The flows as they are now.
    DashboardSnapshot snapshot();
}
