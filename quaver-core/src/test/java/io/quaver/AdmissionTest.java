package io.quaver;

import io.quaver.internal.AdaptiveFlows;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/// Admission control of adaptive flows' rates (issue 5; qwave.md §5.7; decisions.md item 6):
/// 1237 without estimates, 54 when the path cannot carry the rate (the flow stays unmarked),
/// the rates admitted to other flows towards the same path count, re-admission after
/// Available, off-link always admitted. Estimates are injected through [AdaptiveFlows]' seam.
class AdmissionTest extends AdaptiveSeamFixture {
    private static final int SINK_PORT = 40_978;

    AdmissionTest() {
        super(SINK_PORT);
    }

    private static int tos(NetworkChannel c) throws IOException {
        return c.getOption(StandardSocketOptions.IP_TOS);
    }

    private static OutgoingRate rate(long bps) {
        return OutgoingRate.of(bps, Shaping.SHAPE_AND_MARK);
    }

    @Test
    void withoutEstimatesTheRequestIsRetry() throws IOException {
        DatagramChannel s = socket(PEER);
        QosFlow flow = qos.addFlow(s, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        assertError(() -> flow.setOutgoingRate(rate(1_000_000)), QosError.RETRY);
        assertThat(tos(s)).isZero();
        assertError(flow::outgoingRate, QosError.NO_DATA);
        adaptive.injectEstimates(PEER, SINK_PORT, 10_000_000, -1);
        assertError(() -> flow.setOutgoingRate(rate(1_000_000)), QosError.RETRY);
        // a rate of 0 needs no estimates
        flow.setOutgoingRate(rate(0));
    }

    @Test
    void aRateThePathCannotCarryIsNetworkBusyAndTheFlowStaysUnmarked() throws IOException {
        DatagramChannel s = socket(PEER);
        QosFlow flow = qos.addFlow(s, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        adaptive.injectEstimates(PEER, SINK_PORT, 10_000_000, 3_000_000);
        assertError(() -> flow.setOutgoingRate(rate(20_000_000)), QosError.NETWORK_BUSY);
        assertError(() -> flow.setOutgoingRate(rate(5_000_000)), QosError.NETWORK_BUSY);
        assertThat(tos(s)).isZero();
        assertError(flow::outgoingRate, QosError.NO_DATA);
        flow.setOutgoingRate(rate(2_000_000));
        assertThat(tos(s)).isEqualTo(0xA0);
        assertThat(flow.outgoingRate().bandwidthBps()).isEqualTo(2_000_000);
    }

    @Test
    void ratesAdmittedToOtherFlowsTowardsThePathCount() throws IOException {
        QosFlow first = qos.addFlow(socket(PEER), null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        DatagramChannel s2 = socket(PEER);
        QosFlow second = qos.addFlow(s2, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        adaptive.injectEstimates(PEER, SINK_PORT, 10_000_000, 9_000_000);
        first.setOutgoingRate(rate(6_000_000));
        // 6 + 6 Mbit/s reserved exceed the 10 Mbit/s bottleneck, although 9 Mbit/s look free
        assertError(() -> second.setOutgoingRate(rate(6_000_000)), QosError.NETWORK_BUSY);
        assertThat(tos(s2)).isZero();
        second.setOutgoingRate(rate(4_000_000));
        first.close();
        second.setOutgoingRate(rate(8_000_000));
    }

    @Test
    void withPatienceTheRateIsRetriedUntilEstimatesArriveOrThePatienceRunsOut() throws Exception {
        QosFlow flow = qos.addFlow(socket(PEER), null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        long t0 = System.nanoTime();
        assertError(() -> flow.setOutgoingRate(rate(1_000_000), Duration.ofMillis(300)), QosError.RETRY);
        assertThat(System.nanoTime() - t0).as("retried for the patience").isGreaterThanOrEqualTo(300_000_000L);
        assertError(() -> flow.setOutgoingRate(rate(1_000_000), Duration.ofMillis(-1)), QosError.INVALID_PARAMETER);
        assertError(() -> flow.setOutgoingRate(rate(1_000_000), null), QosError.INVALID_PARAMETER);

        Thread estimates = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            adaptive.injectEstimates(PEER, SINK_PORT, 10_000_000, 8_000_000);
        });
        flow.setOutgoingRate(rate(1_000_000), Duration.ofSeconds(30));
        estimates.join();
        assertThat(flow.outgoingRate().bandwidthBps()).as("admitted once estimates arrived").isEqualTo(1_000_000);

        flow.close();
        long t1 = System.nanoTime();
        assertError(() -> flow.setOutgoingRate(rate(1_000_000), Duration.ofSeconds(30)), QosError.NOT_FOUND);
        assertThat(System.nanoTime() - t1).as("other errors are thrown at once").isLessThan(10_000_000_000L);
    }

    @Test
    void aRefusedRateIsAdmittedAfterAvailableFires() throws Exception {
        QosFlow flow = qos.addFlow(socket(PEER), null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        adaptive.injectEstimates(PEER, SINK_PORT, 100_000_000, 2_500_000);
        flow.setOutgoingRate(rate(2_000_000));
        assertError(() -> flow.setOutgoingRate(rate(5_000_000)), QosError.NETWORK_BUSY);
        assertThat(flow.outgoingRate().bandwidthBps()).as("the admitted rate stays").isEqualTo(2_000_000);
        CompletableFuture<Long> available = flow.notifyAvailable(5_000_000);
        long now = System.nanoTime();
        adaptive.injectAvailable(PEER, SINK_PORT, now - 600_000_000L, 8_000_000);
        adaptive.injectAvailable(PEER, SINK_PORT, now, 8_000_000);
        assertThat(available.get(5, TimeUnit.SECONDS)).isEqualTo(8_000_000L);
        flow.setOutgoingRate(rate(5_000_000));
        assertThat(flow.outgoingRate().bandwidthBps()).isEqualTo(5_000_000);
    }

    @Test
    void offLinkDestinationsAreAlwaysAdmitted() throws IOException {
        DatagramChannel s;
        try {
            s = socket(new InetSocketAddress("198.51.100.1", 9)); // TEST-NET-2
        } catch (IOException e) {
            assumeTrue(false, "no route towards an off-link address: " + e);
            return;
        }
        assumeTrue(!io.quaver.internal.probe.OnLink.isOnLink(InetAddress.getByName("198.51.100.1")),
                "198.51.100.1 is on-link on this host");
        QosFlow flow = qos.addFlow(s, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
        flow.setOutgoingRate(rate(50_000_000));
        assertThat(tos(s)).isEqualTo(0xA0);
        assertError(flow::notifyCongested, QosError.ACCESS_DISABLED_BY_POLICY);
    }
}
