package io.quaver.internal.platform;

/// The fields of Linux `struct tcp_info` that Quaver uses, in the units named.
///
/// Rates are converted from the kernel's bytes/s to bits/s; a kernel value of `~0`
/// (unlimited) is reported as `-1`, and a rate too large for a `long` in bits/s saturates at
/// `Long.MAX_VALUE`.
///
/// @param rttUs            smoothed RTT (`tcpi_rtt`), microseconds
/// @param rttVarUs         RTT variance (`tcpi_rttvar`), microseconds
/// @param minRttUs         minimum RTT seen (`tcpi_min_rtt`), microseconds
/// @param deliveryRateBps  most recent delivery rate (`tcpi_delivery_rate`, bytes/s) as bits/s
/// @param pacingRateBps    current pacing rate (`tcpi_pacing_rate`, bytes/s) as bits/s
/// @param sndCwnd          congestion window, segments
/// @param sndMss           sender MSS, bytes
/// @param lost             segments currently considered lost
/// @param totalRetrans     total retransmitted segments
/// @param bytesAcked       bytes acknowledged (`tcpi_bytes_acked`), bytes; on the connecting
///                         side this includes the SYN, counted as one byte
/// @param appLimited       whether the last delivery-rate sample was application limited
///                         (`tcpi_delivery_rate_app_limited`)
public record TcpInfo(long rttUs, long rttVarUs, long minRttUs, long deliveryRateBps, long pacingRateBps,
                      int sndCwnd, int sndMss, int lost, int totalRetrans, long bytesAcked, boolean appLimited) {
}
