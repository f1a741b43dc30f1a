package io.quaver;

/// Which mechanism enforces a flow's outgoing rate. Exactly one is in effect per flow; see
/// [QosFlow#enforcement()] and [FlowInfo#enforcement()].
///
/// | Value | Used for | What shapes the traffic |
/// | --- | --- | --- |
/// | [#KERNEL_PACING] | a flow of one TCP socket | the kernel's TCP pacing, `SO_MAX_PACING_RATE` = rate / 8 bytes/s (Linux ≥ 4.13 paces TCP internally, no `fq` needed) |
/// | [#KERNEL_CLASS] | any flow, when the process is privileged and Quaver can own the egress interface's root qdisc | an `htb` class of the flow with `u32` filters matching its sockets' 5-tuples; applications may keep writing to their own sockets |
/// | [#SEND_PATH] | otherwise, and always for [Shaping#USE_NON_CONFORMANT_MARKINGS] | Quaver's pacer in [QosFlow#send] (traffic written directly to the JDK socket is not shaped) |
/// | [#NONE] | no rate, or bandwidth 0 | nothing |
public enum Enforcement {
    /// The kernel paces the flow's TCP socket (`SO_MAX_PACING_RATE`).
    KERNEL_PACING,
    /// A kernel traffic-control class (`htb`) owned by Quaver shapes the flow on its egress
    /// interface.
    KERNEL_CLASS,
    /// Quaver's send path ([QosFlow#send] and its forms) paces or marks the flow.
    SEND_PATH,
    /// The flow has no rate to enforce.
    NONE
}
