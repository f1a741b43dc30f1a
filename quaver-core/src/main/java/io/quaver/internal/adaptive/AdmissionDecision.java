package io.quaver.internal.adaptive;

import io.quaver.QosError;
import io.quaver.QosException;

/// The outcome of [AdmissionControl#decide].
///
/// @param verdict what to do
/// @param reason  why, for the exception's message and the logs
public record AdmissionDecision(Verdict verdict, String reason) {
    /// The three outcomes.
    public enum Verdict {
        /// Mark (and shape) the flow at the requested rate.
        ADMIT(null),
        /// The path cannot carry the rate: `ERROR_NETWORK_BUSY` (54); the flow stays unmarked.
        NETWORK_BUSY(QosError.NETWORK_BUSY),
        /// Estimates are not sufficient yet: `ERROR_RETRY` (1237).
        RETRY(QosError.RETRY);

        private final QosError error;

        Verdict(QosError error) {
            this.error = error;
        }

        /// The error to raise, `null` for [#ADMIT].
        public QosError error() {
            return error;
        }
    }

    /// Whether the rate is admitted.
    public boolean admitted() {
        return verdict == Verdict.ADMIT;
    }

    /// Throws the decision's error unless the rate was admitted.
    public void throwIfRefused() {
        if (verdict != Verdict.ADMIT) {
            throw new QosException(verdict.error(), reason);
        }
    }
}
