package io.quaver.testkit;

import java.net.InetAddress;
import java.time.Instant;

/// One IP packet as printed by `tcpdump -n -v -tt` and parsed by [PacketCapture].
///
/// @param timestamp          capture time (from the kernel, microsecond resolution)
/// @param ipVersion          4 or 6
/// @param protocol           transport protocol name as tcpdump prints it (`UDP`, `TCP`, `ICMP`, `ICMPv6`…)
/// @param protocolNumber     IP protocol number (17 for UDP)
/// @param source             source address
/// @param sourcePort         source port, or -1 for protocols without ports
/// @param destination        destination address
/// @param destinationPort    destination port, or -1
/// @param trafficClass       the IPv4 TOS byte or IPv6 traffic class byte (DSCP << 2 | ECN)
/// @param ipLengthBytes      length of the whole IP packet (IPv4 total length; IPv6 payload length + 40)
/// @param payloadLengthBytes transport payload length when tcpdump prints it (`UDP, length N`), else -1
/// @param text               the tcpdump output for this packet
public record CapturedPacket(
        Instant timestamp,
        int ipVersion,
        String protocol,
        int protocolNumber,
        InetAddress source,
        int sourcePort,
        InetAddress destination,
        int destinationPort,
        int trafficClass,
        int ipLengthBytes,
        int payloadLengthBytes,
        String text) {

    /// The DSCP, the upper six bits of [#trafficClass()].
    public int dscp() {
        return trafficClass >>> 2;
    }

    /// The ECN field, the lower two bits of [#trafficClass()].
    public int ecn() {
        return trafficClass & 3;
    }

    public boolean isUdp() {
        return protocolNumber == 17;
    }

    public boolean isTcp() {
        return protocolNumber == 6;
    }
}
