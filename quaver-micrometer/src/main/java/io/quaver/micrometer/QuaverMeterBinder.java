package io.quaver.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.quaver.QosException;
import io.quaver.QosMetrics;
import io.quaver.QosSubsystem;

import java.util.Objects;
import java.util.function.Supplier;

/// Exposes Quaver's engine counters and gauges ([QosMetrics#meters()]) to a Micrometer
/// registry: counters as `FunctionCounter`s, `quaver.flows.active` and
/// `quaver.clients.tracked` as gauges, with base units and the tags of [QosMetrics.Meter].
///
/// ```java
/// new QuaverMeterBinder(qos).bindTo(registry);
/// ```
///
/// One snapshot serves every meter read within [#SNAPSHOT_MAX_AGE_NS] (a scrape reads them
/// all; through the daemon a snapshot is one round trip). Once the handle is closed, the
/// meters keep their last values.
public final class QuaverMeterBinder implements MeterBinder {
    /// How long one snapshot serves reads: 200 ms.
    public static final long SNAPSHOT_MAX_AGE_NS = 200_000_000L;

    private final Supplier<QosMetrics> source;
    private QosMetrics last;
    private long lastNs;

    /// Binds the metrics of the engine serving `qos` (embedded or the daemon's).
    public QuaverMeterBinder(QosSubsystem qos) {
        this(Objects.requireNonNull(qos, "qos")::metrics);
    }

    /// Binds the metrics a supplier returns (e.g. a daemon's own engine).
    public QuaverMeterBinder(Supplier<QosMetrics> source) {
        this.source = Objects.requireNonNull(source, "source");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (QosMetrics.Meter m : QosMetrics.meters()) {
            Tags tags = Tags.empty();
            for (String tag : m.tags()) {
                int eq = tag.indexOf('=');
                tags = tags.and(tag.substring(0, eq), tag.substring(eq + 1));
            }
            if (m.counter()) {
                FunctionCounter.builder(m.name(), this, b -> b.value(m))
                        .description(m.description()).baseUnit(m.baseUnit()).tags(tags).register(registry);
            } else {
                // Micrometer holds a meter's state object weakly; the gauges hold this binder
                // strongly so that `new QuaverMeterBinder(qos).bindTo(registry)` keeps every
                // meter (the function counters too) alive as long as the registry
                // (FunctionCounter's builder has no such switch).
                Gauge.builder(m.name(), this, b -> b.value(m)).strongReference(true)
                        .description(m.description()).baseUnit(m.baseUnit()).tags(tags).register(registry);
            }
        }
    }

    private double value(QosMetrics.Meter meter) {
        QosMetrics s = snapshot();
        return s == null ? Double.NaN : meter.value().applyAsLong(s);
    }

    private synchronized QosMetrics snapshot() {
        long now = System.nanoTime();
        if (last == null || now - lastNs > SNAPSHOT_MAX_AGE_NS) {
            try {
                last = source.get();
                lastNs = now;
            } catch (QosException e) {
                // the handle is closed (or its daemon went away): keep the last values
            }
        }
        return last;
    }
}
