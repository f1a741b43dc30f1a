package io.quaver.internal;

import io.quaver.QosError;
import io.quaver.QosException;

/// Shorthands for raising [QosException]s with a clear message.
public final class Errors {
    private Errors() {
    }

    public static QosException invalidParameter(String message) {
        return new QosException(QosError.INVALID_PARAMETER, message);
    }

    public static QosException notFound(String message) {
        return new QosException(QosError.NOT_FOUND, message);
    }

    public static QosException notSupported(String message) {
        return new QosException(QosError.NOT_SUPPORTED, message);
    }

    public static QosException of(QosError error, String message) {
        return new QosException(error, message);
    }
}
