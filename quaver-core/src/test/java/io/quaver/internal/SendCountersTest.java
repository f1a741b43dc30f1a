package io.quaver.internal;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosMetrics;
import io.quaver.QosOptions;
import io.quaver.QosVersion;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.internal.platform.Platform;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/// The send counters of the engine's metrics: exact with several threads sending on one flow,
/// and kept when the flow goes.
class SendCountersTest {
    private static final int PER_THREAD = 2_000;
    private static final int THREADS = 3;

    private static void sendFrom(int threads, SendPath path) throws InterruptedException {
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            senders.add(Thread.ofPlatform().name("test-sender-" + t).start(() -> {
                ByteBuffer b = ByteBuffer.allocate(100);
                for (int i = 0; i < PER_THREAD; i++) {
                    b.clear();
                    path.send(b);
                }
            }));
        }
        for (Thread t : senders) {
            t.join();
        }
    }

    @Test
    void sendsAtOnceAndNonConformantAreCountedExactlyAcrossThreadsAndAfterTheFlowGoes() throws Exception {
        Engine engine = new Engine(Platform.current());
        EmbeddedSession session = EmbeddedSession.open(engine, QosVersion.V1_0,
                QosOptions.defaults().withPrivileged(false));
        try (DatagramChannel sink = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             DatagramChannel tx1 = DatagramChannel.open().connect(sink.getLocalAddress());
             DatagramChannel tx2 = DatagramChannel.open().connect(sink.getLocalAddress())) {
            int paced = session.addFlow(tx1, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
            session.setOutgoingRate(paced, OutgoingRate.of(1_000_000_000_000L, Shaping.SHAPE_ONLY)); // never binding
            int marked = session.addFlow(tx2, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
            // 64 kbit/s: after the burst, almost every datagram is beyond the rate
            session.setOutgoingRate(marked, OutgoingRate.of(64_000, Shaping.USE_NON_CONFORMANT_MARKINGS));

            sendFrom(THREADS, session.sendPath(paced));
            QosMetrics m = engine.metrics();
            // (a never-binding rate may still delay a datagram now and then: a sender preempted
            // between its clock read and its reservation)
            assertThat(m.datagramsSentAtOnce() + m.datagramsDelayed()).isEqualTo((long) THREADS * PER_THREAD);
            assertThat(m.datagramsSentAtOnce()).isGreaterThan(m.datagramsDelayed());

            sendFrom(THREADS, session.sendPath(marked));
            m = engine.metrics();
            long markedAtOnce = m.datagramsSentAtOnce() + m.datagramsDelayed() - (long) THREADS * PER_THREAD;
            assertThat(m.datagramsNonConformant()).isPositive();
            assertThat(markedAtOnce + m.datagramsNonConformant()).isEqualTo((long) THREADS * PER_THREAD);

            session.remove(paced, null);
            session.remove(marked, null);
            QosMetrics after = engine.metrics();
            assertThat(after.datagramsSentAtOnce()).as("kept when the flows go").isEqualTo(m.datagramsSentAtOnce());
            assertThat(after.datagramsNonConformant()).isEqualTo(m.datagramsNonConformant());
        } finally {
            session.close();
        }
    }
}
