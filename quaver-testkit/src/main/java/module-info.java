/// Quaver test kit: test beds for code that measures and shapes network paths.
///
/// - [io.quaver.testkit.LinkEmulator]: an in-process UDP relay on loopback that emulates a
///   bottleneck link (rate, queue, delay, jitter, loss, cross traffic), with pure virtual-time
///   models ([io.quaver.testkit.LinkModel], [io.quaver.testkit.SerializationSchedule]);
/// - [io.quaver.testkit.NetnsTestBed]: Linux network namespaces joined by veth pairs with `tc`
///   bottlenecks, and Java sockets created inside them;
/// - [io.quaver.testkit.PacketCapture]: `tcpdump` driven and parsed, to check what reached the wire.
///
/// JUnit is `static`: the test beds themselves do not need it at run time (benchmarks and demos use
/// them without JUnit). It is `transitive` because the JUnit extension in the exported package has
/// JUnit types in its signature, so a module that uses it reads JUnit through this one.
module io.quaver.testkit {
    requires static transitive org.junit.jupiter.api;

    exports io.quaver.testkit;

    uses io.quaver.testkit.LeakProbe;
}
