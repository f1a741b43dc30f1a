package io.quaver;

/// How a flow's outgoing rate is enforced (`QOS_SHAPING`, qwave.md §6.2, decisions.md item 3).
public enum Shaping {
    /// Paced to the rate; sent unmarked (best effort).
    SHAPE_ONLY(0),
    /// Paced to the rate; conformant marks.
    SHAPE_AND_MARK(1),
    /// Never delayed; traffic beyond the rate carries the non-conformant marks.
    USE_NON_CONFORMANT_MARKINGS(2);

    private final int value;

    Shaping(int value) {
        this.value = value;
    }

    /// The `QOS_SHAPING` value.
    public int value() {
        return value;
    }

    /// The behaviour with the given `QOS_SHAPING` value.
    ///
    /// @throws QosException [QosError#INVALID_PARAMETER] for an unknown value
    public static Shaping fromValue(int value) {
        for (Shaping s : values()) {
            if (s.value == value) {
                return s;
            }
        }
        throw new QosException(QosError.INVALID_PARAMETER, "unknown shaping behaviour " + value + " (valid: 0..2)");
    }
}
