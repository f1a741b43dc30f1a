package io.quaver.internal.shaping;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/// The pure numbers of rate enforcement: what a packet costs at the IP level, how deep the
/// bucket is, and when a waiting sender may spin (performance-anchors.md §3.2 and §5).
public final class PacingPolicy {
    /// IPv4 (20) + UDP (8) header bytes per datagram.
    public static final int UDP_IPV4_HEADER_BYTES = 28;
    /// IPv6 (40) + UDP (8) header bytes per datagram.
    public static final int UDP_IPV6_HEADER_BYTES = 48;
    /// IPv4 (20) + TCP (20) header bytes per segment (no options, as `QOS_HEADER_OVERHEAD`).
    public static final int TCP_IPV4_HEADER_BYTES = 40;
    /// IPv6 (40) + TCP (20) header bytes per segment.
    public static final int TCP_IPV6_HEADER_BYTES = 60;
    /// Bytes counted per packet for the "1 MTU" of conformance checks.
    public static final int MTU_BYTES = 1500;
    /// Smallest bucket depth: two full-size packets, so that a sender a little late (a park that
    /// oversleeps by ~80 µs) loses no credit at low rates.
    public static final long MIN_BURST_BYTES = 2 * MTU_BYTES;
    /// The bucket holds this much time at the rate: enough to absorb a late wake-up without
    /// losing credit, small enough to keep 10 ms windows conformant.
    public static final long BURST_TIME_NS = 5_000_000;
    /// A waiting sender parks until this long before its deadline, then spins (hybrid wait).
    public static final long SPIN_WINDOW_NS = 100_000;
    /// Packets closer together than this are not spun for: the waiter parks for the whole wait
    /// and then sends everything that became due (batching). Spinning ~25–100 µs per packet
    /// costs a core's worth above ~2 k packets/s on a 2-core VM (goal G12: ≤ 25 % of a core up
    /// to 20 k packets/s), while a park alone is late by ~80 µs, within G12's 200 µs there.
    public static final long MIN_SPIN_GAP_NS = 500_000;
    /// The rate allotted for `QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH` ("I will use very
    /// little"): 1 Mbit/s at the IP level.
    public static final long DEFAULT_MINIMUM_RATE_BPS = 1_000_000;
    /// The special bandwidth value `QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH`.
    public static final long DEFAULT_MINIMUM_BANDWIDTH_VALUE = 0xFFFF_FFFFL;

    private PacingPolicy() {
    }

    /// The rate actually enforced for a contract's bandwidth (the default-minimum value maps
    /// to [#DEFAULT_MINIMUM_RATE_BPS]).
    public static long effectiveRateBps(long bandwidthBps) {
        return bandwidthBps == DEFAULT_MINIMUM_BANDWIDTH_VALUE ? DEFAULT_MINIMUM_RATE_BPS : bandwidthBps;
    }

    /// The bucket depth for a rate: `max(3,000 B, rate · 5 ms)` — 5 ms covers a preempted sender on a
    /// busy host (one 4 ms scheduler tick at `HZ=250`) without losing credit.
    public static long burstBytes(long rateBps) {
        long timeBased = Math.multiplyHigh(rateBps, BURST_TIME_NS) == 0 && rateBps * BURST_TIME_NS >= 0
                ? rateBps * BURST_TIME_NS / 8_000_000_000L
                : rateBps / 8_000_000_000L * BURST_TIME_NS;
        return Math.max(MIN_BURST_BYTES, timeBased);
    }

    /// UDP/IP header bytes of a datagram to `destination` (an IPv4-mapped IPv6 address is
    /// IPv4 on the wire).
    public static int udpHeaderBytes(InetAddress destination) {
        return isIpv4OnWire(destination) ? UDP_IPV4_HEADER_BYTES : UDP_IPV6_HEADER_BYTES;
    }

    /// TCP/IP header bytes per segment to `destination`.
    public static int tcpHeaderBytes(InetAddress destination) {
        return isIpv4OnWire(destination) ? TCP_IPV4_HEADER_BYTES : TCP_IPV6_HEADER_BYTES;
    }

    /// Whether packets to `address` are IPv4 on the wire.
    public static boolean isIpv4OnWire(InetAddress address) {
        if (address instanceof Inet4Address) {
            return true;
        }
        if (address instanceof Inet6Address a6) {
            byte[] b = a6.getAddress();
            for (int i = 0; i < 10; i++) {
                if (b[i] != 0) {
                    return false;
                }
            }
            return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
        }
        return true;
    }

    /// IP-level bytes of `payloadBytes` sent over TCP in segments of at most `mssBytes`.
    public static long tcpWireBytes(long payloadBytes, int mssBytes, int headerBytes) {
        long segments = Math.max(1, (payloadBytes + mssBytes - 1) / mssBytes);
        return payloadBytes + segments * headerBytes;
    }

    /// The time one packet of `ipBytes` takes at `rateBps`, in ns (rounded down).
    public static long packetTimeNs(long rateBps, long ipBytes) {
        return ipBytes * 8_000_000_000L / rateBps;
    }

    /// Whether a sender of `ipBytes`-sized packets at `rateBps` should spin for the last
    /// [#SPIN_WINDOW_NS] of a wait (packet gap ≥ [#MIN_SPIN_GAP_NS]) or only park and batch.
    public static boolean spinAllowed(long rateBps, long ipBytes) {
        return packetTimeNs(rateBps, ipBytes) >= MIN_SPIN_GAP_NS;
    }

    /// How long to park before a deadline `remainingNs` away: all of it when not spinning,
    /// otherwise all but the spin window (0 = spin now).
    public static long parkNs(long remainingNs, boolean spin) {
        return parkNs(remainingNs, spin ? SPIN_WINDOW_NS : 0);
    }

    /// How long to park before a deadline `remainingNs` away, keeping `spinWindowNs` to spin.
    public static long parkNs(long remainingNs, long spinWindowNs) {
        if (remainingNs <= 0) {
            return 0;
        }
        return Math.max(0, remainingNs - spinWindowNs);
    }

    /// Upper bound of the spin window, whatever the host's wake-up latency.
    public static final long MAX_SPIN_WINDOW_NS = 2_000_000;

    /// The share of the packet gap a waiter may spin in any case, as a divisor: 1/20 of the
    /// gap is 5 % of a core, which leaves room for the sends themselves within goal G12's 10 %
    /// at ≤ 1 k packets/s.
    public static final long SPIN_BUDGET_DIVISOR = 20;

    /// The spin window for a sender whose packets are `gapNs` apart, on a host whose parks
    /// wake up to about `overshootNs` late (a high-percentile estimate, [OvershootTracker]):
    /// enough to cover the overshoot (×1.25 + 20 µs), at least [#SPIN_WINDOW_NS], and at low
    /// rates the whole CPU budget of a twentieth of the gap ([#SPIN_BUDGET_DIVISOR]: the rare
    /// late wake-ups of a shared host, far above the tracked estimate, are what makes the
    /// p99), but never more than a tenth of the gap (≤ 10 % of a core spent spinning) nor
    /// [#MAX_SPIN_WINDOW_NS]; 0 when the gap is below [#MIN_SPIN_GAP_NS] (no spinning).
    public static long spinWindowNs(long gapNs, long overshootNs) {
        if (gapNs < MIN_SPIN_GAP_NS) {
            return 0;
        }
        long wanted = Math.max(Math.max(SPIN_WINDOW_NS, overshootNs + overshootNs / 4 + 20_000),
                gapNs / SPIN_BUDGET_DIVISOR);
        return Math.min(Math.min(wanted, gapNs / 10), MAX_SPIN_WINDOW_NS);
    }

    /// A high-percentile tracker of how late `LockSupport.parkNanos` wakes up on this host
    /// (timer slack, idle-state exit, run-queue wait): it rises a quarter of the way towards
    /// a larger sample and decays 1/32 towards a smaller one, so it sits near the upper tail.
    /// Shared by every waiter of the JVM; races only lose a sample.
    public static final class OvershootTracker {
        private static final long MAX_SAMPLE_NS = 5_000_000;
        private long estimateNs;

        public OvershootTracker(long initialNs) {
            this.estimateNs = initialNs;
        }

        /// Records one park's lateness (actual − requested sleep, ns).
        public void record(long overshootNs) {
            long sample = Math.clamp(overshootNs, 0, MAX_SAMPLE_NS);
            long e = estimateNs;
            estimateNs = sample > e ? e + (sample - e) / 4 : e - (e - sample) / 32;
        }

        public long estimateNs() {
            return estimateNs;
        }
    }

    /// The JVM's tracker, starting at the ~80 µs measured on a 2-core VM (performance-anchors
    /// §5).
    public static final OvershootTracker PARK_OVERSHOOT = new OvershootTracker(80_000);

    /// Parks for `parkNs` and records how late the wake-up was.
    public static void parkAndLearn(Object blocker, long parkNs) {
        long before = System.nanoTime();
        java.util.concurrent.locks.LockSupport.parkNanos(blocker, parkNs);
        long slept = System.nanoTime() - before;
        if (slept >= parkNs) { // an early return (unpark, interrupt) says nothing about lateness
            PARK_OVERSHOOT.record(slept - parkNs);
        }
    }
}
