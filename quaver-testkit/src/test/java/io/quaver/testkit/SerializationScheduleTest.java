package io.quaver.testkit;

import static io.quaver.testkit.SerializationSchedule.DROPPED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SerializationScheduleTest {
    private static final long MS = 1_000_000L;

    @Test
    void backToBackDatagramsDepartOneSerialisationTimeApart() {
        // 1200 B payload + 28 B IPv4/UDP = 1228 B = 9824 bits; at 10 Mbit/s exactly 982 400 ns each.
        var s = new SerializationSchedule(10_000_000, SerializationSchedule.UNLIMITED_QUEUE);
        assertThat(s.offer(0, 1228)).isEqualTo(982_400);
        assertThat(s.offer(0, 1228)).isEqualTo(1_964_800);
        assertThat(s.offer(100, 1228)).isEqualTo(2_947_200);
        assertThat(s.serializationNs(1228)).isEqualTo(982_400);
    }

    @Test
    void idleLinkStartsSerialisingAtArrival() {
        var s = new SerializationSchedule(50_000_000, SerializationSchedule.UNLIMITED_QUEUE);
        assertThat(s.offer(0, 1228)).isEqualTo(196_480);
        assertThat(s.offer(10 * MS, 1228)).isEqualTo(10 * MS + 196_480);
    }

    @Test
    void subNanosecondRemaindersAreCarriedWithoutDrift() {
        // 8 bits at 3 Mbit/s = 2666.67 ns: 2666, 5333, 8000 exactly after three.
        var s = new SerializationSchedule(3_000_000, SerializationSchedule.UNLIMITED_QUEUE);
        assertThat(s.offer(0, 1)).isEqualTo(2_666);
        assertThat(s.offer(0, 1)).isEqualTo(5_333);
        assertThat(s.offer(0, 1)).isEqualTo(8_000);
        long last = 0;
        for (int i = 0; i < 3_000; i++) {
            last = s.offer(0, 1);
        }
        assertThat(last).isEqualTo(8_000 + 8_000_000);
    }

    @Test
    void tailDropAtTheQueueLimitCountingThePacketBeingSerialised() {
        var s = new SerializationSchedule(10_000_000, 3 * 1228);
        assertThat(s.offer(0, 1228)).isEqualTo(982_400);
        assertThat(s.offer(0, 1228)).isEqualTo(1_964_800);
        assertThat(s.offer(0, 1228)).isEqualTo(2_947_200);
        assertThat(s.offer(0, 1228)).isEqualTo(DROPPED);
        assertThat(s.backlogBytes(0)).isEqualTo(3 * 1228);
        assertThat(s.backlogBytes(982_399)).isEqualTo(3 * 1228);
        // The first one has left: room for exactly one more, which goes behind the others.
        assertThat(s.backlogBytes(982_400)).isEqualTo(2 * 1228);
        assertThat(s.offer(982_400, 1228)).isEqualTo(3_929_600);
        assertThat(s.offer(982_400, 1)).isEqualTo(DROPPED);
        assertThat(s.backlogBytes(10 * MS)).isZero();
    }

    @Test
    void crossTrafficSharesTheLinkButIsAdmittedAgainstItsOwnShare() {
        var s = new SerializationSchedule(8_000_000, 2_000); // 1 byte = 1 µs
        assertThat(s.offer(0, 1_000)).isEqualTo(1_000_000);
        assertThat(s.offer(0, 1_000)).isEqualTo(2_000_000);
        assertThat(s.offer(0, 1_000)).isEqualTo(DROPPED);
        // The queue is full of real traffic, yet cross traffic is admitted and occupies the link.
        assertThat(s.offerCross(0, 1_000)).isEqualTo(3_000_000);
        assertThat(s.backlogBytes(0)).isEqualTo(3_000);
        assertThat(s.crossBacklogBytes(0)).isEqualTo(1_000);
        assertThat(s.offerCross(0, 1_000)).isEqualTo(4_000_000);
        assertThat(s.offerCross(0, 1)).isEqualTo(DROPPED);
        // Real traffic waits behind the cross traffic.
        assertThat(s.offer(2_000_000, 1_000)).isEqualTo(DROPPED); // backlog 2000 at t=2ms
        assertThat(s.offer(3_000_000, 1_000)).isEqualTo(5_000_000);
    }

    @Test
    void unlimitedRateNeverQueues() {
        var s = new SerializationSchedule(SerializationSchedule.UNLIMITED_RATE, 0);
        assertThat(s.offer(5, 60_000)).isEqualTo(5);
        assertThat(s.backlogBytes(5)).isZero();
        assertThat(s.serializationNs(60_000)).isZero();
    }

    @Test
    void rateChangeAppliesToLaterArrivalsOnly() {
        var s = new SerializationSchedule(8_000_000, SerializationSchedule.UNLIMITED_QUEUE);
        assertThat(s.offer(0, 1_000)).isEqualTo(1_000_000);
        s.setRateBps(16_000_000);
        assertThat(s.offer(0, 1_000)).isEqualTo(1_500_000);
        s.setRateBps(SerializationSchedule.UNLIMITED_RATE);
        assertThat(s.offer(100, 1_000)).isEqualTo(100);
    }

    @Test
    void earlierArrivalTimesAreTreatedAsTheLatestSeen() {
        var s = new SerializationSchedule(8_000_000, SerializationSchedule.UNLIMITED_QUEUE);
        assertThat(s.offer(5_000_000, 1_000)).isEqualTo(6_000_000);
        assertThat(s.offer(4_000_000, 1_000)).isEqualTo(7_000_000);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new SerializationSchedule(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        var s = new SerializationSchedule(1, 0);
        assertThatThrownBy(() -> s.offer(0, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.offer(0, SerializationSchedule.MAX_WIRE_BYTES + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
