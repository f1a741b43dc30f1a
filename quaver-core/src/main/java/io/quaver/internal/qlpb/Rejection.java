package io.quaver.internal.qlpb;

/// Why bytes were not accepted as a [MS-QLPB] message. Decoding never throws; it reports one of
/// these instead.
public enum Rejection {
    /// Fewer bytes than the message's fixed part (or, for a Packet Pair Summary, than its
    /// `Num_Timestamp_Deltas` announces).
    TRUNCATED,
    /// The `Version` byte is not the one the message id requires (0x02 for probegap messages
    /// 0x05/0x06, 0x01 for every other message).
    UNSUPPORTED_VERSION,
    /// `Proto_and_Msg_ID` is not a [MS-QLPB] message on this transport (e.g. 0x96, the
    /// qWave-WD protocol sharing TCP port 2177, or a TCP-only id received over UDP).
    UNKNOWN_MESSAGE_ID,
    /// A probe's `Train_Size` is 1, which the protocol declares invalid.
    BAD_TRAIN_SIZE,
    /// A Packet Pair Summary announces zero timestamp deltas (a train has at least 2 probes).
    BAD_DELTA_COUNT,
    /// A Packet Pair Summary announces more deltas than a train can have (65,534) or than the
    /// decoder accepts.
    TOO_MANY_DELTAS,
    /// More bytes than the message has: a fixed-size message with trailing bytes, or a
    /// summary longer than its deltas.
    LENGTH_MISMATCH,
    /// A field holds a value the protocol reserves (the `Obs` value 3 of a Route Check Summary).
    RESERVED_VALUE
}
