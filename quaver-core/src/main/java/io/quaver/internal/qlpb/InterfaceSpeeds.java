package io.quaver.internal.qlpb;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;

/// The speed of the interface that owns a local address, for a Packet Pair Summary's
/// `Interface_Speed`: Linux's `/sys/class/net/<name>/speed` (Mbit/s), 60 % of it for a
/// wireless interface ([MS-QLPB] §3.2.5.5), clamped to the 32-bit field. 0 when unknown
/// (loopback, virtual interfaces, other systems) — the field's "no information" value.
final class InterfaceSpeeds {
    private InterfaceSpeeds() {
    }

    /// Never throws.
    static long speedBps(InetAddress localAddress) {
        try {
            NetworkInterface nif = localAddress == null ? null : NetworkInterface.getByInetAddress(localAddress);
            if (nif == null || nif.isLoopback()) {
                return 0;
            }
            Path dir = Path.of("/sys/class/net", nif.getName());
            long mbps = Long.parseLong(Files.readString(dir.resolve("speed")).trim());
            if (mbps <= 0) {
                return 0;
            }
            long bps = mbps * 1_000_000L;
            if (Files.exists(dir.resolve("wireless"))) {
                bps = bps / 10 * 6;
            }
            return Math.min(bps, 0xFFFF_FFFFL);
        } catch (Exception | LinkageError e) {
            return 0;
        }
    }
}
