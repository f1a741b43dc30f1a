package io.quaver;

import io.quaver.internal.Engine;
import io.quaver.testkit.LinkConfig;
import io.quaver.testkit.LinkEmulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/// The SDK sample's adaptive loop end to end over the in-process [LinkEmulator]: the sink's UDP
/// port sits behind an emulated 20 Mbit/s bottleneck; an adaptive flow polls fundamentals until
/// estimates exist, sets its rate with SHAPE_AND_MARK, cross traffic beyond the bottleneck
/// makes the path congested (Congested completes), the flow drops to a tenth and waits for
/// Available at its original rate, which completes once the cross traffic stops.
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AdaptiveLoopEmulatedTest {
    private static final long RATE_BPS = 20_000_000L;

    private static long forwardDrops(LinkEmulator link) {
        return link.forward().stats().packetsDroppedByQueue();
    }

    /// Registers for Congested on a clean path and checks that it stays pending for 500 ms.
    ///
    /// The in-process emulator is itself a program: on a loaded host it is descheduled, what
    /// arrived meanwhile reaches its bottleneck at once, and the queue drops packets (100 of
    /// 800 were seen at start-up under load). A path that drops is not clean and Congested is
    /// then right, so the check is made over a stretch without drops: first wait until the
    /// link has dropped nothing for a second and the path is uncongested; should the link drop
    /// again during the 500 ms and Congested complete, that stretch did not count, and the
    /// check is made again (up to 5 times).
    private static java.util.concurrent.CompletableFuture<Void> notifyCongestedOnACleanPath(
            QosFlow flow, LinkEmulator link, InetAddress lo, int sinkPort) throws Exception {
        for (int attempt = 1; ; attempt++) {
            long settleDeadline = System.nanoTime() + 15_000_000_000L;
            long drops = forwardDrops(link);
            long quietSince = System.nanoTime();
            while (System.nanoTime() - quietSince < 1_000_000_000L && System.nanoTime() - settleDeadline < 0) {
                Thread.sleep(50);
                long now = forwardDrops(link);
                if (now != drops) {
                    drops = now;
                    quietSince = System.nanoTime();
                }
            }
            flow.notifyUncongested().get(15, TimeUnit.SECONDS);
            long dropsBefore = forwardDrops(link);
            var congested = flow.notifyCongested();
            Thread.sleep(500);
            long dropped = forwardDrops(link) - dropsBefore;
            String clean = "attempt " + attempt + ", " + dropped + " dropped meanwhile, last transition "
                    + Engine.embedded().adaptive().lastTransition(flow.id()) + ", stalled probegaps "
                    + Engine.embedded().tracking().prober(lo, sinkPort).map(p -> p.stalledProbegaps()).orElse(-1L)
                    + ", forward " + link.forward().stats() + ", reverse " + link.reverse().stats();
            System.out.println("clean phase: " + clean);
            if (congested.isDone() && dropped > 0 && attempt < 5) {
                continue; // the emulator dropped: not a clean path
            }
            assertThat(congested).as("a clean path is not congested: %s", clean).isNotDone();
            return congested;
        }
    }

    @Test
    void congestedThenAvailableAcrossCrossTraffic() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(lo).withPort(0));
             LinkEmulator link = LinkEmulator.builder()
                     .target(new InetSocketAddress(lo, sink.port()))
                     .forward(LinkConfig.ofRateBps(RATE_BPS).withDelayNs(2_000_000))
                     .reverse(LinkConfig.unshaped().withDelayNs(2_000_000))
                     .build()) {
            Engine.embedded().tracking().setProberConfigHook(
                    c -> c.withProbeTarget(link.ingressAddress()).withRouteCheck(false));
            try (QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false)
                    .withSinkPort(sink.port()));
                 DatagramChannel socket = DatagramChannel.open()) {
                socket.connect(new InetSocketAddress(lo, 9));
                QosFlow flow = qos.addFlow(socket, null, TrafficType.AUDIO_VIDEO, FlowMode.ADAPTIVE);
                FlowFundamentals f = null;
                for (int i = 0; i < 200 && f == null; i++) {
                    try {
                        f = flow.fundamentals(false);
                        if (f.availableBps().isEmpty() || f.bottleneckBps().isEmpty()) {
                            f = null;
                        }
                    } catch (QosException e) {
                        // estimates not there yet
                    }
                    if (f == null) {
                        Thread.sleep(50);
                    }
                }
                assertThat(f).as("estimates within 10 s").isNotNull();
                long rate = 1_000_000;
                flow.setOutgoingRate(OutgoingRate.of(rate, Shaping.SHAPE_AND_MARK), Duration.ofSeconds(15));
                var congested = notifyCongestedOnACleanPath(flow, link, lo, sink.port());
                long onset = System.nanoTime();
                link.forward().setCrossTrafficBps(RATE_BPS * 12 / 10);
                congested.get(20, TimeUnit.SECONDS);
                System.out.printf("Congested %d ms after the cross traffic started%n",
                        (System.nanoTime() - onset) / 1_000_000);
                flow.setOutgoingRate(OutgoingRate.of(rate / 10, Shaping.SHAPE_AND_MARK));
                var available = flow.notifyAvailable(rate);
                assertThat(available).as("no headroom while congested").isNotDone();
                long off = System.nanoTime();
                link.forward().setCrossTrafficBps(0);
                long bps = available.get(30, TimeUnit.SECONDS);
                System.out.printf("Available (%d bit/s) %d ms after the cross traffic stopped%n", bps,
                        (System.nanoTime() - off) / 1_000_000);
                assertThat(bps).isGreaterThanOrEqualTo(rate);
                flow.setOutgoingRate(OutgoingRate.of(rate, Shaping.SHAPE_AND_MARK), Duration.ofSeconds(15));
                assertThat(flow.outgoingRate().bandwidthBps()).isEqualTo(rate);
            } finally {
                Engine.embedded().tracking().setProberConfigHook(null);
            }
        }
    }
}
