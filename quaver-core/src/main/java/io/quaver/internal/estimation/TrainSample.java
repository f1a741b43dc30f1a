package io.quaver.internal.estimation;

import java.util.Arrays;
import java.util.Objects;

/// One packet-pair train as the sink received it: probe sizes and receive timestamps in
/// arrival order, plus the initiator's send timestamps when they are known.
///
/// Receive timestamps are on the sink's clock (any epoch; only differences are used). Send
/// timestamps, when present, are on the initiator's clock. The arrays are copied on the way
/// in; the accessors hand out the record's own arrays (no copy per read), which must not be
/// modified.
///
/// @param sizesIpBytes      each probe's size at the IP level (IP + UDP headers + payload)
/// @param recvNs            each probe's receive time at the sink, nanoseconds, arrival order
/// @param sendNs            each probe's send time at the initiator (same order), or `null`
/// @param interfaceSpeedBps the sink's reported interface speed ([MS-QLPB] Packet Pair
///                          Summary `Interface_Speed`), an upper bound on the capacity; 0 =
///                          unknown
public record TrainSample(int[] sizesIpBytes, long[] recvNs, long[] sendNs, long interfaceSpeedBps) {
    /// The [MS-QLPB] timestamp unit: 100 ns.
    public static final long QLPB_TICK_NS = 100;

    public TrainSample {
        Objects.requireNonNull(sizesIpBytes, "sizesIpBytes");
        Objects.requireNonNull(recvNs, "recvNs");
        if (sizesIpBytes.length != recvNs.length) {
            throw new IllegalArgumentException("sizes and receive times differ in length: "
                    + sizesIpBytes.length + " vs " + recvNs.length);
        }
        if (recvNs.length < 2) {
            throw new IllegalArgumentException("a train has at least 2 probes, had " + recvNs.length);
        }
        if (sendNs != null && sendNs.length != recvNs.length) {
            throw new IllegalArgumentException("send and receive times differ in length");
        }
        if (interfaceSpeedBps < 0) {
            throw new IllegalArgumentException("interface speed must be >= 0, was " + interfaceSpeedBps);
        }
        for (int s : sizesIpBytes) {
            if (s <= 0) {
                throw new IllegalArgumentException("probe sizes must be > 0, had " + s);
            }
        }
        sizesIpBytes = sizesIpBytes.clone();
        recvNs = recvNs.clone();
        sendNs = sendNs == null ? null : sendNs.clone();
    }

    /// A train from an [MS-QLPB] Packet Pair Summary: every probe has the same size, and the
    /// sink reports `Train_Size − 1` receive-time deltas (newer − older, arrival order) in
    /// 100 ns units.
    ///
    /// @param probeIpBytes      the size of every probe at the IP level
    /// @param deltas100ns       the summary's receive-time deltas, 100 ns units
    /// @param interfaceSpeedBps the summary's `Interface_Speed`, 0 = unknown
    public static TrainSample ofSummary(int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
        long[] recv = new long[deltas100ns.length + 1];
        for (int i = 0; i < deltas100ns.length; i++) {
            long d = deltas100ns[i];
            if (d < 0) {
                // u64 on the wire: a "negative" delta is a sink clock step; treat it as no gap
                d = 0;
            }
            recv[i + 1] = recv[i] + Math.multiplyExact(d, QLPB_TICK_NS);
        }
        int[] sizes = new int[recv.length];
        Arrays.fill(sizes, probeIpBytes);
        return new TrainSample(sizes, recv, null, interfaceSpeedBps);
    }

    /// A train of equal-size probes with receive timestamps only.
    public static TrainSample of(int probeIpBytes, long[] recvNs, long interfaceSpeedBps) {
        int[] sizes = new int[recvNs.length];
        Arrays.fill(sizes, probeIpBytes);
        return new TrainSample(sizes, recvNs, null, interfaceSpeedBps);
    }

    /// Number of probes.
    public int count() {
        return recvNs.length;
    }

    /// Sum of the probe sizes.
    public long totalBytes() {
        long sum = 0;
        for (int s : sizesIpBytes) {
            sum += s;
        }
        return sum;
    }

    /// Receive span: last minus first receive time (0 if time went backwards).
    public long recvSpanNs() {
        return Math.max(0, recvNs[recvNs.length - 1] - recvNs[0]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainSample t && Arrays.equals(sizesIpBytes, t.sizesIpBytes)
                && Arrays.equals(recvNs, t.recvNs) && Arrays.equals(sendNs, t.sendNs)
                && interfaceSpeedBps == t.interfaceSpeedBps;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(sizesIpBytes), Arrays.hashCode(recvNs), Arrays.hashCode(sendNs),
                interfaceSpeedBps);
    }

    @Override
    public String toString() {
        return "TrainSample[probes=" + count() + ", bytes=" + totalBytes() + ", spanNs=" + recvSpanNs()
                + ", sendTimes=" + (sendNs != null) + ", interfaceSpeedBps=" + interfaceSpeedBps + "]";
    }
}
