package io.quaver.internal.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/// [RealtimeClockMapper] in virtual time: a real-time clock that runs `OFFSET` ahead of the
/// monotonic one, read with brackets of chosen widths and errors.
class RealtimeClockMapperTest {
    private static final long SECOND = 1_000_000_000L;
    /// Real-time minus monotonic: the epoch of 2026 against a clock started at boot.
    private static final long OFFSET = 1_795_000_000L * SECOND - 3_600 * SECOND;

    private final RealtimeClockMapper mapper = new RealtimeClockMapper(SECOND, 60 * SECOND);

    /// A sample taken at monotonic `monoNs` with a bracket of `bracketNs`, the real-time read
    /// landing `skewNs` after the bracket's midpoint (what preemption inside it looks like).
    private void sample(long monoNs, long bracketNs, long skewNs, long offsetNs) {
        long before = monoNs - bracketNs / 2;
        mapper.sample(before, monoNs + offsetNs + skewNs, before + bracketNs);
    }

    @Test
    void theNarrowestBracketOfARoundWins() {
        long t = 10 * SECOND;
        sample(t, 40_000, 15_000, OFFSET);  // preempted just after the real-time read
        sample(t + 50_000, 200, 0, OFFSET); // clean
        sample(t + 90_000, 9_000, -4_000, OFFSET);
        assertThat(mapper.isReady()).isFalse();
        assertThat(mapper.endRound(t + 100_000)).isTrue();

        assertThat(mapper.isReady()).isTrue();
        assertThat(mapper.uncertaintyNs()).isEqualTo(100);
        assertThat(mapper.offsetNs()).isEqualTo(OFFSET);
        // a kernel timestamp 70 ms before t maps to 70 ms before t
        assertThat(mapper.toMonotonicNs(t + OFFSET - 70_000_000)).isEqualTo(t - 70_000_000);
    }

    @Test
    void aRoundIsDueAtStartThenEveryInterval() {
        assertThat(mapper.refreshDue(0)).isTrue();
        sample(0, 100, 0, OFFSET);
        mapper.endRound(0);
        assertThat(mapper.refreshDue(SECOND - 1)).isFalse();
        assertThat(mapper.refreshDue(SECOND)).isTrue();
        // a round without samples changes nothing
        assertThat(mapper.endRound(SECOND)).isFalse();
        assertThat(mapper.refreshDue(SECOND)).isTrue();
    }

    @Test
    void aPreciseOffsetIsKeptAgainstLessPreciseConsistentRounds() {
        sample(0, 100, 0, OFFSET);
        mapper.endRound(0);
        // every later round was preempted: wide brackets, offsets off by up to half of them
        for (int i = 1; i < 60; i++) {
            sample(i * SECOND, 30_000, (i % 2 == 0 ? 1 : -1) * 12_000, OFFSET);
            assertThat(mapper.endRound(i * SECOND)).isFalse();
            assertThat(mapper.offsetNs()).isEqualTo(OFFSET);
        }
        // ... until the precise one is a minute old: then the fresh one counts
        sample(60 * SECOND, 30_000, 12_000, OFFSET);
        assertThat(mapper.endRound(60 * SECOND)).isTrue();
        assertThat(mapper.offsetNs()).isEqualTo(OFFSET + 12_000);
        assertThat(mapper.uncertaintyNs()).isEqualTo(15_000);
        // and an equally precise round replaces it at once
        sample(61 * SECOND, 300, 0, OFFSET);
        assertThat(mapper.endRound(61 * SECOND)).isTrue();
        assertThat(mapper.offsetNs()).isEqualTo(OFFSET);
    }

    @Test
    void aSteppedRealTimeClockIsFollowedAtTheNextRound() {
        sample(0, 100, 0, OFFSET);
        mapper.endRound(0);
        long stepped = OFFSET - 250_000_000; // settimeofday: the wall clock went back 250 ms
        sample(SECOND, 20_000, 0, stepped); // less precise, but far outside both uncertainties
        assertThat(mapper.endRound(SECOND)).isTrue();
        assertThat(mapper.offsetNs()).isEqualTo(stepped);
        assertThat(mapper.toMonotonicNs(5 * SECOND + stepped)).isEqualTo(5 * SECOND);
    }

    @Test
    void aDisagreementWithinTheUncertaintiesIsNotAStep() {
        sample(0, 100, 0, OFFSET);
        mapper.endRound(0);
        sample(SECOND, 20_000, 0, OFFSET + 10_000 + RealtimeClockMapper.STEP_TOLERANCE_NS);
        assertThat(mapper.endRound(SECOND)).isFalse();
        assertThat(mapper.offsetNs()).isEqualTo(OFFSET);
    }

    @Test
    void invalidateForcesARoundAndItsAdoption() {
        sample(0, 100, 0, OFFSET);
        mapper.endRound(0);
        mapper.invalidate();
        assertThat(mapper.refreshDue(1)).isTrue();
        sample(2, 30_000, 10_000, OFFSET);
        assertThat(mapper.endRound(2)).isTrue();
        assertThat(mapper.offsetNs()).isEqualTo(OFFSET + 10_000);
    }

    @Test
    void theMappingIsExactWhateverTheEpochsAre() {
        // System.nanoTime() may have any origin, negative readings included
        long mono = Long.MIN_VALUE + 5 * SECOND;
        long real = 1_795_000_000L * SECOND;
        mapper.sample(mono - 50, real, mono + 50);
        mapper.endRound(mono + 50);
        assertThat(mapper.toMonotonicNs(real - 200_000_000)).isEqualTo(mono - 200_000_000);
        assertThat(mapper.toMonotonicNs(real + 7)).isEqualTo(mono + 7);
    }

    @Test
    void aBackwardsBracketIsIgnored() {
        mapper.sample(1_000, OFFSET, 900);
        assertThat(mapper.endRound(1_000)).isFalse();
        assertThat(mapper.isReady()).isFalse();
    }

    @Test
    void invalidParametersAreRefused() {
        assertThatThrownBy(() -> new RealtimeClockMapper(0, SECOND)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RealtimeClockMapper(SECOND, SECOND - 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void arrivalTimesAreClampedOrRejectedAgainstTheCallersReading() {
        long user = 42 * SECOND;
        // earlier than the reading: as mapped, up to a minute back
        assertThat(KernelReceiveTimestamps.arrivalNs(user - 300_000_000, user)).isEqualTo(user - 300_000_000);
        assertThat(KernelReceiveTimestamps.arrivalNs(user - KernelReceiveTimestamps.MAX_AGE_NS, user))
                .isEqualTo(user - KernelReceiveTimestamps.MAX_AGE_NS);
        assertThat(KernelReceiveTimestamps.arrivalNs(user - KernelReceiveTimestamps.MAX_AGE_NS - 1, user))
                .isEqualTo(Long.MIN_VALUE);
        // slightly after it (the mapping's uncertainty, or the kernel's "now" for an
        // unstamped datagram): the reading itself
        assertThat(KernelReceiveTimestamps.arrivalNs(user + 3_000, user)).isEqualTo(user);
        assertThat(KernelReceiveTimestamps.arrivalNs(user + KernelReceiveTimestamps.MAX_AHEAD_NS, user))
                .isEqualTo(user);
        // further ahead: not believed
        assertThat(KernelReceiveTimestamps.arrivalNs(user + KernelReceiveTimestamps.MAX_AHEAD_NS + 1, user))
                .isEqualTo(Long.MIN_VALUE);
    }
}
