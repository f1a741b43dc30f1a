package io.quaver.testkit;

/// Whether a facility (network namespaces, packet capture) can be used here, and if not why.
///
/// ```java
/// var avail = NetnsTestBed.availability();
/// Assumptions.assumeTrue(avail.ok(), avail.reason());
/// ```
///
/// @param ok     whether the facility works
/// @param reason what was checked, or what is missing and how to get it
public record Availability(boolean ok, String reason) {
    static Availability yes(String reason) {
        return new Availability(true, reason);
    }

    static Availability no(String reason) {
        return new Availability(false, reason);
    }
}
