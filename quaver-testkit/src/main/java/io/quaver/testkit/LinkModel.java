package io.quaver.testkit;

import java.util.SplittableRandom;

/// The complete fate of datagrams on one direction of an emulated link, in virtual time: random
/// loss, then the bottleneck ([SerializationSchedule], shared with [CrossTraffic]), then the fixed
/// delay and jitter. No clock, no threads: [#offer] is given the arrival time and answers when (and
/// whether) the datagram is delivered, so it can be tested with exact numbers and reused by tests
/// that want a reproducible link without sockets.
///
/// For each datagram, in order:
///
/// 1. cross traffic is generated up to the arrival time and put into the bottleneck;
/// 2. one loss draw and one jitter draw are taken (always both, so the i-th datagram of a run gets
///    the same draws whatever the parameters);
/// 3. lost datagrams stop here ([Outcome#LOST]; like netem, loss happens before the queue);
/// 4. the bottleneck gives a departure time or tail-drops ([Outcome#QUEUE_DROP]);
/// 5. `deliveryNs = departureNs + max(0, delayNs + jitter)`, and without reordering never earlier
///    than the previous delivery.
///
/// Runtime changes (`set…`) take effect for datagrams offered afterwards. All methods are
/// synchronized, so one thread may offer while others change parameters or read counters.
public final class LinkModel {
    /// What happens to a datagram.
    public enum Outcome {
        /// Delivered at [Verdict#deliveryNs()].
        DELIVER,
        /// Refused by tail drop at the bottleneck.
        QUEUE_DROP,
        /// Removed by random loss.
        LOST
    }

    /// The fate of one datagram. For [Outcome#LOST] both times are the arrival time; for
    /// [Outcome#QUEUE_DROP] likewise.
    public record Verdict(Outcome outcome, long departureNs, long deliveryNs) {
        public boolean delivered() {
            return outcome == Outcome.DELIVER;
        }
    }

    /// Counters of the model (payload bytes for real datagrams, wire bytes for cross traffic).
    public record Counters(
            long packetsIn,
            long payloadBytesIn,
            long packetsDroppedByQueue,
            long packetsLost,
            long crossTrafficPackets,
            long crossTrafficWireBytes,
            long crossTrafficPacketsDropped,
            long backlogWireBytes) {
    }

    /// Cross traffic is replayed exactly over at most this span before an arrival; anything older
    /// (a long idle period) is skipped and counted at its mean rate.
    static final long CROSS_REPLAY_HORIZON_NS = 1_000_000_000L;

    private LinkConfig config;
    private final int overheadBytes;
    private final SerializationSchedule schedule;
    private final CrossTrafficGenerator cross;
    private final SplittableRandom lossRandom;
    private final SplittableRandom jitterRandom;

    private boolean anyDelivered;
    private long lastDeliveryNs;
    private long latestNs;

    private long packetsIn;
    private long payloadBytesIn;
    private long packetsDroppedByQueue;
    private long packetsLost;
    private long crossPackets;
    private long crossWireBytes;
    private long crossDropped;

    /// A model for `config`, with time starting at `startNs` (the origin of cross-traffic periods)
    /// and [LinkConfig#overheadBytesFor] resolved for the given family.
    public LinkModel(LinkConfig config, long startNs, boolean ipv6) {
        this.config = config;
        this.overheadBytes = config.overheadBytesFor(ipv6);
        this.schedule = new SerializationSchedule(config.rateBps(), config.queueLimitBytes());
        this.cross = new CrossTrafficGenerator(config.crossTraffic(), startNs, config.seed() ^ 0x9E37_79B9_7F4A_7C15L);
        this.lossRandom = new SplittableRandom(config.seed());
        this.jitterRandom = new SplittableRandom(config.seed() * 0xBF58_476D_1CE4_E5B9L + 1);
        this.latestNs = startNs;
    }

    /// An IPv4 model starting at time 0.
    public LinkModel(LinkConfig config) {
        this(config, 0, false);
    }

    /// Decides the fate of a datagram with `payloadBytes` arriving at `arrivalNs`.
    public synchronized Verdict offer(long arrivalNs, int payloadBytes) {
        long t = now(arrivalNs);
        advanceCross(t);
        packetsIn++;
        payloadBytesIn += payloadBytes;
        boolean lost = lossRandom.nextDouble() < config.lossRatio();
        long jitter = jitterRandom.nextLong(-config.jitterNs(), config.jitterNs() + 1);
        if (lost) {
            packetsLost++;
            return new Verdict(Outcome.LOST, t, t);
        }
        long departureNs = schedule.offer(t, payloadBytes + overheadBytes);
        if (departureNs == SerializationSchedule.DROPPED) {
            packetsDroppedByQueue++;
            return new Verdict(Outcome.QUEUE_DROP, t, t);
        }
        long deliveryNs = departureNs + Math.max(0, config.delayNs() + jitter);
        if (!config.reordering() && anyDelivered && deliveryNs < lastDeliveryNs) {
            deliveryNs = lastDeliveryNs;
        }
        if (!anyDelivered || deliveryNs > lastDeliveryNs) {
            lastDeliveryNs = deliveryNs;
        }
        anyDelivered = true;
        return new Verdict(Outcome.DELIVER, departureNs, deliveryNs);
    }

    private long now(long ns) {
        if (ns > latestNs) {
            latestNs = ns;
        }
        return latestNs;
    }

    private void advanceCross(long t) {
        long next = cross.nextArrivalNs();
        if (next != Long.MAX_VALUE && t - next > CROSS_REPLAY_HORIZON_NS) {
            long skipped = cross.skipTo(t - CROSS_REPLAY_HORIZON_NS);
            crossPackets += skipped;
            crossWireBytes += skipped * cross.nextSizeBytes();
        }
        while (cross.nextArrivalNs() <= t) {
            int size = cross.nextSizeBytes();
            if (schedule.offerCross(cross.nextArrivalNs(), size) == SerializationSchedule.DROPPED) {
                crossDropped++;
            } else {
                crossPackets++;
                crossWireBytes += size;
            }
            cross.advance();
        }
    }

    /// The counters, with cross traffic generated up to `nowNs`.
    public synchronized Counters counters(long nowNs) {
        long t = now(nowNs);
        advanceCross(t);
        return new Counters(packetsIn, payloadBytesIn, packetsDroppedByQueue, packetsLost, crossPackets,
                crossWireBytes, crossDropped, schedule.backlogBytes(t));
    }

    /// The current parameters.
    public synchronized LinkConfig config() {
        return config;
    }

    /// Per-datagram overhead in use, bytes.
    public int overheadBytes() {
        return overheadBytes;
    }

    public synchronized void setRateBps(long nowNs, long rateBps) {
        advanceCross(now(nowNs));
        config = config.withRateBps(rateBps);
        schedule.setRateBps(rateBps);
    }

    public synchronized void setQueueLimitBytes(long queueLimitBytes) {
        config = config.withQueueLimitBytes(queueLimitBytes);
        schedule.setQueueLimitBytes(queueLimitBytes);
    }

    public synchronized void setDelayNs(long delayNs) {
        config = config.withDelayNs(delayNs);
    }

    public synchronized void setJitterNs(long jitterNs) {
        config = config.withJitterNs(jitterNs);
    }

    public synchronized void setReordering(boolean reordering) {
        config = config.withReordering(reordering);
    }

    public synchronized void setLossRatio(double lossRatio) {
        config = config.withLossRatio(lossRatio);
    }

    /// Replaces the cross-traffic model at `nowNs` (traffic up to `nowNs` follows the old one).
    public synchronized void setCrossTraffic(long nowNs, CrossTraffic crossTraffic) {
        long t = now(nowNs);
        advanceCross(t);
        config = config.withCrossTraffic(crossTraffic);
        cross.reconfigure(t, crossTraffic);
    }

    /// Changes the rate of the current cross-traffic model at `nowNs`.
    public synchronized void setCrossTrafficBps(long nowNs, long rateBps) {
        setCrossTraffic(nowNs, config.crossTraffic().withRateBps(rateBps));
    }
}
