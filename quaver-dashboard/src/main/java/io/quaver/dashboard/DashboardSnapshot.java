package io.quaver.dashboard;

import java.util.List;

/// One reading of a [DashboardSource].
///
/// @param title  what the dashboard shows (e.g. "quaver demo"), shown as the page's heading
/// @param status one line on the current situation (e.g. "cross traffic on"), may be empty
/// @param flows  the flows, in display order
public record DashboardSnapshot(String title, String status, List<FlowSample> flows) {
    public DashboardSnapshot {
        title = title == null ? "" : title;
        status = status == null ? "" : status;
        flows = List.copyOf(flows);
    }
}
