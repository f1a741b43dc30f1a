package io.quaver.internal.probe;

import java.util.concurrent.atomic.LongAdder;

/// Probe datagrams and bytes sent by the probers of one engine.
public final class ProbeCounters {
    private final LongAdder packets = new LongAdder();
    private final LongAdder bytes = new LongAdder();

    /// Counts one datagram of `ipBytes` bytes at the IP level.
    public void sent(int ipBytes) {
        packets.increment();
        bytes.add(ipBytes);
    }

    public long packets() {
        return packets.sum();
    }

    public long bytes() {
        return bytes.sum();
    }
}
