/// Quaver core: the QoS subsystem for the JVM.
///
/// The public API is the flat package `io.quaver`; everything under `io.quaver.internal` is
/// implementation, exported only to Quaver's own modules.
module io.quaver {
    requires jdk.net;        // SO_PEERCRED of the daemon's control connections
    requires jdk.httpserver; // the daemon's Prometheus endpoint

    exports io.quaver;
    exports io.quaver.internal.platform to io.quaver.qos2, io.quaver.cli;
    exports io.quaver.internal to io.quaver.qos2, io.quaver.cli;
    exports io.quaver.internal.probe to io.quaver.qos2, io.quaver.cli;
    exports io.quaver.internal.daemon to io.quaver.cli;
}
