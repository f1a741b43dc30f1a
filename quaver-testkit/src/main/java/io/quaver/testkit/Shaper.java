package io.quaver.testkit;

import java.util.ArrayList;
import java.util.List;

/// A `tc` bottleneck on an egress interface of a [NetnsTestBed].
///
/// Both qdiscs count bytes as the kernel's `qdisc_pkt_len`: the frame from the Ethernet header
/// on, without preamble, FCS or inter-frame gap. On a veth that is, per UDP datagram,
/// `payload + 8 (UDP) + 20 (IPv4) + 14 (Ethernet)` = payload + 42 bytes, or payload + 62 over IPv6.
/// A saturated `rateBps` bottleneck therefore carries `rateBps × payload / (payload + 42)` of UDP
/// payload over IPv4 (19.32 Mbit/s at 20 Mbit/s with 1200-byte payloads).
///
/// - [Tbf]: token bucket filter, `tc qdisc … tbf rate R burst B (limit L | latency T)`;
/// - [Htb]: hierarchical token bucket with a single default class,
///   `tc qdisc … htb default 10` + `tc class … classid 1:10 htb rate R ceil C burst B cburst B`.
public sealed interface Shaper {
    /// One full Ethernet frame, bytes (MTU 1500 + 14-byte header).
    long FRAME_BYTES = 1514;

    /// The (guaranteed) rate, bits per second, counting L2 bytes as above.
    long rateBps();

    /// The same shaper at another rate (for HTB the ceiling follows when it equalled the rate).
    Shaper withRateBps(long rateBps);

    /// Default burst: two full frames or 2 ms at the rate, whichever is larger.
    static long defaultBurstBytes(long rateBps) {
        return Math.max(2 * FRAME_BYTES, rateBps / 8 / 500);
    }

    /// A TBF at `rateBps` with the default burst and a 50 ms latency bound.
    static Tbf tbf(long rateBps) {
        return new Tbf(rateBps, defaultBurstBytes(rateBps), 0, 50_000_000);
    }

    /// An HTB class at `rateBps` (ceiling equal to the rate) with the default burst.
    static Htb htb(long rateBps) {
        return new Htb(rateBps, rateBps, defaultBurstBytes(rateBps));
    }

    /// Token bucket filter. Exactly one of `limitBytes` (queue size) and `latencyNs` (the longest a
    /// packet may wait, from which `tc` derives the limit) is non-zero.
    record Tbf(long rateBps, long burstBytes, long limitBytes, long latencyNs) implements Shaper {
        public Tbf {
            if (rateBps <= 0) {
                throw new IllegalArgumentException("rateBps must be > 0, was " + rateBps);
            }
            if (burstBytes < FRAME_BYTES) {
                throw new IllegalArgumentException("burstBytes must hold a full frame (" + FRAME_BYTES + "), was "
                        + burstBytes);
            }
            if ((limitBytes > 0) == (latencyNs > 0) || limitBytes < 0 || latencyNs < 0) {
                throw new IllegalArgumentException("exactly one of limitBytes and latencyNs must be > 0, were "
                        + limitBytes + ", " + latencyNs);
            }
        }

        @Override
        public Tbf withRateBps(long rateBps) {
            return new Tbf(rateBps, burstBytes, limitBytes, latencyNs);
        }

        public Tbf withBurstBytes(long burstBytes) {
            return new Tbf(rateBps, burstBytes, limitBytes, latencyNs);
        }

        /// The queue bounded in bytes instead of latency.
        public Tbf withLimitBytes(long limitBytes) {
            return new Tbf(rateBps, burstBytes, limitBytes, 0);
        }

        /// The queue bounded in latency instead of bytes.
        public Tbf withLatencyNs(long latencyNs) {
            return new Tbf(rateBps, burstBytes, 0, latencyNs);
        }
    }

    /// HTB with one class that all traffic goes to.
    record Htb(long rateBps, long ceilBps, long burstBytes) implements Shaper {
        public Htb {
            if (rateBps <= 0 || ceilBps < rateBps) {
                throw new IllegalArgumentException("need 0 < rateBps <= ceilBps, were " + rateBps + ", " + ceilBps);
            }
            if (burstBytes < FRAME_BYTES) {
                throw new IllegalArgumentException("burstBytes must hold a full frame (" + FRAME_BYTES + "), was "
                        + burstBytes);
            }
        }

        @Override
        public Htb withRateBps(long rateBps) {
            return new Htb(rateBps, ceilBps == this.rateBps ? rateBps : Math.max(ceilBps, rateBps), burstBytes);
        }

        public Htb withCeilBps(long ceilBps) {
            return new Htb(rateBps, ceilBps, burstBytes);
        }

        public Htb withBurstBytes(long burstBytes) {
            return new Htb(rateBps, ceilBps, burstBytes);
        }
    }

    /// The `tc` commands (without `tc -n NS`) that install `shaper` on `dev`, or change an installed
    /// shaper of the same kind in place.
    static List<List<String>> commands(Shaper shaper, String dev, boolean change) {
        List<List<String>> out = new ArrayList<>();
        switch (shaper) {
            case Tbf t -> {
                List<String> c = new ArrayList<>(List.of("qdisc", change ? "change" : "add", "dev", dev, "root",
                        "handle", "1:", "tbf", "rate", t.rateBps() + "bit", "burst", Long.toString(t.burstBytes())));
                if (t.limitBytes() > 0) {
                    c.addAll(List.of("limit", Long.toString(t.limitBytes())));
                } else {
                    c.addAll(List.of("latency", Math.max(1, t.latencyNs() / 1_000) + "us"));
                }
                out.add(c);
            }
            case Htb h -> {
                if (!change) {
                    out.add(List.of("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10"));
                }
                out.add(List.of("class", change ? "change" : "add", "dev", dev, "parent", "1:", "classid", "1:10",
                        "htb", "rate", h.rateBps() + "bit", "ceil", h.ceilBps() + "bit",
                        "burst", Long.toString(h.burstBytes()), "cburst", Long.toString(h.burstBytes())));
            }
        }
        return out;
    }
}
