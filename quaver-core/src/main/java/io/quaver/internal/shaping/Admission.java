package io.quaver.internal.shaping;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;

import java.net.InetSocketAddress;

/// Decides whether a flow's rate contract is admitted (qwave.md §5.7, §8.7).
///
/// Only adaptive flows go through admission; a non-adaptive flow's rate is always accepted.
/// An implementation either returns normally (admitted) or throws a
/// [io.quaver.QosException]: `NETWORK_BUSY` (54) when the path cannot carry the rate (the flow
/// then stays unmarked), `RETRY` (1237) while estimates are insufficient. Issue 5 replaces
/// [#ALWAYS] with admission against the path's available bandwidth.
@FunctionalInterface
public interface Admission {
    /// Admits every rate (until admission control exists).
    Admission ALWAYS = (flowId, mode, destination, rate, otherAdmittedBps) -> { };

    /// Admits `rate` for flow `flowId` towards `destination`, or throws.
    ///
    /// @param otherAdmittedBps the sum of rates already admitted to other adaptive flows
    ///                         towards the same destination address
    void admit(int flowId, FlowMode mode, InetSocketAddress destination, OutgoingRate rate, long otherAdmittedBps);
}
