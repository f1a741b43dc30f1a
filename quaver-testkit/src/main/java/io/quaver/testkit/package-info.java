/// Test beds for Quaver and its users: an in-process link emulator on loopback, a network-namespace
/// test bed with `tc` bottlenecks, and packet capture through `tcpdump`.
///
/// Units are in the names: `rateBps` is bits per second, `delayNs` nanoseconds, `sizeBytes` bytes.
/// Threads started by this package are platform threads named `quaver-linkemu-*`, `quaver-netns-*`,
/// `quaver-pcap-*` and `quaver-exec-*`, and end when their owner is closed.
package io.quaver.testkit;
