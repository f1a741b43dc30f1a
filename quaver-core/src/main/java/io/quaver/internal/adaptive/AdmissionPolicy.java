package io.quaver.internal.adaptive;

/// The knobs of [AdmissionControl].
///
/// @param maxReservedShare   the share of the bottleneck bandwidth that the rates admitted to
///                           all flows towards one path may add up to (1.0 = all of it)
/// @param availableShare     the share of the measured available bandwidth (plus the flow's own
///                           current rate) that a request may take (1.0 = all of it)
/// @param defaultMinimumBps  what `QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH` ("I will use very
///                           little") counts as
public record AdmissionPolicy(double maxReservedShare, double availableShare, long defaultMinimumBps) {
    /// Admit up to the bottleneck in reservations and up to the measured headroom; the default
    /// minimum counts as 64 kbit/s (one narrowband voice stream with headers).
    public static final AdmissionPolicy DEFAULT = new AdmissionPolicy(1.0, 1.0, 64_000);

    public AdmissionPolicy {
        if (!(maxReservedShare > 0 && maxReservedShare <= 1) || !(availableShare > 0 && availableShare <= 1)
                || defaultMinimumBps < 0) {
            throw new IllegalArgumentException("shares must be in (0, 1], minimum ≥ 0: " + maxReservedShare + ", "
                    + availableShare + ", " + defaultMinimumBps);
        }
    }
}
