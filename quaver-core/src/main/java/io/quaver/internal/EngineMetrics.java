package io.quaver.internal;

import io.quaver.QosMetrics;
import io.quaver.internal.probe.ProbeCounters;

import java.util.concurrent.atomic.LongAdder;

/// The counters of one engine: `LongAdder`s bumped where the events happen (the send path's
/// among them, so contention-free), read into a [QosMetrics] snapshot.
public final class EngineMetrics {
    final LongAdder flowsCreated = new LongAdder();
    final LongAdder flowsRemoved = new LongAdder();
    final LongAdder socketsAdded = new LongAdder();
    final LongAdder estimates = new LongAdder();
    final LongAdder admissionsAccepted = new LongAdder();
    final LongAdder admissionsRefused = new LongAdder();
    final LongAdder sentAtOnce = new LongAdder();
    final LongAdder sentDelayed = new LongAdder();
    final LongAdder sentNonConformant = new LongAdder();
    final LongAdder sendsAborted = new LongAdder();
    final ProbeCounters probes = new ProbeCounters();

    EngineMetrics() {
    }

    QosMetrics snapshot(long flowsActive, long trackedClients, long[] notifications) {
        return new QosMetrics(flowsCreated.sum(), flowsRemoved.sum(), flowsActive, socketsAdded.sum(), trackedClients,
                probes.packets(), probes.bytes(), estimates.sum(), notifications[0], notifications[1],
                notifications[2], notifications[3], admissionsAccepted.sum(), admissionsRefused.sum(),
                sentAtOnce.sum(), sentDelayed.sum(), sentNonConformant.sum(), sendsAborted.sum(), 0, 0);
    }
}
