package io.quaver.internal.estimation;

import java.util.Arrays;
import java.util.List;

/// Error statistics for the accuracy tests.
record Stats(int n, double median, double p95, double max) {
    static Stats ofAbs(List<Double> relErrors) {
        double[] a = relErrors.stream().mapToDouble(Math::abs).sorted().toArray();
        if (a.length == 0) {
            return new Stats(0, Double.NaN, Double.NaN, Double.NaN);
        }
        return new Stats(a.length, quantile(a, 0.5), quantile(a, 0.95), a[a.length - 1]);
    }

    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    static double median(double[] values) {
        double[] a = values.clone();
        Arrays.sort(a);
        return quantile(a, 0.5);
    }

    @Override
    public String toString() {
        return String.format("n=%d median=%.2f%% p95=%.2f%% max=%.2f%%", n, median * 100, p95 * 100, max * 100);
    }
}
