/// The `qos2.h` API of qWAVE as static Java methods (decisions.md §1).
///
/// ```java
/// import static io.quaver.qos2.Qos2.*;
///
/// QosHandle[] h = new QosHandle[1];
/// if (!QOSCreateHandle(new QOS_VERSION(1, 0), h)) {
///     throw new IllegalStateException("QOSCreateHandle failed: " + GetLastError());
/// }
/// int[] flowId = {0};
/// if (!QOSAddSocketToFlow(h[0], connectedUdpChannel, null, QOSTrafficTypeAudioVideo,
///         QOS_NON_ADAPTIVE_FLOW, flowId)) {
///     System.err.println("QOSAddSocketToFlow failed: " + GetLastError());
/// }
/// // ... datagrams now leave with DSCP 40 ...
/// QOSRemoveSocketFromFlow(h[0], null, flowId[0], 0);
/// QOSCloseHandle(h[0]);
/// ```
///
/// C types map to Java as follows: `HANDLE` → [io.quaver.qos2.QosHandle] (`null` is NULL);
/// `PHANDLE`, `PQOS_FLOWID` and `PULONG` → one-element arrays (`QosHandle[]`, `int[]`);
/// `SOCKET` → [java.nio.channels.NetworkChannel]; `PSOCKADDR` →
/// [java.net.InetSocketAddress]; `PVOID Buffer` → [java.nio.ByteBuffer] whose bytes from index
/// 0 hold the struct in its little-endian C layout; `LPOVERLAPPED` →
/// [io.quaver.qos2.Overlapped]; `ULONG`, `DWORD` and enums → `int` (unsigned where C's is);
/// `UINT64` → `long` (unsigned); `BOOL` → `boolean`.
package io.quaver.qos2;
