package io.quaver.internal.platform;

/// Chooses the [Platform] implementation once per JVM.
final class Platforms {
    private Platforms() {
    }

    static Platform current() {
        return Holder.INSTANCE;
    }

    private static final class Holder {
        static final Platform INSTANCE = PortablePlatform.INSTANCE;
    }
}
