package io.quaver;

/// Why the application changed a flow's rate (`QOS_FLOWRATE_REASON`); informational.
public enum FlowRateReason {
    NOT_APPLICABLE(0),
    CONTENT_CHANGE(1),
    CONGESTION(2),
    HIGHER_CONTENT_ENCODING(3),
    USER_CAUSED(4);

    private final int value;

    FlowRateReason(int value) {
        this.value = value;
    }

    /// The `QOS_FLOWRATE_REASON` value.
    public int value() {
        return value;
    }

    /// The reason with the given value.
    ///
    /// @throws QosException [QosError#INVALID_PARAMETER] for an unknown value
    public static FlowRateReason fromValue(int value) {
        for (FlowRateReason r : values()) {
            if (r.value == value) {
                return r;
            }
        }
        throw new QosException(QosError.INVALID_PARAMETER, "unknown flow-rate reason " + value + " (valid: 0..4)");
    }
}
