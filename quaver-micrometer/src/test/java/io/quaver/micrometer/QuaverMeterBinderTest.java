package io.quaver.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quaver.FlowMode;
import io.quaver.QosMetrics;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.TrafficType;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class QuaverMeterBinderTest {
    private static QosMetrics metrics(long created, long active, long probeBytes) {
        return new QosMetrics(created, 0, active, 0, 0, 0, probeBytes, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void everyMeterIsRegisteredWithItsUnitAndFollowsTheSnapshots() throws InterruptedException {
        AtomicReference<QosMetrics> now = new AtomicReference<>(metrics(3, 2, 1500));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new QuaverMeterBinder(now::get).bindTo(registry);

        assertThat(registry.getMeters()).hasSize(QosMetrics.meters().size());
        FunctionCounter bytes = registry.get("quaver.probe.bytes").functionCounter();
        assertThat(bytes.getId().getBaseUnit()).isEqualTo("bytes");
        assertThat(bytes.count()).isEqualTo(1500);
        Gauge active = registry.get("quaver.flows.active").gauge();
        assertThat(active.getId().getType()).isEqualTo(Meter.Type.GAUGE);
        assertThat(active.value()).isEqualTo(2);
        assertThat(registry.get("quaver.notifications").tag("type", "congested").functionCounter().count())
                .isZero();

        now.set(metrics(4, 1, 9000));
        Thread.sleep(QuaverMeterBinder.SNAPSHOT_MAX_AGE_NS / 1_000_000 + 50);
        assertThat(bytes.count()).isEqualTo(9000);
        assertThat(active.value()).isEqualTo(1);
        assertThat(registry.get("quaver.flows.created").functionCounter().count()).isEqualTo(4);
    }

    @Test
    void metersKeepReadingAfterTheBinderItselfIsGarbage() throws InterruptedException {
        AtomicReference<QosMetrics> now = new AtomicReference<>(metrics(3, 2, 1500));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new QuaverMeterBinder(now::get).bindTo(registry); // no reference kept, as in the javadoc
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(registry.get("quaver.probe.bytes").functionCounter().count()).isEqualTo(1500);
        assertThat(registry.get("quaver.flows.active").gauge().value()).isEqualTo(2);
    }

    @Test
    void aHandlesFlowsShowAndTheLastValuesStayAfterClose() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9));
            QosSubsystem qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false));
            new QuaverMeterBinder(qos).bindTo(registry);
            FunctionCounter created = registry.get("quaver.flows.created").functionCounter();
            double before = created.count();
            qos.addFlow(ch, null, TrafficType.AUDIO_VIDEO, FlowMode.NON_ADAPTIVE);
            Thread.sleep(QuaverMeterBinder.SNAPSHOT_MAX_AGE_NS / 1_000_000 + 50);
            assertThat(created.count()).isEqualTo(before + 1);
            assertThat(registry.get("quaver.flows.active").gauge().value()).isGreaterThanOrEqualTo(1);
            qos.close();
            Thread.sleep(QuaverMeterBinder.SNAPSHOT_MAX_AGE_NS / 1_000_000 + 50);
            assertThat(created.count()).isEqualTo(before + 1);
        }
    }
}
