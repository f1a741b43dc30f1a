package io.quaver.internal.qlpb;

import io.quaver.internal.qlpb.PacketPairTrain.Outcome;
import io.quaver.internal.qlpb.QlpbMessage.PacketPairSummary;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The sink's packet-pair train acceptance ([MS-QLPB] §3.2.5.5), in virtual time.
class PacketPairTrainTest {

    @Test
    void aCompleteTrainGivesTrainSizeMinusOneDeltasInArrivalOrder() {
        PacketPairTrain train = new PacketPairTrain();
        long[] arrivals = {1_000, 1_012, 1_030, 1_031};
        assertThat(train.onProbe(100, 4, true, 1200, arrivals[0])).isEqualTo(Outcome.STARTED);
        assertThat(train.onProbe(101, 4, false, 1200, arrivals[1])).isEqualTo(Outcome.ACCEPTED);
        assertThat(train.onProbe(102, 4, false, 1200, arrivals[2])).isEqualTo(Outcome.ACCEPTED);
        assertThat(train.onProbe(103, 4, false, 1200, arrivals[3])).isEqualTo(Outcome.COMPLETED);
        assertThat(train.inProgress()).isFalse();
        assertThat(train.summary(1_000_000_000L)).isEqualTo(new PacketPairSummary(100, 1_000_000_000L,
                new long[] {12, 18, 1}));
    }

    @Test
    void onlyConsecutiveSameSizeSameTrainProbesCount() {
        PacketPairTrain train = new PacketPairTrain();
        train.onProbe(10, 3, true, 500, 0);
        assertThat(train.onProbe(12, 3, false, 500, 1)).as("gap").isEqualTo(Outcome.IGNORED);
        assertThat(train.onProbe(10, 3, false, 500, 1)).as("repeat").isEqualTo(Outcome.IGNORED);
        assertThat(train.onProbe(11, 4, false, 500, 1)).as("other train size").isEqualTo(Outcome.IGNORED);
        assertThat(train.onProbe(11, 3, false, 501, 1)).as("other probe size").isEqualTo(Outcome.IGNORED);
        assertThat(train.onProbe(11, 3, false, 500, 5)).isEqualTo(Outcome.ACCEPTED);
        assertThat(train.onProbe(12, 3, false, 500, 9)).isEqualTo(Outcome.COMPLETED);
        assertThat(train.summary(0).timestampDeltas100ns()).containsExactly(5, 4);
        assertThat(train.onProbe(13, 3, false, 500, 10)).as("after the end").isEqualTo(Outcome.IGNORED);
    }

    @Test
    void nothingBeforeAFirstProbeAndAFirstProbeRestarts() {
        PacketPairTrain train = new PacketPairTrain();
        assertThat(train.onProbe(1, 2, false, 100, 0)).isEqualTo(Outcome.IGNORED);
        assertThat(train.onProbe(0, 0, true, 100, 0)).as("filler").isEqualTo(Outcome.IGNORED);
        train.onProbe(1, 3, true, 100, 0);
        train.onProbe(2, 3, false, 100, 1);
        assertThat(train.onProbe(50, 2, true, 100, 7)).isEqualTo(Outcome.STARTED);
        assertThat(train.onProbe(51, 2, false, 100, 10)).isEqualTo(Outcome.COMPLETED);
        assertThat(train.summary(0)).isEqualTo(new PacketPairSummary(50, 0, new long[] {3}));
    }

    @Test
    void sequenceNumbersWrapAround() {
        PacketPairTrain train = new PacketPairTrain();
        train.onProbe(0xFFFF_FFFEL, 4, true, 64, 0);
        assertThat(train.onProbe(0xFFFF_FFFFL, 4, false, 64, 1)).isEqualTo(Outcome.ACCEPTED);
        assertThat(train.onProbe(0, 4, false, 64, 2)).isEqualTo(Outcome.ACCEPTED);
        assertThat(train.onProbe(1, 4, false, 64, 3)).isEqualTo(Outcome.COMPLETED);
        assertThat(train.summary(0).sequence()).isEqualTo(0xFFFF_FFFEL);
    }

    @Test
    void aLaterTrainOnTheSameSessionIsAcceptedAndLongTrainsGrowTheBuffer() {
        PacketPairTrain train = new PacketPairTrain();
        for (int round = 0; round < 3; round++) {
            int size = 16 + round * 500;
            long base = round * 10_000L;
            assertThat(train.onProbe(base, size, true, 1000, 0)).isEqualTo(Outcome.STARTED);
            for (int i = 1; i < size - 1; i++) {
                assertThat(train.onProbe(base + i, size, false, 1000, i * 3L)).isEqualTo(Outcome.ACCEPTED);
            }
            assertThat(train.onProbe(base + size - 1, size, false, 1000, (size - 1) * 3L))
                    .isEqualTo(Outcome.COMPLETED);
            assertThat(train.summary(0).timestampDeltas100ns()).hasSize(size - 1).containsOnly(3L);
        }
    }

    @Test
    void interfaceSpeedIsClampedToTheField() {
        PacketPairTrain train = new PacketPairTrain();
        assertThatThrownBy(() -> train.summary(0)).isInstanceOf(IllegalStateException.class);
        train.onProbe(1, 2, true, 10, 0);
        train.onProbe(2, 2, false, 10, 0);
        assertThat(train.summary(10_000_000_000L).interfaceSpeedBps()).isEqualTo(0xFFFF_FFFFL);
        assertThat(train.summary(0).timestampDeltas100ns()).containsExactly(0);
    }
}
