package io.quaver.testkit;

/// The parameters of one direction of an emulated link. Immutable; change with the `with…` methods.
///
/// @param rateBps          bottleneck rate in bits per second, counting [#overheadBytes()] per
///                         datagram; [#UNLIMITED_RATE] for no bottleneck
/// @param queueLimitBytes  bottleneck buffer, bytes on the wire (tail drop above it)
/// @param delayNs          fixed one-way delay added after the bottleneck
/// @param jitterNs         bound of the random delay variation: each datagram gets an extra delay
///                         uniform in `[-jitterNs, +jitterNs]` (total delay never below 0)
/// @param reordering       whether jitter may reorder datagrams; if `false` a datagram is never
///                         delivered before the one in front of it
/// @param lossRatio        probability, 0..1, that a datagram is lost before the bottleneck
/// @param overheadBytes    bytes added to each datagram's payload to get its size on the wire; 28
///                         for IPv4+UDP, 48 for IPv6+UDP, or [#AUTO_OVERHEAD] to pick from the
///                         address family of the traffic
/// @param crossTraffic     virtual traffic sharing the bottleneck
/// @param seed             seed of the loss, jitter and cross-traffic random streams
public record LinkConfig(
        long rateBps,
        long queueLimitBytes,
        long delayNs,
        long jitterNs,
        boolean reordering,
        double lossRatio,
        int overheadBytes,
        CrossTraffic crossTraffic,
        long seed) {

    /// [#rateBps()] meaning no bottleneck.
    public static final long UNLIMITED_RATE = SerializationSchedule.UNLIMITED_RATE;
    /// [#queueLimitBytes()] meaning no tail drop.
    public static final long UNLIMITED_QUEUE = SerializationSchedule.UNLIMITED_QUEUE;
    /// [#overheadBytes()] meaning "IPv4+UDP (28) or IPv6+UDP (48), by the family of the traffic".
    public static final int AUTO_OVERHEAD = -1;
    /// IPv4 header (20) + UDP header (8).
    public static final int IPV4_UDP_OVERHEAD_BYTES = 28;
    /// IPv6 header (40) + UDP header (8).
    public static final int IPV6_UDP_OVERHEAD_BYTES = 48;
    /// Default queue limit: 128 KiB (about 100 ms at 10 Mbit/s, 10 ms at 100 Mbit/s).
    public static final long DEFAULT_QUEUE_LIMIT_BYTES = 128 * 1024;
    /// Default seed.
    public static final long DEFAULT_SEED = 0x5156_0001L;

    public LinkConfig {
        if (rateBps < 0) {
            throw new IllegalArgumentException("rateBps must be >= 0 (0 = unlimited), was " + rateBps);
        }
        if (queueLimitBytes < 0) {
            throw new IllegalArgumentException("queueLimitBytes must be >= 0, was " + queueLimitBytes);
        }
        if (delayNs < 0 || jitterNs < 0) {
            throw new IllegalArgumentException("delayNs and jitterNs must be >= 0, were " + delayNs + ", " + jitterNs);
        }
        if (!(lossRatio >= 0 && lossRatio <= 1)) {
            throw new IllegalArgumentException("lossRatio must be in 0..1, was " + lossRatio);
        }
        if (overheadBytes < AUTO_OVERHEAD || overheadBytes > 65_535) {
            throw new IllegalArgumentException("overheadBytes must be 0..65535 or AUTO_OVERHEAD, was " + overheadBytes);
        }
        if (crossTraffic == null) {
            throw new IllegalArgumentException("crossTraffic must not be null (use CrossTraffic.none())");
        }
    }

    /// A transparent direction: no bottleneck, no delay, no loss, no cross traffic.
    public static LinkConfig unshaped() {
        return new LinkConfig(UNLIMITED_RATE, DEFAULT_QUEUE_LIMIT_BYTES, 0, 0, false, 0.0, AUTO_OVERHEAD,
                CrossTraffic.none(), DEFAULT_SEED);
    }

    /// A bottleneck of `rateBps` with the default queue and nothing else.
    public static LinkConfig ofRateBps(long rateBps) {
        return unshaped().withRateBps(rateBps);
    }

    public LinkConfig withRateBps(long v) {
        return new LinkConfig(v, queueLimitBytes, delayNs, jitterNs, reordering, lossRatio, overheadBytes, crossTraffic, seed);
    }

    public LinkConfig withQueueLimitBytes(long v) {
        return new LinkConfig(rateBps, v, delayNs, jitterNs, reordering, lossRatio, overheadBytes, crossTraffic, seed);
    }

    public LinkConfig withDelayNs(long v) {
        return new LinkConfig(rateBps, queueLimitBytes, v, jitterNs, reordering, lossRatio, overheadBytes, crossTraffic, seed);
    }

    public LinkConfig withJitterNs(long v) {
        return new LinkConfig(rateBps, queueLimitBytes, delayNs, v, reordering, lossRatio, overheadBytes, crossTraffic, seed);
    }

    public LinkConfig withReordering(boolean v) {
        return new LinkConfig(rateBps, queueLimitBytes, delayNs, jitterNs, v, lossRatio, overheadBytes, crossTraffic, seed);
    }

    public LinkConfig withLossRatio(double v) {
        return new LinkConfig(rateBps, queueLimitBytes, delayNs, jitterNs, reordering, v, overheadBytes, crossTraffic, seed);
    }

    public LinkConfig withOverheadBytes(int v) {
        return new LinkConfig(rateBps, queueLimitBytes, delayNs, jitterNs, reordering, lossRatio, v, crossTraffic, seed);
    }

    public LinkConfig withCrossTraffic(CrossTraffic v) {
        return new LinkConfig(rateBps, queueLimitBytes, delayNs, jitterNs, reordering, lossRatio, overheadBytes, v, seed);
    }

    public LinkConfig withSeed(long v) {
        return new LinkConfig(rateBps, queueLimitBytes, delayNs, jitterNs, reordering, lossRatio, overheadBytes, crossTraffic, v);
    }

    /// Overhead to use for traffic of the given family ([#AUTO_OVERHEAD] resolved).
    public int overheadBytesFor(boolean ipv6) {
        if (overheadBytes != AUTO_OVERHEAD) {
            return overheadBytes;
        }
        return ipv6 ? IPV6_UDP_OVERHEAD_BYTES : IPV4_UDP_OVERHEAD_BYTES;
    }
}
