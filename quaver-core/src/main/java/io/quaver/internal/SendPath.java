package io.quaver.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.CompletableFuture;

/// The send path of one flow, as [io.quaver.QosFlow] uses it; valid for the flow's lifetime
/// (afterwards every call fails with `NOT_FOUND`, or `INVALID_HANDLE` once the handle closed).
public interface SendPath {
    /// Blocking send on the flow's only socket and destination.
    int send(ByteBuffer payload);

    /// Blocking send of one datagram on a (socket, destination) registration of the flow.
    int send(DatagramChannel socket, ByteBuffer payload, InetSocketAddress destination);

    /// Non-blocking send; completes when the datagram left (on the pacer thread when delayed).
    CompletableFuture<Integer> sendAsync(DatagramChannel socket, ByteBuffer payload, InetSocketAddress destination);

    /// When a datagram sent now would conform to the rate (`System.nanoTime()` clock).
    long nextSendTimeNs();
}
