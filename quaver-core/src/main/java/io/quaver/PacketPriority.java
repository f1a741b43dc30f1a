package io.quaver;

/// The marks actually applied to a flow's traffic, after policy and path checks
/// (`QOS_PACKET_PRIORITY`).
///
/// @param conformantDscp        DSCP (0–63) of traffic within the rate (or all traffic when no
///                              rate is set); 0 when the flow is not marked
/// @param nonConformantDscp     DSCP of traffic beyond the rate under
///                              [Shaping#USE_NON_CONFORMANT_MARKINGS]
/// @param conformantL2          802.1p user priority actually applied (0 when not tagged)
/// @param nonConformantL2       802.1p user priority of traffic beyond the rate
public record PacketPriority(int conformantDscp, int nonConformantDscp, int conformantL2, int nonConformantL2) {
}
