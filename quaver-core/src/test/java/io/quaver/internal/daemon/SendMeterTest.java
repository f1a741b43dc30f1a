package io.quaver.internal.daemon;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/// The send rate from a client's reports, in virtual time.
class SendMeterTest {
    private static final long MS = 1_000_000L;

    @Test
    void noRateBeforeTwoReports() {
        SendMeter m = new SendMeter();
        assertThat(m.rateBps(0)).isEqualTo(-1);
        m.record(0, 1000);
        assertThat(m.rateBps(10 * MS)).isEqualTo(-1);
    }

    @Test
    void theRateIsTakenOverTheLastSecondOfReports() {
        SendMeter m = new SendMeter();
        // 1 Mbit/s for 2 s (a report every 250 ms), then 4 Mbit/s
        long bytes = 0;
        for (long t = 0; t <= 2000; t += 250) {
            m.record(t * MS, bytes);
            bytes += 31_250;
        }
        assertThat(m.rateBps(2000 * MS)).isEqualTo(1_000_000);
        for (long t = 2250; t <= 4000; t += 250) {
            m.record(t * MS, bytes);
            bytes += 125_000;
        }
        assertThat(m.rateBps(4000 * MS)).isEqualTo(4_000_000);
    }

    @Test
    void aFlowThatStopsReportingIsIdleAndCountsThatGoBackAreIgnored() {
        SendMeter m = new SendMeter();
        m.record(0, 0);
        m.record(500 * MS, 62_500);
        assertThat(m.rateBps(600 * MS)).isEqualTo(1_000_000);
        m.record(700 * MS, 10); // backwards: ignored
        m.record(400 * MS, 70_000); // earlier than the last report: ignored
        assertThat(m.rateBps(700 * MS)).isEqualTo(1_000_000);
        assertThat(m.rateBps(500 * MS + SendMeter.IDLE_NS)).isZero();
    }
}
