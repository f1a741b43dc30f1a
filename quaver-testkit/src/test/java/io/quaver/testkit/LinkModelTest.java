package io.quaver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quaver.testkit.LinkModel.Outcome;
import io.quaver.testkit.LinkModel.Verdict;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinkModelTest {
    private static final long MS = 1_000_000L;

    @Test
    void delayIsAddedAfterSerialisation() {
        var m = new LinkModel(LinkConfig.ofRateBps(10_000_000).withDelayNs(20 * MS));
        Verdict v = m.offer(0, 1200);
        assertThat(v).isEqualTo(new Verdict(Outcome.DELIVER, 982_400, 982_400 + 20 * MS));
        assertThat(m.offer(0, 1200).deliveryNs()).isEqualTo(2 * 982_400 + 20 * MS);
    }

    @Test
    void overheadFollowsTheAddressFamilyUnlessSet() {
        var v4 = new LinkModel(LinkConfig.ofRateBps(10_000_000), 0, false);
        var v6 = new LinkModel(LinkConfig.ofRateBps(10_000_000), 0, true);
        var fixed = new LinkModel(LinkConfig.ofRateBps(10_000_000).withOverheadBytes(42), 0, true);
        assertThat(v4.offer(0, 1200).departureNs()).isEqualTo(1228 * 800);
        assertThat(v6.offer(0, 1200).departureNs()).isEqualTo(1248 * 800);
        assertThat(fixed.offer(0, 1200).departureNs()).isEqualTo(1242 * 800);
    }

    @Test
    void jitterIsBoundedAndDoesNotReorderUnlessAllowed() {
        var config = LinkConfig.unshaped().withDelayNs(10 * MS).withJitterNs(2 * MS);
        var inOrder = new LinkModel(config);
        var reordering = new LinkModel(config.withReordering(true));
        long previous = Long.MIN_VALUE;
        int reordered = 0;
        long previousR = Long.MIN_VALUE;
        double sum = 0;
        for (int i = 0; i < 10_000; i++) {
            long t = i * 100_000L; // one per 100 µs, much less than the jitter
            long d = inOrder.offer(t, 100).deliveryNs();
            assertThat(d).isGreaterThanOrEqualTo(previous).isLessThanOrEqualTo(t + 12 * MS);
            previous = d;
            long r = reordering.offer(t, 100).deliveryNs();
            assertThat(r - t).isBetween(8 * MS, 12 * MS);
            sum += r - t;
            if (r < previousR) {
                reordered++;
            }
            previousR = Math.max(previousR, r);
        }
        assertThat(reordered).isGreaterThan(1_000);
        assertThat(sum / 10_000).isCloseTo(10 * MS, within(0.05 * MS));
    }

    @Test
    void lossIsSeededAndIndependentOfTheOtherParameters() {
        var config = LinkConfig.unshaped().withLossRatio(0.1).withSeed(7);
        List<Integer> lostA = lostIndices(new LinkModel(config), 100_000);
        List<Integer> lostB = lostIndices(new LinkModel(config.withRateBps(1_000_000_000).withJitterNs(MS)), 100_000);
        List<Integer> lostC = lostIndices(new LinkModel(config.withSeed(8)), 100_000);
        assertThat(lostB).isEqualTo(lostA);
        assertThat(lostC).isNotEqualTo(lostA);
        // Binomial(100 000, 0.1): σ ≈ 95, so ±500 is more than 5 σ.
        assertThat(lostA.size()).isBetween(9_500, 10_500);
    }

    private static List<Integer> lostIndices(LinkModel m, int n) {
        var lost = new ArrayList<Integer>();
        for (int i = 0; i < n; i++) {
            if (m.offer(i * 1_000_000L, 100).outcome() == Outcome.LOST) {
                lost.add(i);
            }
        }
        return lost;
    }

    @Test
    void saturatedLinkDeliversExactlyItsRate() {
        // 30 Mbit/s offered into a 20 Mbit/s bottleneck for 10 s of virtual time.
        var m = new LinkModel(LinkConfig.ofRateBps(20_000_000));
        assertThat(deliveredWireRateBps(m, 30_000_000, 10)).isCloseTo(20_000_000, within(20_000.0));
        LinkModel.Counters c = m.counters(10_000 * MS);
        assertThat(c.packetsDroppedByQueue()).isGreaterThan(c.packetsIn() / 4);
    }

    @Test
    void cbrCrossTrafficLeavesRateMinusCross() {
        var m = new LinkModel(LinkConfig.ofRateBps(20_000_000).withCrossTraffic(CrossTraffic.cbr(8_000_000)));
        assertThat(deliveredWireRateBps(m, 30_000_000, 10)).isCloseTo(12_000_000, within(60_000.0));
        LinkModel.Counters c = m.counters(10_000 * MS);
        assertThat(c.crossTrafficPacketsDropped()).isZero();
        assertThat(c.crossTrafficWireBytes() * 8 / 10.0).isCloseTo(8_000_000, within(10_000.0));
    }

    @Test
    void poissonAndOnOffCrossTrafficLeaveRateMinusMeanCross() {
        var poisson = new LinkModel(LinkConfig.ofRateBps(20_000_000).withCrossTraffic(CrossTraffic.poisson(5_000_000)));
        assertThat(deliveredWireRateBps(poisson, 30_000_000, 10)).isCloseTo(15_000_000, within(150_000.0));
        var onOff = new LinkModel(LinkConfig.ofRateBps(20_000_000)
                .withCrossTraffic(CrossTraffic.onOff(10_000_000, 50 * MS, 50 * MS)));
        assertThat(deliveredWireRateBps(onOff, 30_000_000, 10)).isCloseTo(15_000_000, within(150_000.0));
    }

    @Test
    void crossTrafficRateCanChangeAtRuntime() {
        var m = new LinkModel(LinkConfig.ofRateBps(20_000_000).withCrossTraffic(CrossTraffic.cbr(15_000_000)));
        m.setCrossTrafficBps(0, 0);
        assertThat(deliveredWireRateBps(m, 30_000_000, 5)).isCloseTo(20_000_000, within(40_000.0));
        assertThat(m.counters(5_000 * MS).crossTrafficPackets()).isZero();
    }

    @Test
    void countersAddUp() {
        var m = new LinkModel(LinkConfig.ofRateBps(1_000_000).withQueueLimitBytes(10 * 1228).withLossRatio(0.2));
        int delivered = 0;
        for (int i = 0; i < 100; i++) {
            if (m.offer(0, 1200).delivered()) {
                delivered++;
            }
        }
        LinkModel.Counters c = m.counters(0);
        assertThat(c.packetsIn()).isEqualTo(100);
        assertThat(c.payloadBytesIn()).isEqualTo(120_000);
        assertThat(delivered).isEqualTo(10);
        assertThat(c.packetsLost() + c.packetsDroppedByQueue()).isEqualTo(90);
        assertThat(c.backlogWireBytes()).isEqualTo(10 * 1228);
    }

    /// Offers 1200-byte datagrams at `offeredBps` for `seconds` and measures the wire rate of
    /// those departing after the first second (the queue has filled by then).
    private static double deliveredWireRateBps(LinkModel m, long offeredBps, int seconds) {
        long gapNs = 1228L * 8 * 1_000_000_000L / offeredBps;
        long endNs = seconds * 1_000 * MS;
        long bytes = 0;
        long first = -1;
        long last = -1;
        for (long t = 0; t < endNs; t += gapNs) {
            Verdict v = m.offer(t, 1200);
            if (v.delivered() && v.departureNs() > 1_000 * MS && v.departureNs() <= endNs) {
                if (first < 0) {
                    first = v.departureNs();
                } else {
                    bytes += 1228;
                }
                last = v.departureNs();
            }
        }
        return bytes * 8 * 1e9 / (last - first);
    }
}
