package io.quaver.internal.qlpb;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;

import static org.assertj.core.api.Assertions.assertThat;

/// The per-source limits in virtual time.
class SourceLimiterTest {
    private static final long S = 1_000_000_000L;

    private static InetAddress ip(int a, int b) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) 198, 18, (byte) a, (byte) b});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aFlooderIsHeldToItsRateWhileAnotherSourceKeepsItsAllowance() {
        // 8 Mbit/s = 1 MB/s per source, 100 kB burst
        SourceLimiter limiter = new SourceLimiter(8_000_000, 100_000, 10, 4, 0);
        InetAddress flooder = ip(1, 1);
        InetAddress good = ip(2, 3);
        long admitted = 0;
        long goodAdmitted = 0;
        // one simulated second: the flooder offers 10 MB in 1,000-byte datagrams, the good source 100 kB
        for (int i = 0; i < 10_000; i++) {
            long now = i * (S / 10_000);
            if (limiter.admitDatagram(flooder, 1_000, now)) {
                admitted += 1_000;
            }
            if (i % 100 == 0 && limiter.admitDatagram(good, 1_000, now)) {
                goodAdmitted += 1_000;
            }
        }
        assertThat(admitted).as("rate x 1 s + burst").isBetween(1_000_000L, 1_000_000L + 100_000 + 2_000);
        assertThat(goodAdmitted).isEqualTo(100_000);
    }

    @Test
    void connectionsAreCappedPerSourceAndByRate() {
        SourceLimiter limiter = new SourceLimiter(8_000_000, 100_000, 5, 3, 0);
        InetAddress a = ip(1, 1);
        SourceLimiter.Source s1 = limiter.admitConnection(a, 0);
        SourceLimiter.Source s2 = limiter.admitConnection(a, 0);
        SourceLimiter.Source s3 = limiter.admitConnection(a, 0);
        assertThat(s1).isNotNull().isSameAs(s2).isSameAs(s3);
        assertThat(limiter.admitConnection(a, 0)).as("4th concurrent session").isNull();
        assertThat(limiter.admitConnection(ip(1, 2), 0)).as("another source").isNotNull();
        limiter.release(s1);
        limiter.release(s2);
        limiter.release(s3);
        // burst of 5 per second: 3 used; 2 more now, then refused until tokens come back
        SourceLimiter.Source s4 = limiter.admitConnection(a, 1);
        SourceLimiter.Source s5 = limiter.admitConnection(a, 2);
        assertThat(s4).isNotNull();
        assertThat(s5).isNotNull();
        limiter.release(s4);
        limiter.release(s5);
        assertThat(limiter.admitConnection(a, 3)).as("rate").isNull();
        assertThat(limiter.admitConnection(a, S / 5 + 3)).as("a token after 200 ms").isNotNull();
    }

    @Test
    void theTableIsBoundedAndNewcomersShareTheOverflowEntry() {
        SourceLimiter limiter = new SourceLimiter(8_000_000, 70_000, 10, 4, 0);
        for (int i = 0; i < SourceLimiter.MAX_SOURCES; i++) {
            assertThat(limiter.admitDatagram(ip(100 + i / 256, i % 256), 100, 0)).isTrue();
        }
        assertThat(limiter.size()).isEqualTo(SourceLimiter.MAX_SOURCES);
        // newcomers share one bucket: 70 kB burst + 1 datagram
        int passed = 0;
        for (int i = 0; i < 2_000; i++) {
            if (limiter.admitDatagram(ip(200 + i / 256, i % 256), 1_000, 1)) {
                passed++;
            }
        }
        assertThat(limiter.size()).isEqualTo(SourceLimiter.MAX_SOURCES);
        assertThat(passed).isBetween(70, 72);
        // after the idle period the old entries are swept and newcomers get their own
        long later = SourceLimiter.IDLE_NS + 2 * SourceLimiter.SWEEP_INTERVAL_NS;
        assertThat(limiter.admitDatagram(ip(250, 1), 1_000, later)).isTrue();
        assertThat(limiter.size()).isEqualTo(1);
    }
}
