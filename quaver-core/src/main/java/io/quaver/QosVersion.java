package io.quaver;

/// The QoS protocol version a caller asks for; 1.0 is the only valid value.
public record QosVersion(int major, int minor) {
    /// Version 1.0.
    public static final QosVersion V1_0 = new QosVersion(1, 0);

    public QosVersion {
        if (major < 0 || major > 0xFFFF || minor < 0 || minor > 0xFFFF) {
            throw new QosException(QosError.INVALID_PARAMETER, "version fields are 16-bit unsigned: " + major + "." + minor);
        }
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
