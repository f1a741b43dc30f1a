package io.quaver.internal.qlpb;

/// The transport a [MS-QLPB] message travels on. The same `Proto_and_Msg_ID` means different
/// messages on the two transports (0x01 is the packet-pair handshake on TCP and a packet-pair
/// probe on UDP), so decoding needs to know which one the bytes came from.
public enum Transport {
    /// The control connection (TCP port 2177 of the sink): handshakes, summaries, discard.
    TCP,
    /// Probes (UDP port 2177 of the sink; probegap replies to UDP port 2177 of the initiator).
    UDP
}
