package io.quaver.internal.estimation;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/// Runs a [ProbePlanner] and a [PathEstimator] against a [SyntheticPath] in virtual time:
/// the planner's actions are sent on the path, and the results (train summaries, probegap
/// reflections) are delivered to the estimator when they would arrive.
final class Harness {
    record Sent(long atNs, long bytes, boolean train, boolean stream) {
    }

    private record Event(long atNs, long order, Runnable action) {
    }

    final SyntheticPath path;
    final PathEstimator estimator;
    final ProbePlanner planner;
    final List<Sent> sent = new ArrayList<>();
    final List<TrainAnalysis> analyses = new ArrayList<>();
    /// When each of [#analyses] arrived.
    final List<Long> analysedAtNs = new ArrayList<>();
    final List<SpruceEstimator.Stream> streams = new ArrayList<>();
    private final PriorityQueue<Event> events = new PriorityQueue<>((a, b) -> a.atNs != b.atNs
            ? Long.compare(a.atNs, b.atNs) : Long.compare(a.order, b.order));
    long nowNs;
    boolean active;
    private long sequence = 1;
    private long order;

    /// When the prober reports a lost train (no estimate yet: 250 ms + 2 RTT + 300 ms).
    static final long LOST_AFTER_NS = 600_000_000L;

    Harness(SyntheticPath path) {
        this(path, new PathEstimator(), new ProbePlanner(ProbePlanner.Config.DEFAULT, path.seed() * 31 + 7));
    }

    Harness(SyntheticPath path, PathEstimator estimator, ProbePlanner planner) {
        this.path = path;
        this.estimator = estimator;
        this.planner = planner;
    }

    PathSnapshot snapshot() {
        return estimator.snapshot(nowNs);
    }

    /// Runs until `endNs` of virtual time.
    Harness runUntil(long endNs) {
        int guard = 0;
        while (nowNs < endNs) {
            deliverDue();
            ProbeAction a = planner.nextAction(nowNs, new PlannerState(active, estimator.snapshot(nowNs)));
            switch (a) {
                case ProbeAction.SendTrain t -> {
                    SyntheticPath.Train tr = path.sendTrain(nowNs, t.probeIpBytes(), t.count(), t.gapNs());
                    sent.add(new Sent(nowNs, t.bytes(), true, t.paced()));
                    if (tr.complete() && t.paced()) {
                        schedule(tr.summaryAtNs(), () -> {
                            streams.add(estimator.onStream(tr.summaryAtNs(), tr.sampleWithSendTimes()).orElse(null));
                            planner.onTrainResult(tr.summaryAtNs(), true);
                        });
                    } else if (tr.complete()) {
                        schedule(tr.summaryAtNs(), () -> {
                            analyses.add(estimator.onTrain(tr.summaryAtNs(), tr.sampleWithSendTimes()));
                            analysedAtNs.add(tr.summaryAtNs());
                            planner.onTrainResult(tr.summaryAtNs(), true);
                        });
                    } else {
                        // the prober gives up on a summary after 250 ms + 2 RTT + the drain time
                        long lostAtNs = nowNs + LOST_AFTER_NS;
                        schedule(lostAtNs, () -> planner.onTrainResult(lostAtNs, false));
                    }
                    if (++guard > 10_000) {
                        throw new IllegalStateException("planner loops at " + nowNs);
                    }
                }
                case ProbeAction.SendProbegap p -> {
                    SyntheticPath.Reply r = path.sendProbegap(nowNs, sequence++, p.probeIpBytes());
                    sent.add(new Sent(nowNs, p.probeIpBytes(), false, false));
                    if (r != null) {
                        schedule(r.recvNs(), () -> estimator.onProbegap(r.sequence(), r.sendNs(), r.sinkRecv100ns(),
                                r.sinkSend100ns(), r.recvNs(), r.probeIpBytes()));
                    }
                    if (++guard > 10_000) {
                        throw new IllegalStateException("planner loops at " + nowNs);
                    }
                }
                case ProbeAction.Idle idle -> {
                    guard = 0;
                    long next = Math.min(idle.untilNs(), endNs);
                    Event e = events.peek();
                    if (e != null) {
                        next = Math.min(next, e.atNs);
                    }
                    nowNs = Math.max(nowNs + 1, next);
                }
            }
        }
        deliverDue();
        return this;
    }

    private void deliverDue() {
        while (!events.isEmpty() && events.peek().atNs <= nowNs) {
            events.poll().action.run();
        }
    }

    private void schedule(long atNs, Runnable r) {
        events.add(new Event(atNs, order++, r));
    }

    /// Bytes sent in `[fromNs, toNs)`.
    long bytesBetween(long fromNs, long toNs) {
        long sum = 0;
        for (Sent s : sent) {
            if (s.atNs >= fromNs && s.atNs < toNs) {
                sum += s.bytes;
            }
        }
        return sum;
    }

    long probegapsBetween(long fromNs, long toNs) {
        return sent.stream().filter(s -> !s.train && s.atNs >= fromNs && s.atNs < toNs).count();
    }

    long trainsBetween(long fromNs, long toNs) {
        return sent.stream().filter(s -> s.train && !s.stream && s.atNs >= fromNs && s.atNs < toNs).count();
    }

    long streamsBetween(long fromNs, long toNs) {
        return sent.stream().filter(s -> s.stream && s.atNs >= fromNs && s.atNs < toNs).count();
    }
}
