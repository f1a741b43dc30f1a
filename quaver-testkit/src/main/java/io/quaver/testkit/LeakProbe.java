package io.quaver.testkit;

/// A pluggable resource counter checked by [NoLeaksClassExtension] before and after each test
/// class: if [#count()] is higher after the class than before it (after the grace period), the
/// class fails.
///
/// Implementations are found with [java.util.ServiceLoader]: a test module lists them in
/// `src/test/resources/META-INF/services/io.quaver.testkit.LeakProbe`. This keeps the test kit
/// free of any dependency on the code it checks (quaver-core registers probes for its live flows,
/// engine sockets, tracked clients and probers from its own test sources).
public interface LeakProbe {
    /// Short name shown in the failure message, e.g. `engine flows`.
    String name();

    /// Current number of live resources of this kind; must be cheap and thread-safe.
    long count();
}
