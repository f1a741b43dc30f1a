package io.quaver;

import java.util.Objects;

/// Thrown by every Quaver call that fails; carries the [QosError] with its Win32 number.
public class QosException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final QosError error;

    public QosException(QosError error, String message) {
        super(Objects.requireNonNull(error, "error") + " (" + error.code() + "): " + message);
        this.error = error;
    }

    public QosException(QosError error, String message, Throwable cause) {
        this(error, message);
        initCause(cause);
    }

    /// What went wrong.
    public QosError error() {
        return error;
    }

    /// The Win32 error number of [#error()].
    public int code() {
        return error.code();
    }
}
