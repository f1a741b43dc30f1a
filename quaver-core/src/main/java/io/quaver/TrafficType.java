package io.quaver;

/// A flow's priority class (qwave.md §6.1). The marks a type gets come from the
/// [MarkingPolicy]; the defaults are qWAVE's documented table.
public enum TrafficType {
    /// Same priority as ordinary traffic; no mark.
    BEST_EFFORT(0),
    /// Below best effort, e.g. backups.
    BACKGROUND(1),
    /// Important data that is not audio or video.
    EXCELLENT_EFFORT(2),
    /// Audio/video streaming.
    AUDIO_VIDEO(3),
    /// Real-time voice.
    VOICE(4),
    /// The most critical data only, e.g. transport commands of an A/V session.
    CONTROL(5);

    private final int value;

    TrafficType(int value) {
        this.value = value;
    }

    /// The `QOS_TRAFFIC_TYPE` value.
    public int value() {
        return value;
    }

    /// The type with the given `QOS_TRAFFIC_TYPE` value.
    ///
    /// @throws QosException [QosError#INVALID_PARAMETER] for an unknown value
    public static TrafficType fromValue(int value) {
        for (TrafficType t : values()) {
            if (t.value == value) {
                return t;
            }
        }
        throw new QosException(QosError.INVALID_PARAMETER, "unknown traffic type " + value + " (valid: 0..5)");
    }
}
