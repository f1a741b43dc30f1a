package io.quaver.internal.adaptive;

import java.util.OptionalLong;

/// Admission control for adaptive flows (qwave.md §5.7, §8.7; the exact qWAVE algorithm is
/// undocumented). Pure and stateless: the engine supplies the path's estimates and the rates
/// already admitted towards the same path, and applies the verdict (`Engine.setRateContract`
/// with `admitted` = [AdmissionDecision#admitted()]).
///
/// A measurement-based admission control (MBAC, as in Jamin, Danzig, Shenker, Zhang, "A
/// Measurement-based Admission Control Algorithm for Integrated Services Packet Networks",
/// SIGCOMM 1995) with a parameter-based cap, in this order:
///
/// 1. a rate of 0 (remove the contract) and off-link paths (no experiments, no estimates;
///    decisions.md item 6) are always admitted;
/// 2. no bottleneck estimate yet → `RETRY` (1237);
/// 3. the rate alone above the bottleneck bandwidth → `NETWORK_BUSY` (54; the ETW event
///    "Bottleneck Bandwidth Exceeded");
/// 4. the rates of all flows towards the path (the others' admitted rates + this one) above
///    `maxReservedShare` of the bottleneck → `NETWORK_BUSY`: reservations count even while their
///    flows are idle;
/// 5. no available-bandwidth estimate yet → `RETRY`;
/// 6. the rate above `availableShare × (available + the flow's own current rate)` →
///    `NETWORK_BUSY`. The measured available bandwidth already excludes the traffic that every
///    active flow sends (this one's included), so the other flows' rates are not subtracted
///    again here (that would count them twice); step 4 covers those that admitted a rate but
///    do not send yet.
///
/// Re-admission after `QOSNotifyAvailable` fired is simply another call: the watch fired
/// because available + own rate stayed ≥ 1.05 × target, which step 6 accepts.
public final class AdmissionControl {
    private AdmissionControl() {
    }

    /// Decides on a rate request of an adaptive flow.
    ///
    /// @param bottleneckBps     the path's bottleneck bandwidth estimate, bits/s
    /// @param availableBps      the path's available bandwidth estimate, bits/s
    /// @param requestedBps      the rate asked for (`QOS_FLOWRATE_OUTGOING.Bandwidth`), bits/s;
    ///                          `0xFFFFFFFF` is the default minimum
    /// @param currentRateBps    the flow's own currently admitted rate, 0 if none
    /// @param otherAdmittedBps  the sum of the rates admitted to the *other* flows towards the
    ///                          same path (all handles of the subsystem)
    /// @param onLink            whether the destination is on-link (decisions.md item 23)
    /// @param policy            the knobs
    public static AdmissionDecision decide(OptionalLong bottleneckBps, OptionalLong availableBps, long requestedBps,
                                           long currentRateBps, long otherAdmittedBps, boolean onLink,
                                           AdmissionPolicy policy) {
        if (requestedBps < 0 || currentRateBps < 0 || otherAdmittedBps < 0) {
            throw new IllegalArgumentException("negative rate: " + requestedBps + ", " + currentRateBps + ", "
                    + otherAdmittedBps);
        }
        long rate = requestedBps == io.quaver.OutgoingRate.DEFAULT_MINIMUM_BANDWIDTH_BPS
                ? policy.defaultMinimumBps() : requestedBps;
        if (rate == 0) {
            return admit("a rate of 0 removes the contract");
        }
        if (!onLink) {
            return admit("off-link: no admission control");
        }
        if (bottleneckBps.isEmpty()) {
            return new AdmissionDecision(AdmissionDecision.Verdict.RETRY,
                    "no bottleneck bandwidth estimate for the path yet");
        }
        long bottleneck = bottleneckBps.getAsLong();
        if (rate > bottleneck) {
            return busy("the rate " + rate + " bit/s exceeds the bottleneck bandwidth " + bottleneck + " bit/s");
        }
        double reservable = policy.maxReservedShare() * bottleneck;
        if ((double) rate + otherAdmittedBps > reservable) {
            return busy("the rate " + rate + " bit/s plus " + otherAdmittedBps
                    + " bit/s admitted to other flows towards the path exceeds " + (long) reservable + " bit/s");
        }
        if (availableBps.isEmpty()) {
            return new AdmissionDecision(AdmissionDecision.Verdict.RETRY,
                    "no available bandwidth estimate for the path yet");
        }
        double headroom = policy.availableShare() * ((double) availableBps.getAsLong() + currentRateBps);
        if (rate > headroom) {
            return busy("the rate " + rate + " bit/s exceeds the available bandwidth " + availableBps.getAsLong()
                    + " bit/s plus the flow's own " + currentRateBps + " bit/s");
        }
        return admit("the path can carry " + rate + " bit/s");
    }

    private static AdmissionDecision admit(String reason) {
        return new AdmissionDecision(AdmissionDecision.Verdict.ADMIT, reason);
    }

    private static AdmissionDecision busy(String reason) {
        return new AdmissionDecision(AdmissionDecision.Verdict.NETWORK_BUSY, reason);
    }
}
