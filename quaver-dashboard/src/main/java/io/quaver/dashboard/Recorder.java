package io.quaver.dashboard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/// Samples a [DashboardSource] into bounded per-flow time series and records congestion
/// episodes (from a sample in [CongestionState#CONGESTED] to the first sample that is not).
///
/// Time is injected: [#sample(long)] takes the `System.nanoTime()`-style instant of the
/// reading, so the recorder is tested in virtual time; [Dashboard] calls it on a timer.
/// Each flow keeps its last `capacity` points (a ring buffer) and its last
/// [#MAX_EPISODES] episodes; at most [#MAX_FLOWS] flows are kept, flows that left the source
/// first. Thread-safe.
public final class Recorder {
    /// Episodes kept per flow (the oldest are forgotten).
    public static final int MAX_EPISODES = 64;
    /// Flows kept (flows no longer in the source are forgotten first).
    public static final int MAX_FLOWS = 64;

    /// A congestion episode, in milliseconds since the recorder's origin.
    ///
    /// @param startMs when the flow was first seen congested
    /// @param endMs   when it was first seen not congested, or empty while the episode lasts
    public record Episode(long startMs, OptionalLong endMs) {
        public Episode {
            Objects.requireNonNull(endMs, "endMs");
        }
    }

    /// The series columns, in JSON order.
    private static final String[] COLUMNS = {"tMs", "admittedBps", "actualBps", "bottleneckBps", "availableBps", "rttUs"};

    private static final class Series {
        final long[][] columns;
        int start;
        int size;
        FlowSample last;
        boolean live;
        final Deque<Episode> episodes = new ArrayDeque<>();

        Series(int capacity) {
            columns = new long[COLUMNS.length][capacity];
        }

        void add(long tMs, FlowSample s) {
            int capacity = columns[0].length;
            int at = (start + size) % capacity;
            if (size == capacity) {
                start = (start + 1) % capacity;
            } else {
                size++;
            }
            long[] row = {tMs, s.admittedBps(), s.actualBps(), s.bottleneckBps(), s.availableBps(), s.rttUs()};
            for (int c = 0; c < row.length; c++) {
                columns[c][at] = row[c];
            }
            boolean wasCongested = last != null && last.congestion() == CongestionState.CONGESTED;
            boolean congested = s.congestion() == CongestionState.CONGESTED;
            if (congested && !wasCongested) {
                if (episodes.size() == MAX_EPISODES) {
                    episodes.removeFirst();
                }
                episodes.addLast(new Episode(tMs, OptionalLong.empty()));
            } else if (!congested && wasCongested) {
                end(tMs);
            }
            last = s;
            live = true;
        }

        void end(long tMs) {
            Episode open = episodes.peekLast();
            if (open != null && open.endMs().isEmpty()) {
                episodes.removeLast();
                episodes.addLast(new Episode(open.startMs(), OptionalLong.of(tMs)));
            }
        }

        long at(int column, int i) {
            return columns[column][(start + i) % columns[0].length];
        }
    }

    private final DashboardSource source;
    private final int capacity;
    private final long originNs;
    private final Map<Long, Series> flows = new LinkedHashMap<>();
    private DashboardSnapshot lastSnapshot = new DashboardSnapshot("", "", List.of());
    private long lastMs = 0;
    private long samples;

    /// @param source   what to sample
    /// @param capacity points kept per flow (at least 2)
    /// @param originNs the instant that is time 0 of the series
    public Recorder(DashboardSource source, int capacity, long originNs) {
        this.source = Objects.requireNonNull(source, "source");
        if (capacity < 2) {
            throw new IllegalArgumentException("capacity must be >= 2, was " + capacity);
        }
        this.capacity = capacity;
        this.originNs = originNs;
    }

    /// Reads the source once and records the reading as taken at `nowNs`.
    public void sample(long nowNs) {
        record(nowNs, source.snapshot());
    }

    /// Records `snapshot` as taken at `nowNs`.
    public synchronized void record(long nowNs, DashboardSnapshot snapshot) {
        long tMs = Math.max(lastMs, (nowNs - originNs) / 1_000_000);
        lastMs = tMs;
        samples++;
        lastSnapshot = snapshot;
        for (Series s : flows.values()) {
            s.live = false;
        }
        for (FlowSample f : snapshot.flows()) {
            flows.computeIfAbsent(f.flowId(), id -> new Series(capacity)).add(tMs, f);
        }
        for (Series s : flows.values()) {
            if (!s.live) {
                s.end(tMs); // a flow that left the source is no longer congested
            }
        }
        while (flows.size() > MAX_FLOWS) {
            Long victim = flows.entrySet().stream().filter(e -> !e.getValue().live).map(Map.Entry::getKey)
                    .findFirst().orElse(flows.keySet().iterator().next());
            flows.remove(victim);
        }
    }

    /// Readings recorded so far.
    public synchronized long samples() {
        return samples;
    }

    /// Points currently kept for `flowId` (0 for an unknown flow).
    public synchronized int points(long flowId) {
        Series s = flows.get(flowId);
        return s == null ? 0 : s.size;
    }

    /// The value of `column` (one of `tMs`, `admittedBps`, `actualBps`, `bottleneckBps`,
    /// `availableBps`, `rttUs`) for `flowId`, oldest first.
    public synchronized long[] series(long flowId, String column) {
        int c = List.of(COLUMNS).indexOf(column);
        if (c < 0) {
            throw new IllegalArgumentException("no such series: " + column);
        }
        Series s = flows.get(flowId);
        long[] out = new long[s == null ? 0 : s.size];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.at(c, i);
        }
        return out;
    }

    /// The congestion episodes kept for `flowId`, oldest first.
    public synchronized List<Episode> episodes(long flowId) {
        Series s = flows.get(flowId);
        return s == null ? List.of() : new ArrayList<>(s.episodes);
    }

    /// The whole state as the dashboard's `/api/state` JSON object.
    public synchronized String toJson() {
        JsonOut j = new JsonOut().beginObject();
        j.name("title").value(lastSnapshot.title());
        j.name("status").value(lastSnapshot.status());
        j.name("nowMs").value(lastMs);
        j.name("samples").value(samples);
        j.name("capacity").value(capacity);
        j.name("flows").beginArray();
        for (Map.Entry<Long, Series> e : flows.entrySet()) {
            Series s = e.getValue();
            FlowSample f = s.last;
            j.beginObject();
            j.name("flowId").value(e.getKey());
            j.name("label").value(f.label());
            j.name("live").value(s.live);
            j.name("trafficType").value(f.trafficType().name());
            j.name("dscp").value(f.dscp());
            j.name("ieee8021p").value(f.ieee8021p());
            j.name("congestion").value(f.congestion().name());
            j.name("admittedBps").measured(f.admittedBps());
            j.name("actualBps").measured(f.actualBps());
            j.name("bottleneckBps").measured(f.bottleneckBps());
            j.name("availableBps").measured(f.availableBps());
            j.name("rttUs").measured(f.rttUs());
            j.name("series").beginObject();
            for (int c = 0; c < COLUMNS.length; c++) {
                j.name(COLUMNS[c]).beginArray();
                for (int i = 0; i < s.size; i++) {
                    j.measured(s.at(c, i));
                }
                j.endArray();
            }
            j.endObject();
            j.name("episodes").beginArray();
            for (Episode ep : s.episodes) {
                j.beginObject().name("startMs").value(ep.startMs()).name("endMs").measured(ep.endMs().orElse(-1))
                        .endObject();
            }
            j.endArray();
            j.endObject();
        }
        j.endArray();
        return j.endObject().toString();
    }
}
