/// Quaver's live dashboard: per flow, the traffic type and marks, the admitted and actual rates,
/// the path's bottleneck and available bandwidth and RTT over time, and congestion episodes on
/// the timeline, served as one self-contained HTML page (no external resources) and a JSON API
/// by the JDK's HTTP server.
///
/// A [io.quaver.dashboard.DashboardSource] supplies snapshots (the demo and the daemon each have
/// one); a [io.quaver.dashboard.Recorder] samples it into bounded time series;
/// [io.quaver.dashboard.Dashboard] serves them.
module io.quaver.dashboard {
    requires transitive io.quaver;
    requires jdk.httpserver;

    exports io.quaver.dashboard;
}
