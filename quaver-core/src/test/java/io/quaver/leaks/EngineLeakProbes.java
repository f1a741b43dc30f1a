package io.quaver.leaks;

import io.quaver.internal.Engine;
import io.quaver.testkit.LeakProbe;

/// [LeakProbe]s over the embedded engine, registered with `ServiceLoader` in this module's test
/// resources so that [io.quaver.testkit.NoLeaksClassExtension] fails a class leaving any behind.
/// The qos2 and CLI tests use these through quaver-core's test-jar.
public final class EngineLeakProbes {
    private EngineLeakProbes() {
    }

    /// Live flows of the embedded engine and of the mirror engine (daemon handles' twins).
    public static final class Flows implements LeakProbe {
        @Override
        public String name() {
            return "engine flows";
        }

        @Override
        public long count() {
            return Engine.embedded().liveFlowCount() + Engine.mirror().liveFlowCount();
        }
    }

    /// Sockets the embedded engine holds marks on.
    public static final class Sockets implements LeakProbe {
        @Override
        public String name() {
            return "engine sockets";
        }

        @Override
        public long count() {
            return Engine.embedded().liveSocketCount() + Engine.mirror().liveSocketCount();
        }
    }

    /// Clients tracked by the embedded engine.
    public static final class TrackedClients implements LeakProbe {
        @Override
        public String name() {
            return "tracked clients";
        }

        @Override
        public long count() {
            return Engine.embedded().tracking().trackedCount();
        }
    }

    /// Clients with path state (tracked or with adaptive flows).
    public static final class TrackingEntries implements LeakProbe {
        @Override
        public String name() {
            return "tracking entries";
        }

        @Override
        public long count() {
            return Engine.embedded().tracking().entryCount();
        }
    }

    /// Running client probers.
    public static final class Probers implements LeakProbe {
        @Override
        public String name() {
            return "client probers";
        }

        @Override
        public long count() {
            return Engine.embedded().tracking().proberCount();
        }
    }
}
