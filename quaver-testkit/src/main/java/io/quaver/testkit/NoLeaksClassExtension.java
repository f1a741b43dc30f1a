package io.quaver.testkit;

import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/// JUnit extension that fails a test **class** which leaves resources behind once all its tests
/// and `@AfterAll` methods ran: threads named `quaver-*`, socket file descriptors, network
/// namespaces made by this JVM, and whatever the [LeakProbe]s found with
/// [java.util.ServiceLoader] count (quaver-core's test sources register engine flows, engine
/// sockets, tracked clients and probers).
///
/// Every module registers it for its whole suite through JUnit's extension auto-detection, so no
/// class can forget it:
///
/// ```
/// src/test/resources/junit-platform.properties:
///     junit.jupiter.extensions.autodetection.enabled=true
/// src/test/resources/META-INF/services/org.junit.jupiter.api.extension.Extension:
///     io.quaver.testkit.NoLeaksClassExtension
/// ```
///
/// Configuration parameters (in `junit-platform.properties`):
/// - `quaver.noleaks.grace.ms`: how long to wait for resources that close asynchronously
///   (default [#DEFAULT_GRACE_MS]);
/// - `quaver.noleaks.threads.ignore`: comma-separated thread-name prefixes not counted, for
///   process-wide singletons that live as long as the JVM (e.g. `quaver-pacer`).
///
/// Only resources that appear during the class count; it is checked in the top-level class's
/// context only (nested classes are covered by their enclosing class).
public final class NoLeaksClassExtension implements BeforeAllCallback, AfterAllCallback {
    /// Default grace period for asynchronous closes, in milliseconds.
    public static final long DEFAULT_GRACE_MS = 3_000;

    private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(NoLeaksClassExtension.class);

    private record State(LeakCheck check, LeakCheck.Snapshot before) {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (nested(context)) {
            return;
        }
        List<String> ignored = context.getConfigurationParameter("quaver.noleaks.threads.ignore")
                .map(s -> Arrays.stream(s.split(",")).map(String::strip).filter(p -> !p.isEmpty()).toList())
                .orElse(List.of());
        Predicate<String> ignore = name -> ignored.stream().anyMatch(name::startsWith);
        ClassLoader loader = context.getRequiredTestClass().getClassLoader();
        LeakCheck check = LeakCheck.discover(loader, ignore);
        context.getStore(STORE).put("state", new State(check, check.snapshot()));
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        State state = context.getStore(STORE).remove("state", State.class);
        if (state == null) {
            return;
        }
        long grace = context.getConfigurationParameter("quaver.noleaks.grace.ms").map(Long::parseLong)
                .orElse(DEFAULT_GRACE_MS);
        state.check().verify(state.before(), grace, context.getRequiredTestClass().getName());
    }

    private static boolean nested(ExtensionContext context) {
        return context.getParent().flatMap(ExtensionContext::getTestClass).isPresent();
    }
}
