package io.quaver;

/// A pair of marks: a DSCP value (0–63, written as `dscp << 2` in the IP TOS / traffic class
/// byte) and an 802.1p user priority (0–7).
public record Marks(int dscp, int userPriority) {
    /// No marks: DSCP 0, 802.1p 0.
    public static final Marks NONE = new Marks(0, 0);

    public Marks {
        if (dscp < 0 || dscp > 63) {
            throw new QosException(QosError.INVALID_PARAMETER, "DSCP must be 0..63, was " + dscp);
        }
        if (userPriority < 0 || userPriority > 7) {
            throw new QosException(QosError.INVALID_PARAMETER, "802.1p priority must be 0..7, was " + userPriority);
        }
    }

    /// The IP TOS / IPv6 traffic-class byte for this DSCP (ECN bits zero).
    public int tos() {
        return dscp << 2;
    }
}
