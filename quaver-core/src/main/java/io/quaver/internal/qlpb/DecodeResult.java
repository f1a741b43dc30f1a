package io.quaver.internal.qlpb;

import java.util.Objects;

/// The outcome of decoding: a message, or a typed rejection.
public sealed interface DecodeResult {

    /// The bytes were a valid message.
    record Decoded(QlpbMessage message) implements DecodeResult {
        public Decoded {
            Objects.requireNonNull(message, "message");
        }
    }

    /// The bytes were not a valid message.
    ///
    /// @param reason why
    /// @param detail a short human-readable explanation (for logs and test failures)
    record Rejected(Rejection reason, String detail) implements DecodeResult {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }
}
