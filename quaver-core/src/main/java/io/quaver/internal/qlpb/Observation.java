package io.quaver.internal.qlpb;

/// What a sink saw of one route-check train: the 2-bit `Obs` field of a Route Check Summary
/// ([MS-QLPB] §2.2.1.1). The fourth value (3) is reserved and never decoded.
public enum Observation {
    /// All packets of the train arrived, in order.
    NO_ISSUE(0),
    /// A best-effort packet arrived after the train's final high-priority packet: the priority
    /// packet overtook it, so the path honours priority.
    INVERSION(1),
    /// The train's final packet arrived but its oversized, priority-tagged first packet did not.
    LOSS(2);

    private final int code;

    Observation(int code) {
        this.code = code;
    }

    /// The wire value of the `Obs` field (0..2).
    public int code() {
        return code;
    }

    /// The observation with the given wire value, or `null` for the reserved value 3 or
    /// anything outside 0..3.
    public static Observation fromCode(int code) {
        return switch (code) {
            case 0 -> NO_ISSUE;
            case 1 -> INVERSION;
            case 2 -> LOSS;
            default -> null;
        };
    }
}
