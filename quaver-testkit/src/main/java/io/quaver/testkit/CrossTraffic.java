package io.quaver.testkit;

/// A cross-traffic model for an emulated bottleneck: virtual datagrams that occupy the link (and
/// its queue) but are delivered nowhere, so the bandwidth left for real traffic, the *available
/// bandwidth*, is `rateBps − meanRateBps()`.
///
/// Sizes are bytes on the wire (no further overhead is added). Three shapes:
///
/// - [Cbr]: constant bit rate, evenly spaced datagrams;
/// - [Poisson]: exponentially distributed gaps with the given mean rate (bursty at short time scales);
/// - [OnOff]: CBR at `peakRateBps` during `onNs`, silence during `offNs`, repeating.
///
/// A rate of 0 means no cross traffic ([#none()]).
public sealed interface CrossTraffic {
    /// Default cross-traffic datagram size, bytes on the wire (a full Ethernet payload).
    int DEFAULT_PACKET_SIZE_BYTES = 1500;

    /// The rate parameter: the mean rate for [Cbr] and [Poisson], the rate while on for [OnOff].
    long rateBps();

    /// Size of each virtual datagram, bytes on the wire.
    int packetSizeBytes();

    /// Long-run mean rate in bits per second.
    long meanRateBps();

    /// The same model with another [#rateBps()].
    CrossTraffic withRateBps(long rateBps);

    /// No cross traffic.
    static CrossTraffic none() {
        return new Cbr(0, DEFAULT_PACKET_SIZE_BYTES);
    }

    /// Constant bit rate with [#DEFAULT_PACKET_SIZE_BYTES] datagrams.
    static CrossTraffic cbr(long rateBps) {
        return new Cbr(rateBps, DEFAULT_PACKET_SIZE_BYTES);
    }

    /// Poisson arrivals with [#DEFAULT_PACKET_SIZE_BYTES] datagrams.
    static CrossTraffic poisson(long rateBps) {
        return new Poisson(rateBps, DEFAULT_PACKET_SIZE_BYTES);
    }

    /// On/off CBR with [#DEFAULT_PACKET_SIZE_BYTES] datagrams.
    static CrossTraffic onOff(long peakRateBps, long onNs, long offNs) {
        return new OnOff(peakRateBps, DEFAULT_PACKET_SIZE_BYTES, onNs, offNs);
    }

    private static void check(long rateBps, int packetSizeBytes) {
        if (rateBps < 0) {
            throw new IllegalArgumentException("rateBps must be >= 0, was " + rateBps);
        }
        if (packetSizeBytes < 1 || packetSizeBytes > SerializationSchedule.MAX_WIRE_BYTES) {
            throw new IllegalArgumentException("packetSizeBytes must be 1.." + SerializationSchedule.MAX_WIRE_BYTES
                    + ", was " + packetSizeBytes);
        }
    }

    /// Constant bit rate: one `packetSizeBytes` datagram every `packetSizeBytes × 8 / rateBps` s.
    record Cbr(long rateBps, int packetSizeBytes) implements CrossTraffic {
        public Cbr {
            check(rateBps, packetSizeBytes);
        }

        @Override
        public long meanRateBps() {
            return rateBps;
        }

        @Override
        public Cbr withRateBps(long rateBps) {
            return new Cbr(rateBps, packetSizeBytes);
        }
    }

    /// Poisson process: exponential gaps with mean `packetSizeBytes × 8 / rateBps` s.
    record Poisson(long rateBps, int packetSizeBytes) implements CrossTraffic {
        public Poisson {
            check(rateBps, packetSizeBytes);
        }

        @Override
        public long meanRateBps() {
            return rateBps;
        }

        @Override
        public Poisson withRateBps(long rateBps) {
            return new Poisson(rateBps, packetSizeBytes);
        }
    }

    /// CBR at `rateBps` for `onNs`, then nothing for `offNs`, repeating from the generator's start.
    record OnOff(long rateBps, int packetSizeBytes, long onNs, long offNs) implements CrossTraffic {
        public OnOff {
            check(rateBps, packetSizeBytes);
            if (onNs <= 0 || offNs < 0) {
                throw new IllegalArgumentException("onNs must be > 0 and offNs >= 0, were " + onNs + ", " + offNs);
            }
        }

        @Override
        public long meanRateBps() {
            return Math.round((double) rateBps * onNs / (onNs + offNs));
        }

        @Override
        public OnOff withRateBps(long rateBps) {
            return new OnOff(rateBps, packetSizeBytes, onNs, offNs);
        }
    }
}
