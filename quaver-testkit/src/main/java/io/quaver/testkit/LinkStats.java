package io.quaver.testkit;

/// A snapshot of the counters of one direction of an emulated link.
///
/// Real datagrams are counted in UDP payload bytes; cross traffic, which has no payload, in bytes
/// on the wire. Every datagram in is eventually exactly one of: delivered, dropped by the queue,
/// lost, failed to send, or still in flight ([#inFlightPackets()]).
///
/// @param packetsIn                  datagrams received by the emulator in this direction
/// @param payloadBytesIn             their payload bytes
/// @param packetsDelivered           datagrams sent on to their destination
/// @param payloadBytesDelivered      their payload bytes
/// @param packetsDroppedByQueue      datagrams refused by tail drop at the bottleneck
/// @param packetsLost                datagrams removed by random loss
/// @param sendErrors                 datagrams whose final send failed (socket error or full buffer)
/// @param crossTrafficPackets        virtual datagrams admitted to the bottleneck
/// @param crossTrafficWireBytes      their bytes on the wire
/// @param crossTrafficPacketsDropped virtual datagrams refused (cross traffic faster than the link)
/// @param backlogWireBytes           bytes on the wire in the bottleneck queue now, cross traffic included
/// @param maxLatenessNs              largest delay between a datagram's scheduled and actual send
/// @param meanLatenessNs             mean of that delay
public record LinkStats(
        long packetsIn,
        long payloadBytesIn,
        long packetsDelivered,
        long payloadBytesDelivered,
        long packetsDroppedByQueue,
        long packetsLost,
        long sendErrors,
        long crossTrafficPackets,
        long crossTrafficWireBytes,
        long crossTrafficPacketsDropped,
        long backlogWireBytes,
        long maxLatenessNs,
        long meanLatenessNs) {

    /// Datagrams accepted but not yet delivered (in the bottleneck or the delay line).
    public long inFlightPackets() {
        return packetsIn - packetsDelivered - packetsDroppedByQueue - packetsLost - sendErrors;
    }
}
