package io.quaver.internal.platform;

import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/// Chooses the [Platform] implementation once per JVM: [LinuxPlatform] when `os.name` is Linux
/// and its FFM initialisation succeeds, [PortablePlatform] otherwise. The choice is logged once
/// through `System.Logger` (DEBUG when the expected platform is used, INFO when Linux had to
/// fall back).
///
/// Running as a named module, the JVM needs `--enable-native-access=io.quaver` (on the class
/// path, `ALL-UNNAMED`); without it JDK 25 prints a warning and proceeds, and with
/// `--illegal-native-access=deny` initialisation fails and the portable platform is used.
final class Platforms {
    private static final System.Logger LOG = System.getLogger(Platforms.class.getName());

    private Platforms() {
    }

    static Platform current() {
        return Holder.INSTANCE;
    }

    /// The platform for an OS called `osName`, built by `linux` on Linux. Any failure of
    /// `linux` (including errors such as `ExceptionInInitializerError`, `LinkageError` or
    /// `IllegalCallerException`) selects the portable platform.
    static Platform choose(String osName, Supplier<? extends Platform> linux) {
        if (!osName.startsWith("Linux")) {
            LOG.log(Level.DEBUG, "os.name is \"{0}\": using the portable platform", osName);
            return PortablePlatform.INSTANCE;
        }
        try {
            Platform platform = linux.get();
            LOG.log(Level.DEBUG, "using the {0} platform", platform.name());
            return platform;
        } catch (Throwable t) {
            LOG.log(Level.INFO, "Linux platform unavailable ({0}); using the portable platform", describe(t));
            return PortablePlatform.INSTANCE;
        }
    }

    /// `t` and up to four causes, e.g. `ExceptionInInitializerError <- IllegalCallerException: ...`.
    private static String describe(Throwable t) {
        StringBuilder text = new StringBuilder(String.valueOf(t));
        Throwable cause = t.getCause();
        for (int depth = 0; cause != null && depth < 4; depth++, cause = cause.getCause()) {
            text.append(" <- ").append(cause);
        }
        return text.toString();
    }

    private static final class Holder {
        static final Platform INSTANCE = choose(System.getProperty("os.name", ""), LinuxPlatform::create);
    }
}
