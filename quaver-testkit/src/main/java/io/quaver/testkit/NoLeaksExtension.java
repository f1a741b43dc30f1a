package io.quaver.testkit;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/// JUnit extension that fails a test which leaves test-kit resources behind: threads named
/// `quaver-*` (link emulators, namespace helpers, captures, process readers) or network namespaces
/// created by this JVM. Only resources that appear *during* the test count, so resources opened in
/// `@BeforeAll` and closed in `@AfterAll` are fine.
///
/// ```java
/// @ExtendWith(NoLeaksExtension.class)
/// class MyTest { ... }
/// ```
///
/// Threads get a grace period of [#GRACE_MS] to finish after the test.
public final class NoLeaksExtension implements BeforeEachCallback, AfterEachCallback {
    /// Time allowed for threads to end after a test, in milliseconds.
    public static final long GRACE_MS = 2_000;

    private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(NoLeaksExtension.class);

    private record Baseline(Set<Thread> threads, Set<String> namespaces) {
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(STORE).put("baseline", new Baseline(new HashSet<>(testkitThreads()),
                new HashSet<>(NetnsTestBed.ownedNamespaces())));
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        Baseline baseline = context.getStore(STORE).get("baseline", Baseline.class);
        List<Thread> leaked = new ArrayList<>();
        long deadline = System.nanoTime() + GRACE_MS * 1_000_000;
        do {
            leaked.clear();
            for (Thread t : testkitThreads()) {
                if (!baseline.threads().contains(t)) {
                    leaked.add(t);
                }
            }
            if (leaked.isEmpty()) {
                break;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        List<String> namespaces = new ArrayList<>(NetnsTestBed.ownedNamespaces());
        namespaces.removeAll(baseline.namespaces());
        if (!leaked.isEmpty() || !namespaces.isEmpty()) {
            throw new AssertionError("test left test-kit resources behind: threads "
                    + leaked.stream().map(Thread::getName).toList() + ", namespaces " + namespaces);
        }
    }

    /// Live threads whose name starts with `quaver-`.
    public static List<Thread> testkitThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("quaver-"))
                .toList();
    }
}
