package io.quaver.internal.daemon;

import java.util.ArrayList;

/// The send rate of one flow from its client's reports of the IP-level bytes it has sent so
/// far ([ControlProtocol#SENT]). Time is injected (`System.nanoTime()`-style instants).
///
/// The rate is taken over the reports of the last [#WINDOW_NS] (at least two reports apart);
/// a client reports only while it sends, so a flow without a report for [#IDLE_NS] sends
/// nothing (0 bit/s). Thread-safe.
final class SendMeter {
    /// The window the rate is averaged over.
    static final long WINDOW_NS = 1_000_000_000L;
    /// No report for this long: the flow is idle.
    static final long IDLE_NS = 1_500_000_000L;
    /// Reports kept (a client reports a few times a second).
    private static final int MAX_REPORTS = 64;

    private final ArrayList<long[]> reports = new ArrayList<>();

    /// A report: `ipBytes` sent so far, received at `nowNs`. Counts that go backwards are
    /// ignored.
    synchronized void record(long nowNs, long ipBytes) {
        long[] last = reports.isEmpty() ? null : reports.getLast();
        if (ipBytes < 0 || (last != null && (ipBytes < last[1] || nowNs < last[0]))) {
            return;
        }
        reports.addLast(new long[] {nowNs, ipBytes});
        while (reports.size() > MAX_REPORTS
                || (reports.size() > 2 && nowNs - reports.get(1)[0] >= WINDOW_NS)) {
            reports.removeFirst();
        }
    }

    /// The send rate at `nowNs`, bits/s: -1 before two reports, 0 when idle.
    synchronized long rateBps(long nowNs) {
        long[] last = reports.isEmpty() ? null : reports.getLast();
        if (last == null) {
            return -1;
        }
        if (nowNs - last[0] >= IDLE_NS) {
            return 0;
        }
        long[] first = reports.getFirst();
        long dt = last[0] - first[0];
        if (dt <= 0) {
            return -1;
        }
        return (long) ((last[1] - first[1]) * 8e9 / dt);
    }
}
