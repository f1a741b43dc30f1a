/// Quaver's qos2 compatibility layer: [io.quaver.qos2.Qos2] has one static method per `qos2.h`
/// function, with the C names, parameter order, `BOOL` results and a thread-local last error,
/// for code ported from C and for conformance tests. It is a thin layer over the Java API of
/// module `io.quaver` and reports the same Win32 error numbers.
module io.quaver.qos2 {
    requires transitive io.quaver;

    exports io.quaver.qos2;
}
