package io.quaver.internal.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.quaver.QosSink;
import io.quaver.SinkOptions;
import io.quaver.internal.platform.Platform;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// The initiator against a real [QosSink] on loopback.
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClientProberTest {

    static long proberThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("quaver-prober-") && t.isAlive()).count();
    }

    @Test
    void measuresALoopbackSinkAndLeavesNothingBehind() throws Exception {
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(InetAddress.getLoopbackAddress())
                .withPort(0))) {
            var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), sink.port());
            AtomicReference<Boolean> routeCheck = new AtomicReference<>();
            ClientProber prober = ClientProber.start(ProberConfig.of(target, true, Platform.current()),
                    new InterimPathModel(), "test");
            prober.onRouteCheck(routeCheck::set);
            java.util.concurrent.atomic.AtomicLong observed = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicReference<PathEstimates> lastSeen = new AtomicReference<>();
            prober.setObserver(new ProbeObserver() {
                @Override
                public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs) {
                    observed.incrementAndGet();
                }

                @Override
                public void onEstimates(long nowNs, PathEstimates estimates) {
                    lastSeen.set(estimates);
                }
            });
            try {
                assertThat(prober.awaitFirstHandshake(Duration.ofSeconds(2))).isEqualTo(ClientProber.Status.REACHABLE);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (prober.firstEstimateAfterNs() < 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                PathEstimates e = prober.estimates();
                assertThat(e.bottleneckBps()).isPresent();
                assertThat(e.availableBps()).isPresent();
                assertThat(e.rttUs()).isPresent();
                assertThat(e.rttUs().getAsLong()).isBetween(1L, 20_000L);
                assertThat(prober.firstEstimateAfterNs()).as("time to first estimate").isLessThan(2_000_000_000L);
                while (routeCheck.get() == null && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(routeCheck.get()).as("loopback passes the route check").isTrue();
                assertThat(prober.prioritySupported()).isTrue();

                assertThat(observed.get()).as("probegap samples seen by the observer").isPositive();
                assertThat(lastSeen.get().bottleneckBps()).isPresent();
                PathEstimates fresh = prober.fresh(Duration.ofSeconds(3));
                assertThat(fresh).isNotNull();
                assertThat(prober.probeBytesSent()).isPositive();
            } finally {
                prober.close();
            }
            assertThat(prober.status()).isEqualTo(ClientProber.Status.CLOSED);
            assertThat(proberThreads()).isZero();
        }
    }

    /// A probe whose send "stalled" (here: every send, threshold 0) has its sample withdrawn;
    /// its reflection still arrives and must reach the model and the observer as an arrival,
    /// so that the congestion detector does not count it as lost.
    @Test
    void withdrawnProbegapSamplesStillCountAsArrivals() throws Exception {
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(InetAddress.getLoopbackAddress())
                .withPort(0))) {
            var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), sink.port());
            var monitor = new io.quaver.internal.adaptive.PathMonitor();
            java.util.concurrent.atomic.AtomicLong samples = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicLong arrivals = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicLong observedArrivals = new java.util.concurrent.atomic.AtomicLong();
            InterimPathModel inner = new InterimPathModel();
            PathModel model = new PathModel() {
                @Override
                public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
                    inner.onTrain(nowNs, probeIpBytes, deltas100ns, interfaceSpeedBps);
                }

                @Override
                public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns,
                                       long recvNs, int probeIpBytes) {
                    samples.incrementAndGet();
                    monitor.onProbe(recvNs, sequence, sendNs, sinkRecv100ns * 100);
                }

                @Override
                public void onProbegapArrival(long sequence, long recvNs) {
                    arrivals.incrementAndGet();
                    monitor.onArrival(recvNs, sequence);
                }

                @Override
                public PathEstimates estimates(long nowNs) {
                    return inner.estimates(nowNs);
                }
            };
            try (ClientProber prober = ClientProber.start(ProberConfig.of(target, true, Platform.current()), model,
                    null, "stall", 0)) {
                prober.setObserver(new ProbeObserver() {
                    @Override
                    public void onProbegapArrival(long sequence, long recvNs) {
                        observedArrivals.incrementAndGet();
                    }
                });
                prober.setActive(true);
                assertThat(prober.awaitFirstHandshake(Duration.ofSeconds(2))).isEqualTo(ClientProber.Status.REACHABLE);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (arrivals.get() < 200 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(prober.stalledProbegaps()).as("every send counts as stalled").isPositive();
                assertThat(arrivals.get()).as("withdrawn probes whose reflection arrived").isGreaterThanOrEqualTo(200);
                assertThat(observedArrivals.get()).as("the observer sees them too").isPositive();
                var reading = monitor.detector().reading(System.nanoTime());
                assertThat(reading.lossFraction()).as("arrivals are not loss (samples %d, arrivals %d)",
                        samples.get(), arrivals.get()).isBetween(0.0, 0.05);
                assertThat(monitor.state()).isEqualTo(io.quaver.internal.adaptive.CongestionState.UNCONGESTED);
            }
        }
        assertThat(proberThreads()).isZero();
    }

    @Test
    void measuresOverIpv6WithHopLimitOne() throws Exception {
        // IPv6 loopback is on every Linux host this runs on (other tests mark ::1 traffic too);
        // without it this test fails rather than skips.
        InetAddress v6 = InetAddress.getByName("::1");
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(v6).withPort(0));
             ClientProber prober = ClientProber.start(ProberConfig.of(new InetSocketAddress(v6, sink.port()), true,
                     Platform.current()), new InterimPathModel(), "v6")) {
            assertThat(prober.awaitFirstHandshake(Duration.ofSeconds(2))).isEqualTo(ClientProber.Status.REACHABLE);
            PathEstimates e = prober.fresh(Duration.ofSeconds(5));
            assertThat(e).isNotNull();
            assertThat(e.bottleneckBps()).isPresent();
        }
        assertThat(proberThreads()).isZero();
    }

    @Test
    void noSinkMeansUnreachableQuicklyAndFreshGivesNothing() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        long t0 = System.nanoTime();
        try (ClientProber prober = ClientProber.start(ProberConfig.of(target, true, Platform.current()),
                new InterimPathModel(), "nosink")) {
            assertThat(prober.awaitFirstHandshake(Duration.ofSeconds(2))).isEqualTo(ClientProber.Status.UNREACHABLE);
            assertThat(System.nanoTime() - t0).isLessThan(1_000_000_000L);
            assertThat(prober.fresh(Duration.ofSeconds(2))).isNull();
            assertThat(prober.estimates().any()).isFalse();
        }
        assertThat(proberThreads()).isZero();
    }

    /// A paced stream (Spruce): the sender spaces the probes by the asked gap, the sink's summary
    /// comes back as usual, and the model gets it as a stream with the send times, not as a
    /// train.
    @Test
    void pacedStreamIsSentAtItsGapAndReachesTheModelAsAStream() throws Exception {
        long gapNs = 1_000_000;
        int count = 30;
        java.util.concurrent.CompletableFuture<long[][]> stream = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.atomic.AtomicInteger trains = new java.util.concurrent.atomic.AtomicInteger();
        PathModel model = new PathModel() {
            @Override
            public void onTrain(long nowNs, int probeIpBytes, long[] deltas100ns, long interfaceSpeedBps) {
                trains.incrementAndGet();
            }

            @Override
            public void onStream(long nowNs, int probeIpBytes, long[] deltas100ns, long[] sendNs) {
                stream.complete(new long[][] {deltas100ns, sendNs});
            }

            @Override
            public void onProbegap(long sequence, long sendNs, long sinkRecv100ns, long sinkSend100ns, long recvNs,
                                   int probeIpBytes) {
            }

            @Override
            public PathEstimates estimates(long nowNs) {
                return PathEstimates.NONE;
            }
        };
        ProbeScheduler once = new ProbeScheduler() {
            private boolean sent;

            @Override
            public Action next(long nowNs, boolean active, PathEstimates path) {
                if (sent) {
                    return new Idle(nowNs + 50_000_000L);
                }
                sent = true;
                return new SendTrain(1000, count, gapNs);
            }

            @Override
            public void requestFresh(long nowNs) {
            }
        };
        try (QosSink sink = QosSink.start(SinkOptions.defaults().withBindAddress(InetAddress.getLoopbackAddress())
                .withPort(0));
             ClientProber prober = ClientProber.start(ProberConfig.of(new InetSocketAddress(
                     InetAddress.getLoopbackAddress(), sink.port()), true, Platform.current()).withRouteCheck(false),
                     model, once, "stream")) {
            long[][] got = stream.get(10, TimeUnit.SECONDS);
            long[] deltas = got[0];
            long[] send = got[1];
            assertThat(deltas).hasSize(count - 1);
            assertThat(send).hasSize(count);
            long sendSpan = send[count - 1] - send[0];
            // the schedule starts just before the first send is stamped
            assertThat(sendSpan).as("paced, absolute schedule").isBetween((count - 1) * gapNs * 95 / 100,
                    (count - 1) * gapNs * 3);
            long recvSpan = java.util.Arrays.stream(deltas).sum() * 100;
            assertThat((double) recvSpan).as("the sink saw the spacing").isCloseTo(sendSpan,
                    org.assertj.core.data.Percentage.withPercentage(30));
            assertThat(trains.get()).as("a stream is not a train").isZero();
        }
        assertThat(proberThreads()).isZero();
    }

    @Test
    void budgetKeepsUpkeepWithinOnePercent() {
        for (long capacity : new long[] {2_000_000L, 10_000_000L, 50_000_000L, 200_000_000L, 1_000_000_000L}) {
            long trainBits = (long) InterimScheduler.MAX_TRAIN_PROBES * InterimScheduler.TRAIN_PROBE_IP_BYTES * 8;
            double trainBps = trainBits * 1e9 / ProbeBudget.upkeepTrainIntervalNs(trainBits, capacity);
            double gapBps = 60 * 8 * 1e9 / ProbeBudget.upkeepProbegapIntervalNs(60, capacity);
            assertThat((trainBps + gapBps) / capacity).as("share at %d bit/s", capacity).isLessThanOrEqualTo(0.01);
        }
    }

    @Test
    void routeCheckDecisionFollowsTheSpecAndTheWorkedExample() {
        var d = new RouteCheckDecision();
        for (int i = 0; i < 4; i++) {
            assertThat(d.onSummary(io.quaver.internal.qlpb.Observation.NO_ISSUE)).isNull();
        }
        assertThat(d.onSummary(io.quaver.internal.qlpb.Observation.NO_ISSUE)).isTrue();
        d = new RouteCheckDecision();
        assertThat(d.onSummary(io.quaver.internal.qlpb.Observation.LOSS)).isNull();
        assertThat(d.onSummary(io.quaver.internal.qlpb.Observation.LOSS)).isFalse();
        d = new RouteCheckDecision();
        assertThat(d.onSummary(io.quaver.internal.qlpb.Observation.INVERSION)).isTrue();
        d = new RouteCheckDecision();
        d.onSummary(io.quaver.internal.qlpb.Observation.LOSS);
        assertThat(d.atEnd()).isFalse();
        d.onSummary(io.quaver.internal.qlpb.Observation.NO_ISSUE);
        assertThat(d.atEnd()).isTrue();
    }
}
