package io.quaver.internal.platform;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/// Choosing the platform implementation.
class PlatformsTest {

    @Test
    @EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "aarch64"})
    void linuxGetsTheFfmPlatform() {
        assertThat(Platform.current()).isInstanceOf(LinuxPlatform.class);
        assertThat(Platform.current().name()).isEqualTo("linux-ffm");
        assertThat(Platform.current()).isSameAs(Platform.current());
    }

    @Test
    void otherSystemsGetThePortablePlatformWithoutTryingLinux() {
        Platform chosen = Platforms.choose("Windows 11", () -> {
            throw new AssertionError("the Linux platform must not be built on Windows");
        });
        assertThat(chosen).isSameAs(PortablePlatform.INSTANCE);
        assertThat(chosen.name()).isEqualTo("portable");
    }

    @Test
    void anyFailureToInitialiseFfmFallsBackToThePortablePlatform() {
        assertThat(Platforms.choose("Linux", () -> {
            throw new ExceptionInInitializerError(new UnsatisfiedLinkError("getsockopt"));
        })).isSameAs(PortablePlatform.INSTANCE);
        assertThat(Platforms.choose("Linux", () -> {
            throw new IllegalCallerException("native access denied");
        })).isSameAs(PortablePlatform.INSTANCE);
        assertThat(Platforms.choose("Linux", () -> {
            throw new UnsupportedOperationException("no Linux ABI table for architecture s390x");
        })).isSameAs(PortablePlatform.INSTANCE);
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void linuxIsBuiltWhenItsInitialisationSucceeds() {
        assertThat(Platforms.choose("Linux", LinuxPlatform::create).name()).isEqualTo("linux-ffm");
    }
}
