/// A Micrometer [io.micrometer.core.instrument.binder.MeterBinder] for Quaver's engine
/// counters and gauges ([io.quaver.QosMetrics]).
module io.quaver.micrometer {
    requires transitive io.quaver;
    requires transitive micrometer.core;

    exports io.quaver.micrometer;
}
