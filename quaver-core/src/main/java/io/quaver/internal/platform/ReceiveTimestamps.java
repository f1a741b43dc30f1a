package io.quaver.internal.platform;

/// When the datagrams a [java.nio.channels.DatagramChannel] receives reached the host, on the
/// [System#nanoTime()] clock: the kernel's receive timestamp where the platform has one, the
/// caller's own reading otherwise. Obtained from [Platform#receiveTimestamps].
///
/// A thread that timestamps a datagram after `receive()` returns is late by however long the
/// datagram waited in the socket's queue, which on a loaded machine includes every stall of
/// that thread (60–500 ms were seen). The kernel stamps the datagram on arrival, before it is
/// queued, so its timestamp does not move with the receiver's scheduling.
///
/// Use: call [#receivedNs] on the receiving thread right after each `receive()` that returned
/// a datagram, before the next receive on the channel; close this object with the channel.
/// Thread-safe; [#close()] may come from any thread, after which [#receivedNs] returns its
/// argument.
public interface ReceiveTimestamps extends AutoCloseable {

    /// The arrival time of the datagram the channel's last `receive()` returned.
    ///
    /// @param userNs [System#nanoTime()] read right after that `receive()` returned
    /// @return the kernel's receive timestamp mapped to the [System#nanoTime()] clock, never
    ///         later than `userNs`; `userNs` itself when no kernel timestamp is available (or
    ///         it cannot be believed)
    long receivedNs(long userNs);

    /// Whether kernel timestamps are in use (`false` for the user-space fallback, and once the
    /// kernel stopped answering).
    boolean kernelTimestamps();

    /// Releases what this object holds (on Linux, its own descriptor of the socket). Idempotent.
    @Override
    void close();

    /// The fallback: the caller's own reading, taken after `receive()` returned.
    static ReceiveTimestamps userSpace() {
        return UserSpace.INSTANCE;
    }

    /// The user-space fallback.
    enum UserSpace implements ReceiveTimestamps {
        /// The only instance.
        INSTANCE;

        @Override
        public long receivedNs(long userNs) {
            return userNs;
        }

        @Override
        public boolean kernelTimestamps() {
            return false;
        }

        @Override
        public void close() {
            // nothing held
        }
    }
}
