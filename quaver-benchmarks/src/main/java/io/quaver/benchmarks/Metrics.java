package io.quaver.benchmarks;

import java.util.Arrays;

/// The pure measurements of one run, from receiver arrivals (`timesNs`, IP-level sizes).
///
/// - **rate error**: IP bytes after the first counted arrival over the time to the last one,
///   against the configured rate (arrivals in the first `warmUpNs` are skipped: the initial
///   bucket);
/// - **window conformance**: the share of consecutive 10 ms windows whose bytes stay within
///   `rate · 10 ms + burst + 1 MTU` (goal G11), with one burst for every strategy;
/// - **arrival jitter**: per datagram, |inter-arrival gap − its packet time at the achieved
///   rate|, p50 and p99 (0 for perfectly even spacing; one packet time for back-to-back bursts);
/// - **departure lateness** (user-space pacers only, from the sender): the time the datagram
///   was handed to the kernel minus the time the pacer scheduled it for, p50 and p99.
final class Metrics {
    static final long WINDOW_NS = 10_000_000;
    static final int MTU_BYTES = 1500;

    record Result(int packets, double achievedBps, double rateErrorPct, double windowsWithinPct,
                  double jitterP50Us, double jitterP99Us) {
    }

    /// p50 and p99 of `lateNs[0..n)` in µs, or NaN when there are none.
    static double[] percentilesUs(long[] lateNs, int n, int skip) {
        if (n - skip < 1) {
            return new double[] {Double.NaN, Double.NaN};
        }
        long[] v = Arrays.copyOfRange(lateNs, skip, n);
        Arrays.sort(v);
        return new double[] {v[v.length / 2] / 1e3, v[Math.min(v.length - 1, (int) (v.length * 0.99))] / 1e3};
    }

    private Metrics() {
    }

    static Result of(long[] timesNs, int[] ipBytes, long rateBps, long burstBytes, long warmUpNs) {
        int n = timesNs.length;
        if (n < 3) {
            return new Result(n, 0, -100, 0, 0, 0);
        }
        int first = 0;
        while (first < n - 2 && timesNs[first] - timesNs[0] < warmUpNs) {
            first++;
        }
        long bytes = 0;
        for (int i = first + 1; i < n; i++) {
            bytes += ipBytes[i];
        }
        long spanNs = timesNs[n - 1] - timesNs[first];
        double achieved = spanNs <= 0 ? 0 : bytes * 8e9 / spanNs;
        double errorPct = (achieved / rateBps - 1) * 100;

        // consecutive 10 ms windows from the first counted arrival
        long limit = rateBps * WINDOW_NS / 8_000_000_000L + burstBytes + MTU_BYTES;
        int windows = 0;
        int within = 0;
        long windowStart = timesNs[first];
        long inWindow = 0;
        for (int i = first; i < n; i++) {
            while (timesNs[i] - windowStart >= WINDOW_NS) {
                windows++;
                if (inWindow <= limit) {
                    within++;
                }
                inWindow = 0;
                windowStart += WINDOW_NS;
            }
            inWindow += ipBytes[i];
        }
        double windowsPct = windows == 0 ? 100 : 100.0 * within / windows;

        // inter-arrival jitter against the achieved rate
        int m = n - first - 1;
        double[] dev = new double[Math.max(1, m)];
        for (int i = 0; i < m; i++) {
            int k = first + 1 + i;
            double gap = timesNs[k] - timesNs[k - 1];
            double expected = achieved > 0 ? ipBytes[k - 1] * 8e9 / achieved : 0;
            dev[i] = Math.abs(gap - expected);
        }
        m = Math.max(1, m);
        Arrays.sort(dev, 0, m);
        return new Result(n, achieved, errorPct, windowsPct, dev[m / 2] / 1e3, dev[Math.min(m - 1, (int) (m * 0.99))] / 1e3);
    }
}
