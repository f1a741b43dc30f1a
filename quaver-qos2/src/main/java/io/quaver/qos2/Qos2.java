package io.quaver.qos2;

import io.quaver.FlowInfo;
import io.quaver.FlowMode;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.QosVersion;
import io.quaver.TrafficType;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.NetworkChannel;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/// The `qos2.h` API (qwave.md §5, decisions.md §1): one static method per function, with the
/// C name and parameter order, returning `BOOL` as `boolean` and reporting failures through a
/// thread-local last error ([#GetLastError()]).
///
/// It is a thin layer over the Java API ([QosSubsystem], [QosFlow]) and reports the same
/// Win32 numbers, pinned in decisions.md §2. The C types map as described in the
/// [package documentation][io.quaver.qos2].
///
/// ## Conventions
///
/// - **Last error.** A function sets the last error only when it fails (returns `false`); a
///   successful call leaves it unchanged. `ERROR_IO_PENDING` (997) is reported the same way:
///   `false` with last error 997 means "accepted, completes later through the [Overlapped]".
/// - **Validation order.** Handle (`ERROR_INVALID_HANDLE`, 6) first; then the arguments that
///   can be judged without the engine — flags, enum values, NULL pointers, sizes against the
///   buffer, a `Buffer`'s decoded values (`ERROR_INVALID_PARAMETER`, 87); then the flow id
///   (`ERROR_NOT_FOUND`, 1168); then the size of the caller's buffer against the result
///   (`ERROR_INSUFFICIENT_BUFFER`, 122, with `Size[0]` = required); then whatever the engine
///   reports for the operation itself.
/// - **Buffers.** A `ByteBuffer` stands for C memory at its index 0: structs are read and
///   written there in little-endian order whatever the buffer's position, limit and order
///   (none of which is changed). `Size[0]` is an unsigned byte count that must not exceed the
///   buffer's capacity (a larger one → 87: C would read or write past the end); an output
///   buffer must not be read-only (→ 87).
/// - **Synchronous completion with an `Overlapped`.** `QOSSetFlow` and `QOSQueryFlow`
///   complete synchronously in this implementation, and `QOSNotifyFlow` may, when its
///   condition already holds. Such a call returns `true` *and* completes the `Overlapped` at
///   once (status [#ERROR_SUCCESS], byte count set), so that both C idioms — checking the
///   result, or waiting on the overlapped — work. Only a genuinely pending operation returns
///   `false` with [#ERROR_IO_PENDING]. A call that fails at once leaves the `Overlapped`
///   untouched.
/// - **Exceptions.** No exception escapes a qos2 function: a [QosException] becomes its
///   [QosException#code()]; anything else is mapped by [#codeOf(Throwable)] (allocation
///   failure → `ERROR_NOT_ENOUGH_MEMORY` 8, argument-shaped exceptions → 87, I/O → 1117,
///   other internal failures → `ERROR_GEN_FAILURE` 31).
public final class Qos2 {
    private static final System.Logger LOG = System.getLogger("io.quaver.qos2");

    private Qos2() {
    }

    // =================================================================== constants

    // ---- QOS_TRAFFIC_TYPE
    public static final int QOSTrafficTypeBestEffort = 0;
    public static final int QOSTrafficTypeBackground = 1;
    public static final int QOSTrafficTypeExcellentEffort = 2;
    public static final int QOSTrafficTypeAudioVideo = 3;
    public static final int QOSTrafficTypeVoice = 4;
    public static final int QOSTrafficTypeControl = 5;

    // ---- QOS_SET_FLOW
    public static final int QOSSetTrafficType = 0;
    public static final int QOSSetOutgoingRate = 1;
    public static final int QOSSetOutgoingDSCPValue = 2;

    // ---- QOS_QUERY_FLOW
    public static final int QOSQueryFlowFundamentals = 0;
    public static final int QOSQueryPacketPriority = 1;
    public static final int QOSQueryOutgoingRate = 2;

    // ---- QOS_NOTIFY_FLOW
    public static final int QOSNotifyCongested = 0;
    public static final int QOSNotifyUncongested = 1;
    public static final int QOSNotifyAvailable = 2;

    // ---- QOS_SHAPING
    public static final int QOSShapeOnly = 0;
    public static final int QOSShapeAndMark = 1;
    public static final int QOSUseNonConformantMarkings = 2;

    // ---- QOS_FLOWRATE_REASON
    public static final int QOSFlowRateNotApplicable = 0;
    public static final int QOSFlowRateContentChange = 1;
    public static final int QOSFlowRateCongestion = 2;
    public static final int QOSFlowRateHigherContentEncoding = 3;
    public static final int QOSFlowRateUserCaused = 4;

    // ---- flags and special values
    /// `QOSQueryFlow` flag: fresh (non-cached) data only.
    public static final int QOS_QUERYFLOW_FRESH = 0x0000_0001;
    /// `QOSAddSocketToFlow` flag: a non-adaptive flow (marking and shaping only).
    public static final int QOS_NON_ADAPTIVE_FLOW = 0x0000_0002;
    /// `QOS_FLOWRATE_OUTGOING.Bandwidth` meaning "I don't know, I will use very little": the
    /// 32-bit all-ones value in the 64-bit field (not `UINT64_MAX`).
    public static final long QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH = 0xFFFF_FFFFL;

    // ---- socket constants used by the overhead helpers (Windows values)
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 23;
    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_UDP = 17;

    // ---- Win32 error codes (qwave.md §4)
    public static final int ERROR_SUCCESS = 0;
    public static final int ERROR_ACCESS_DENIED = 5;
    public static final int ERROR_INVALID_HANDLE = 6;
    public static final int ERROR_NOT_ENOUGH_MEMORY = 8;
    public static final int ERROR_GEN_FAILURE = 31;
    public static final int ERROR_NOT_SUPPORTED = 50;
    public static final int ERROR_NETWORK_BUSY = 54;
    public static final int ERROR_ADAP_HDW_ERR = 57;
    public static final int ERROR_UNEXP_NET_ERR = 59;
    public static final int ERROR_BAD_NET_NAME = 67;
    public static final int ERROR_INVALID_PARAMETER = 87;
    public static final int ERROR_INSUFFICIENT_BUFFER = 122;
    public static final int ERROR_BUSY = 170;
    public static final int ERROR_ALREADY_EXISTS = 183;
    public static final int ERROR_NO_DATA = 232;
    /// Not used by qWAVE (qwave.md §2.6); kept for completeness.
    public static final int ERROR_MORE_DATA = 234;
    public static final int ERROR_OPERATION_ABORTED = 995;
    /// Not a qWAVE code: what [#GetOverlappedResult] reports for a pending operation when
    /// told not to wait, as its Win32 namesake does.
    public static final int ERROR_IO_INCOMPLETE = 996;
    public static final int ERROR_IO_PENDING = 997;
    public static final int ERROR_SERVICE_DEPENDENCY_FAIL = 1068;
    public static final int ERROR_IO_DEVICE = 1117;
    public static final int ERROR_DEVICE_REINITIALIZATION_NEEDED = 1164;
    public static final int ERROR_NOT_FOUND = 1168;
    public static final int ERROR_CONNECTION_REFUSED = 1225;
    public static final int ERROR_HOST_UNREACHABLE = 1232;
    public static final int ERROR_RETRY = 1237;
    public static final int ERROR_ACCESS_DISABLED_BY_POLICY = 1260;
    public static final int ERROR_NO_SYSTEM_RESOURCES = 1450;
    public static final int ERROR_TIMEOUT = 1460;
    public static final int ERROR_RESOURCE_DISABLED = 4309;

    /// Output sizes of the operations (qwave.md §3.3).
    private static final int UINT64_SIZE = 8;
    private static final int DWORD_SIZE = 4;
    private static final int FLOWID_SIZE = 4;

    // =================================================================== last error

    private static final ThreadLocal<int[]> LAST_ERROR = ThreadLocal.withInitial(() -> new int[1]);

    /// The calling thread's last error: the code of the most recent failed qos2 call (a
    /// `DWORD`; values above `Integer.MAX_VALUE`, e.g. `0xdeadbeef`, read as negative `int`s).
    /// Initially [#ERROR_SUCCESS].
    public static int GetLastError() {
        return LAST_ERROR.get()[0];
    }

    /// The same thread value as [#GetLastError()] (as on Windows).
    public static int WSAGetLastError() {
        return GetLastError();
    }

    /// Sets the calling thread's last error.
    public static void SetLastError(int dwErrCode) {
        LAST_ERROR.get()[0] = dwErrCode;
    }

    private static boolean fail(int code) {
        SetLastError(code);
        return false;
    }

    private static boolean fail(Throwable t) {
        return fail(codeOf(t));
    }

    /// The Win32 code a qos2 function reports for an exception from below:
    ///
    /// | Exception | Code |
    /// | --- | --- |
    /// | [QosException] | its [QosException#code()] |
    /// | [CancellationException] (a cancelled future) | `ERROR_OPERATION_ABORTED` 995 |
    /// | [OutOfMemoryError] | `ERROR_NOT_ENOUGH_MEMORY` 8 (decisions.md item 24) |
    /// | [SecurityException] | `ERROR_ACCESS_DENIED` 5 |
    /// | [UnsupportedOperationException] | `ERROR_NOT_SUPPORTED` 50 |
    /// | [UncheckedIOException] | `ERROR_IO_DEVICE` 1117 (engine I/O, decisions.md item 24) |
    /// | [IllegalArgumentException], [IllegalStateException], [NullPointerException], [ClassCastException], [IndexOutOfBoundsException], [ReadOnlyBufferException] — an argument the layer could not use | `ERROR_INVALID_PARAMETER` 87 |
    /// | anything else | `ERROR_GEN_FAILURE` 31 (an internal failure; logged) |
    ///
    /// [CompletionException] and [ExecutionException] are unwrapped first.
    static int codeOf(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return switch (e) {
            case QosException q -> q.code();
            case CancellationException _ -> ERROR_OPERATION_ABORTED;
            case OutOfMemoryError _ -> ERROR_NOT_ENOUGH_MEMORY;
            case SecurityException _ -> ERROR_ACCESS_DENIED;
            case ReadOnlyBufferException _ -> ERROR_INVALID_PARAMETER;
            case UnsupportedOperationException _ -> ERROR_NOT_SUPPORTED;
            case UncheckedIOException _ -> ERROR_IO_DEVICE;
            case IllegalArgumentException _, IllegalStateException _, NullPointerException _, ClassCastException _,
                 IndexOutOfBoundsException _ -> ERROR_INVALID_PARAMETER;
            default -> {
                LOG.log(System.Logger.Level.WARNING, "qos2: unexpected failure reported as ERROR_GEN_FAILURE", e);
                yield ERROR_GEN_FAILURE;
            }
        };
    }

    // =================================================================== handles

    /// `QOSCreateHandle`: opens a handle to the QoS subsystem.
    ///
    /// Privilege (for `QOSSetOutgoingDSCPValue` and `QOSEnumerateFlows`) and the sink port are
    /// resolved now, from the system properties `quaver.privileged=true|false` and
    /// `quaver.sinkPort` (decisions.md items 18 and 22); the qos2 layer has no options.
    ///
    /// @param Version   must be 1.0; `null` → 87
    /// @param QOSHandle receives the handle in element 0; `null` or empty → 87
    /// @return `true` on success; else `false` with `ERROR_INVALID_PARAMETER` (87) for the
    ///         cases above or an unsupported version, or another code from the engine
    public static boolean QOSCreateHandle(QOS_VERSION Version, QosHandle[] QOSHandle) {
        try {
            if (Version == null || QOSHandle == null || QOSHandle.length == 0) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            QosVersion version = new QosVersion(Version.MajorVersion(), Version.MinorVersion());
            QosSubsystem subsystem = QosSubsystem.open(version, QosOptions.defaults());
            QOSHandle[0] = new QosHandle(subsystem);
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    /// `QOSCloseHandle`: removes every flow of the handle (their sockets' marks are restored)
    /// and completes every operation pending on it with `ERROR_OPERATION_ABORTED` (995) —
    /// pending [Overlapped]s as well as synchronous `QOSNotifyFlow` calls still waiting.
    /// Tracked clients keep being tracked for the grace period (decisions.md item 16).
    ///
    /// @return `true`; `false` with `ERROR_INVALID_HANDLE` (6) for `null` or a handle closed
    ///         already
    public static boolean QOSCloseHandle(QosHandle QOSHandle) {
        try {
            if (QOSHandle == null || !QOSHandle.close()) {
                return fail(ERROR_INVALID_HANDLE);
            }
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    /// The handle's subsystem, or `null` when the handle is NULL or closed.
    private static QosSubsystem open(QosHandle handle) {
        return handle == null || !handle.isOpen() ? null : handle.subsystem();
    }

    // =================================================================== tracking

    /// `QOSStartTrackingClient`: starts gathering path information towards a client; the port
    /// is ignored, an IPv4-mapped IPv6 address is the IPv4 client, and starting twice on one
    /// handle is idempotent (decisions.md item 16).
    ///
    /// @param DestAddr the client; `null` → 87
    /// @param Flags    reserved, must be 0 (else 87)
    public static boolean QOSStartTrackingClient(QosHandle QOSHandle, InetSocketAddress DestAddr, int Flags) {
        try {
            QosSubsystem s = open(QOSHandle);
            if (s == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            if (Flags != 0 || DestAddr == null) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            s.startTrackingClient(DestAddr);
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    /// `QOSStopTrackingClient`: stops tracking a client; flows are not affected.
    ///
    /// @param DestAddr the client; `null` → 87
    /// @param Flags    reserved, must be 0 (else 87)
    /// @return `false` with `ERROR_NOT_FOUND` (1168) when the client is not tracked
    public static boolean QOSStopTrackingClient(QosHandle QOSHandle, InetSocketAddress DestAddr, int Flags) {
        try {
            QosSubsystem s = open(QOSHandle);
            if (s == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            if (Flags != 0 || DestAddr == null) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            s.stopTrackingClient(DestAddr);
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    // =================================================================== flows

    /// `QOSAddSocketToFlow`: creates a flow for a socket (`FlowId[0] == 0`), or adds the socket
    /// (or the same unconnected socket for another destination) to an existing non-adaptive
    /// flow (`FlowId[0] != 0`).
    ///
    /// A non-adaptive flow marks its sockets at once; an adaptive one once an outgoing rate
    /// has been admitted (decisions.md item 6).
    ///
    /// @param Socket      a `DatagramChannel` or `SocketChannel`; `null` → 87
    /// @param DestAddr    the destination (address and port): required for an unconnected
    ///                    socket, equal to the peer for a connected one; IPv4-mapped → 87
    /// @param TrafficType a `QOSTrafficType…` value for a new flow (unknown → 87); ignored when
    ///                    adding to an existing flow
    /// @param Flags       0 (adaptive) or [#QOS_NON_ADAPTIVE_FLOW]; other bits → 87; adding
    ///                    to an existing flow requires [#QOS_NON_ADAPTIVE_FLOW] (else 87)
    /// @param FlowId      in/out, element 0: 0 to create (receives the new id, never 0), or
    ///                    the existing flow's id (unknown → 1168; an adaptive flow → 87);
    ///                    `null` or empty → 87
    public static boolean QOSAddSocketToFlow(QosHandle QOSHandle, NetworkChannel Socket, InetSocketAddress DestAddr,
                                             int TrafficType, int Flags, int[] FlowId) {
        try {
            QosSubsystem s = open(QOSHandle);
            if (s == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            if (FlowId == null || FlowId.length == 0 || (Flags & ~QOS_NON_ADAPTIVE_FLOW) != 0 || Socket == null) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            boolean nonAdaptive = (Flags & QOS_NON_ADAPTIVE_FLOW) != 0;
            if (FlowId[0] == 0) {
                QosFlow flow = s.addFlow(Socket, DestAddr, trafficType(TrafficType),
                        nonAdaptive ? FlowMode.NON_ADAPTIVE : FlowMode.ADAPTIVE);
                FlowId[0] = flow.id();
                return true;
            }
            if (!nonAdaptive) {
                return fail(ERROR_INVALID_PARAMETER); // joining needs QOS_NON_ADAPTIVE_FLOW (item 8)
            }
            s.flow(FlowId[0]).addSocket(Socket, DestAddr);
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    private static TrafficType trafficType(int value) {
        return TrafficType.fromValue(value);
    }

    /// `QOSRemoveSocketFromFlow`: removes one socket from a flow, or (`Socket == null`) the
    /// whole flow. Removing the last socket destroys the flow (decisions.md item 15); a socket
    /// closed while in the flow can still be removed.
    ///
    /// @param Socket the socket, or `null` for the whole flow
    /// @param FlowId the flow (unknown → 1168)
    /// @param Flags  reserved, must be 0 (else 87)
    /// @return `false` with `ERROR_NOT_FOUND` (1168) for an unknown flow or a socket not in it;
    ///         `ERROR_OPERATION_ABORTED` (995) when the handle was closed while the call ran
    public static boolean QOSRemoveSocketFromFlow(QosHandle QOSHandle, NetworkChannel Socket, int FlowId, int Flags) {
        try {
            QosSubsystem s = open(QOSHandle);
            if (s == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            if (Flags != 0) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            try {
                QosFlow flow = s.flow(FlowId);
                if (Socket == null) {
                    flow.close(); // quiet if the flow vanished meanwhile
                } else {
                    flow.removeSocket(Socket);
                }
            } catch (QosException e) {
                if (e.error() == QosError.INVALID_HANDLE) {
                    return fail(ERROR_OPERATION_ABORTED); // closed while this call ran (qwave.md §5.2)
                }
                throw e;
            }
            if (!QOSHandle.isOpen()) {
                return fail(ERROR_OPERATION_ABORTED);
            }
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    // =================================================================== QOSSetFlow

    /// `QOSSetFlow`: changes a flow's traffic type, outgoing rate or explicit DSCP.
    ///
    /// | Operation | `Buffer` at index 0 | `Size` |
    /// | --- | --- | --- |
    /// | [#QOSSetTrafficType] | `QOS_TRAFFIC_TYPE` (int; unknown → 87); also undoes an explicit DSCP | 4 |
    /// | [#QOSSetOutgoingRate] | [QOS_FLOWRATE_OUTGOING] (unknown enums → 87) | 16 |
    /// | [#QOSSetOutgoingDSCPValue] | `DWORD` DSCP, 0–63 (else 87); privileged (else 5); non-adaptive flows only (else 50) | 4 |
    ///
    /// The call completes synchronously; with an `Overlapped` it returns `true` and completes
    /// it at once (status 0, 0 bytes).
    ///
    /// @param Size       must be the exact size of the operation's struct (else 87)
    /// @param Buffer     the struct; `null`, or a capacity below `Size` → 87
    /// @param Flags      reserved, must be 0 (else 87)
    /// @param Overlapped optional; one still pending → 87
    public static boolean QOSSetFlow(QosHandle QOSHandle, int FlowId, int Operation, int Size, ByteBuffer Buffer,
                                     int Flags, Overlapped Overlapped) {
        try {
            QosSubsystem s = open(QOSHandle);
            if (s == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            int required = switch (Operation) {
                case QOSSetTrafficType, QOSSetOutgoingDSCPValue -> DWORD_SIZE;
                case QOSSetOutgoingRate -> QOS_FLOWRATE_OUTGOING.SIZE;
                default -> -1;
            };
            if (required < 0 || Flags != 0 || Buffer == null || Size != required || Buffer.capacity() < Size
                    || (Overlapped != null && Overlapped.isPending())) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            // decode first (87 before 1168), then find the flow and apply
            ByteBuffer in = Bytes.le(Buffer);
            switch (Operation) {
                case QOSSetTrafficType -> {
                    TrafficType type = trafficType(in.getInt(0));
                    s.flow(FlowId).setTrafficType(type);
                }
                case QOSSetOutgoingRate -> {
                    var rate = QOS_FLOWRATE_OUTGOING.read(Buffer).toOutgoingRate();
                    s.flow(FlowId).setOutgoingRate(rate);
                }
                default -> {
                    int dscp = in.getInt(0); // a DWORD: unsigned
                    if (Integer.compareUnsigned(dscp, 63) > 0) {
                        return fail(ERROR_INVALID_PARAMETER);
                    }
                    s.flow(FlowId).setOutgoingDscp(dscp);
                }
            }
            if (Overlapped != null && !Overlapped.completeNow(QOSHandle, 0)) {
                return fail(ERROR_INVALID_PARAMETER); // the overlapped was reused concurrently
            }
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    // =================================================================== QOSQueryFlow

    /// `QOSQueryFlow`: reads a flow's estimates, applied marks or outgoing rate.
    ///
    /// | Operation | Written at index 0 of `Buffer` | Bytes |
    /// | --- | --- | --- |
    /// | [#QOSQueryFlowFundamentals] | [QOS_FLOW_FUNDAMENTALS]; adaptive flows only (else 50) | 40 |
    /// | [#QOSQueryPacketPriority] | [QOS_PACKET_PRIORITY] | 16 |
    /// | [#QOSQueryOutgoingRate] | `UINT64` bits/s of the last accepted rate (none yet → 232) | 8 |
    ///
    /// On success `Size[0]` receives the bytes written; when `Size[0]` is smaller than that,
    /// the call fails with `ERROR_INSUFFICIENT_BUFFER` (122) and `Size[0]` = the required size.
    /// The call completes synchronously; with an `Overlapped` it returns `true` and completes
    /// it at once (status 0, byte count = bytes written).
    ///
    /// @param Size       in/out, element 0: the buffer's size in bytes (unsigned; above the
    ///                   buffer's capacity → 87); `null` or empty → 87
    /// @param Buffer     receives the result; `null` or read-only → 87
    /// @param Flags      0 or [#QOS_QUERYFLOW_FRESH] (only with [#QOSQueryFlowFundamentals];
    ///                   else 87); other bits → 87
    /// @param Overlapped optional; one still pending → 87
    public static boolean QOSQueryFlow(QosHandle QOSHandle, int FlowId, int Operation, int[] Size, ByteBuffer Buffer,
                                       int Flags, Overlapped Overlapped) {
        try {
            QosSubsystem s = open(QOSHandle);
            if (s == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            int required = switch (Operation) {
                case QOSQueryFlowFundamentals -> QOS_FLOW_FUNDAMENTALS.SIZE;
                case QOSQueryPacketPriority -> QOS_PACKET_PRIORITY.SIZE;
                case QOSQueryOutgoingRate -> UINT64_SIZE;
                default -> -1;
            };
            boolean fresh = (Flags & QOS_QUERYFLOW_FRESH) != 0;
            if (required < 0 || (Flags & ~QOS_QUERYFLOW_FRESH) != 0 || (fresh && Operation != QOSQueryFlowFundamentals)
                    || !usableOutput(Size, Buffer) || (Overlapped != null && Overlapped.isPending())) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            QosFlow flow = s.flow(FlowId);
            if (Integer.toUnsignedLong(Size[0]) < required) {
                Size[0] = required;
                return fail(ERROR_INSUFFICIENT_BUFFER);
            }
            switch (Operation) {
                case QOSQueryFlowFundamentals -> QOS_FLOW_FUNDAMENTALS.of(flow.fundamentals(fresh)).write(Buffer);
                case QOSQueryPacketPriority -> QOS_PACKET_PRIORITY.of(flow.packetPriority()).write(Buffer);
                default -> Bytes.le(Buffer).putLong(0, flow.outgoingRate().bandwidthBps());
            }
            Size[0] = required;
            if (Overlapped != null && !Overlapped.completeNow(QOSHandle, required)) {
                return fail(ERROR_INVALID_PARAMETER); // the overlapped was reused concurrently
            }
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    /// Whether `Size` and `Buffer` can describe an output buffer: both present, `Size[0]`
    /// (unsigned) within the buffer's capacity, and the buffer writable.
    private static boolean usableOutput(int[] size, ByteBuffer buffer) {
        return size != null && size.length > 0 && buffer != null && !buffer.isReadOnly()
                && Integer.toUnsignedLong(size[0]) <= buffer.capacity();
    }

    // =================================================================== QOSNotifyFlow

    /// `QOSNotifyFlow`: asks for one notification about an adaptive flow's path.
    ///
    /// | Operation | `Size` / `Buffer` | Completes when | Output |
    /// | --- | --- | --- | --- |
    /// | [#QOSNotifyCongested] | both `null` (else 87) | the path is congested | nothing |
    /// | [#QOSNotifyUncongested] | both `null` (else 87) | the path is not congested | nothing |
    /// | [#QOSNotifyAvailable] | `Size[0]` ≥ 8 (else 122, `Size[0]` = 8); `Buffer` holds the `UINT64` target bits/s | the flow can be raised to the target | available bits/s as `UINT64` at index 0, `Size[0]` = 8 |
    ///
    /// Without an `Overlapped` the call blocks until the condition holds; it returns `false`
    /// with `ERROR_OPERATION_ABORTED` (995) if the handle is closed meanwhile, or if the
    /// waiting thread is interrupted (the request is then cancelled and the thread's interrupt
    /// status kept). With an `Overlapped` it returns `false` with `ERROR_IO_PENDING` (997) and
    /// completes the `Overlapped` when the condition holds — or returns `true` with the
    /// `Overlapped` completed when the condition holds already. Non-adaptive flows → 50
    /// (decisions.md item 10).
    ///
    /// @param Size       `null` for Congested/Uncongested; for Available, element 0 is the
    ///                   buffer's size in bytes (unsigned; above its capacity → 87)
    /// @param Buffer     `null` for Congested/Uncongested; for Available, the target in and
    ///                   the available bandwidth out; read-only → 87
    /// @param Flags      reserved, must be 0 (else 87)
    /// @param Overlapped optional; one still pending → 87
    public static boolean QOSNotifyFlow(QosHandle QOSHandle, int FlowId, int Operation, int[] Size, ByteBuffer Buffer,
                                        int Flags, Overlapped Overlapped) {
        try {
            QosSubsystem s = open(QOSHandle);
            if (s == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            boolean available = Operation == QOSNotifyAvailable;
            boolean valid = switch (Operation) {
                case QOSNotifyCongested, QOSNotifyUncongested -> Size == null && Buffer == null;
                case QOSNotifyAvailable -> usableOutput(Size, Buffer);
                default -> false;
            };
            if (!valid || Flags != 0 || (Overlapped != null && Overlapped.isPending())) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            QosFlow flow = s.flow(FlowId);
            long target = 0;
            if (available) {
                if (Integer.toUnsignedLong(Size[0]) < UINT64_SIZE) {
                    Size[0] = UINT64_SIZE;
                    return fail(ERROR_INSUFFICIENT_BUFFER);
                }
                target = Bytes.le(Buffer).getLong(0);
            }
            CompletableFuture<?> future = QOSHandle.notifier.request(flow, Operation, target);
            if (future == null) {
                throw new QosException(QosError.GEN_FAILURE, "the engine returned no notification future");
            }
            int bytes = available ? UINT64_SIZE : 0;
            if (Overlapped == null) {
                return awaitNotification(QOSHandle, future, available, Size, Buffer);
            }
            if (future.isDone()) {
                Object value;
                try {
                    value = future.join();
                } catch (RuntimeException e) {
                    return fail(e);
                }
                writeNotification(available, value, Size, Buffer);
                if (!Overlapped.completeNow(QOSHandle, bytes)) {
                    return fail(ERROR_INVALID_PARAMETER);
                }
                return true;
            }
            Overlapped.Operation op = Overlapped.begin(QOSHandle, future);
            if (op == null) {
                future.cancel(true);
                return fail(ERROR_INVALID_PARAMETER); // the overlapped was reused concurrently
            }
            // track first, so that a completion can never leave the future behind in the handle
            if (!QOSHandle.track(future)) {
                future.completeExceptionally(QosHandle.aborted()); // closed meanwhile
            }
            future.whenComplete((value, error) -> {
                QOSHandle.untrack(future);
                if (error == null) {
                    Overlapped.complete(op, ERROR_SUCCESS, bytes, () -> writeNotification(available, value, Size, Buffer));
                } else {
                    Overlapped.complete(op, codeOf(error), 0, null);
                }
            });
            return fail(ERROR_IO_PENDING);
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    /// The synchronous form of `QOSNotifyFlow`: waits for the future, aborted by a close of the
    /// handle or by interruption.
    private static boolean awaitNotification(QosHandle handle, CompletableFuture<?> future, boolean available,
                                             int[] size, ByteBuffer buffer) {
        if (!handle.track(future)) {
            future.completeExceptionally(QosHandle.aborted());
        }
        Object value;
        try {
            value = future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            return fail(ERROR_OPERATION_ABORTED);
        } catch (ExecutionException | CancellationException e) {
            return fail(e);
        } finally {
            handle.untrack(future);
        }
        writeNotification(available, value, size, buffer);
        return true;
    }

    private static void writeNotification(boolean available, Object value, int[] size, ByteBuffer buffer) {
        if (!available) {
            return; // Congested / Uncongested write nothing (decisions.md item 13)
        }
        long bps = value instanceof Number n ? n.longValue() : 0;
        Bytes.le(buffer).putLong(0, bps);
        size[0] = UINT64_SIZE;
    }

    // =================================================================== QOSEnumerateFlows

    /// `QOSEnumerateFlows`: the ids of every live flow of the subsystem (the whole JVM when
    /// embedded), as `QOS_FLOWID`s (4 bytes each, little-endian) from index 0 of `Buffer`.
    /// Privileged (else `ERROR_ACCESS_DENIED`, 5).
    ///
    /// Call twice: when `Size[0]` is below 4 × n the call fails with
    /// `ERROR_INSUFFICIENT_BUFFER` (122) and `Size[0]` = 4 × n. With no flows it succeeds with
    /// `Size[0]` = 0.
    ///
    /// @param Size   in/out, element 0: the buffer's size in bytes (unsigned; above its
    ///               capacity → 87); `null` or empty → 87
    /// @param Buffer receives the ids; `null` or read-only → 87 (an empty buffer asks for
    ///               the size)
    public static boolean QOSEnumerateFlows(QosHandle QOSHandle, int[] Size, ByteBuffer Buffer) {
        try {
            QosSubsystem s = open(QOSHandle);
            if (s == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            if (!usableOutput(Size, Buffer)) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            List<FlowInfo> flows = s.enumerateFlows();
            long required = (long) FLOWID_SIZE * flows.size();
            if (Integer.toUnsignedLong(Size[0]) < required) {
                Size[0] = (int) required;
                return fail(ERROR_INSUFFICIENT_BUFFER);
            }
            ByteBuffer out = Bytes.le(Buffer);
            for (int i = 0; i < flows.size(); i++) {
                out.putInt(i * FLOWID_SIZE, flows.get(i).flowId());
            }
            Size[0] = (int) required;
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    // =================================================================== overlapped

    /// `QOSCancel`: cancels a pending operation started on this handle with `Overlapped`. The
    /// operation's future is cancelled and the `Overlapped` completes with
    /// `ERROR_OPERATION_ABORTED` (995) — unless its result arrived first.
    ///
    /// @param Overlapped the operation; `null` → 87; not pending on this handle (never used,
    ///                   already completed, or started on another handle) → 1168
    public static boolean QOSCancel(QosHandle QOSHandle, Overlapped Overlapped) {
        try {
            if (open(QOSHandle) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            if (Overlapped == null) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            Overlapped.Operation op = Overlapped.pendingOperation();
            if (op == null || op.handle != QOSHandle) {
                return fail(ERROR_NOT_FOUND);
            }
            if (op.future != null) {
                op.future.cancel(true);
            }
            Overlapped.complete(op, ERROR_OPERATION_ABORTED, 0, null);
            return true;
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    /// `GetOverlappedResult`: the outcome of the most recent operation started with
    /// `lpOverlapped` on `hFile`.
    ///
    /// - completed with success: `true`, `lpNumberOfBytesTransferred[0]` = bytes written into
    ///   the operation's `Buffer`;
    /// - completed with an error: `false` with that error (e.g. 995 after a cancel or close),
    ///   byte count 0;
    /// - still pending: with `bWait` the call waits; without, `false` with
    ///   [#ERROR_IO_INCOMPLETE] (996). An interrupted wait returns `false` with 996 and keeps
    ///   the thread's interrupt status.
    ///
    /// Errors of the call itself: `hFile` `null` → 6; a closed `hFile` → 6 unless the
    /// overlapped's operation was started on it (then its result, 995, is reported as
    /// usual); `lpOverlapped` or `lpNumberOfBytesTransferred` `null`/empty, an overlapped never
    /// used, or one last used on another handle → 87.
    public static boolean GetOverlappedResult(QosHandle hFile, Overlapped lpOverlapped, int[] lpNumberOfBytesTransferred,
                                              boolean bWait) {
        try {
            if (hFile == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            if (lpOverlapped == null || lpNumberOfBytesTransferred == null || lpNumberOfBytesTransferred.length == 0) {
                return fail(ERROR_INVALID_PARAMETER);
            }
            QosHandle owner = lpOverlapped.lastHandle();
            if (owner != hFile) {
                return fail(hFile.isOpen() ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE);
            }
            if (lpOverlapped.isPending()) {
                if (!bWait) {
                    return fail(ERROR_IO_INCOMPLETE);
                }
                try {
                    lpOverlapped.awaitCompletion();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return fail(ERROR_IO_INCOMPLETE);
                }
            }
            Overlapped.Outcome outcome = lpOverlapped.outcome();
            lpNumberOfBytesTransferred[0] = outcome.bytes();
            return outcome.status() == ERROR_SUCCESS || fail(outcome.status());
        } catch (RuntimeException | OutOfMemoryError e) {
            return fail(e);
        }
    }

    // =================================================================== helpers (§3.4)

    /// `QOS_HEADER_OVERHEAD`: IP plus transport header bytes per packet: 20 for [#AF_INET],
    /// 40 for any other family (IPv6), plus 20 for [#IPPROTO_TCP] or 8 for any other protocol
    /// (UDP).
    public static int QOS_HEADER_OVERHEAD(int af, int protocol) {
        int overhead = af == AF_INET ? 20 : 40;
        overhead += protocol == IPPROTO_TCP ? 20 : 8;
        return overhead;
    }

    /// `QOS_ADD_OVERHEAD`: a payload rate raised by the header overhead, as the IP-level rate
    /// that `QOS_FLOWRATE_OUTGOING.Bandwidth` wants, with exactly the header's arithmetic:
    ///
    /// ```
    /// ov  = QOS_HEADER_OVERHEAD(af, protocol) * 8        // UINT32
    /// tps = targetDataPacketSize * 8                      // UINT32: wraps modulo 2^32
    /// d   = (double) ov / (double) tps * (double) dataRate
    /// return dataRate + (UINT64) d                        // truncation; UINT64 addition wraps
    /// ```
    ///
    /// `targetDataPacketSize` and `dataRate` are unsigned (`UINT32`, `UINT64`) held in `int`
    /// and `long`: a negative `int` is a size of 2^31 or more, a negative `long` a rate of
    /// 2^63 or more, and the result is likewise an unsigned 64-bit value (read it with
    /// [Long#toUnsignedString(long)] or [Long#compareUnsigned(long, long)]). Where C is
    /// undefined, this method is defined: a `tps` of 0 (a size of 0, or a multiple of 2^29
    /// whose × 8 wraps to 0) throws [ArithmeticException] (C divides by zero), and a `d` of
    /// 2^64 or more saturates to `0xFFFF_FFFF_FFFF_FFFF` before the addition.
    ///
    /// Example: IPv4/UDP, 1400-byte packets, 10,000,000 bit/s → 10,200,000 bit/s.
    ///
    /// @throws ArithmeticException when `targetDataPacketSize * 8` is 0 modulo 2^32
    public static long QOS_ADD_OVERHEAD(int af, int protocol, int targetDataPacketSize, long dataRate) {
        int overhead = QOS_HEADER_OVERHEAD(af, protocol) * 8;
        int tps = targetDataPacketSize * 8; // UINT32 wrap
        if (tps == 0) {
            throw new ArithmeticException("QOS_ADD_OVERHEAD: targetDataPacketSize * 8 is 0 (mod 2^32): division by zero");
        }
        double d = (double) Integer.toUnsignedLong(overhead);
        d /= (double) Integer.toUnsignedLong(tps);
        d *= Bytes.unsignedToDouble(dataRate);
        return dataRate + Bytes.doubleToUnsigned(d);
    }

    /// `QOS_SUBTRACT_OVERHEAD`: an IP-level rate lowered to the payload rate it carries, with
    /// exactly the header's arithmetic:
    ///
    /// ```
    /// ov  = QOS_HEADER_OVERHEAD(af, protocol) * 8        // UINT32
    /// tps = targetDataPacketSize * 8                      // UINT32: wraps modulo 2^32
    /// d   = (double) ov / ((double) tps + ov) * (double) dataRate
    /// return dataRate - (UINT64) d                        // truncation; UINT64 subtraction
    /// ```
    ///
    /// Unsigned handling as in [#QOS_ADD_OVERHEAD]; the denominator is never 0 here (a `tps`
    /// of 0 gives a result of 0).
    ///
    /// Example: IPv4/UDP, 1400-byte packets, 10,200,000 bit/s → 10,000,000 bit/s.
    public static long QOS_SUBTRACT_OVERHEAD(int af, int protocol, int targetDataPacketSize, long dataRate) {
        int overhead = QOS_HEADER_OVERHEAD(af, protocol) * 8;
        int tps = targetDataPacketSize * 8; // UINT32 wrap
        double d = (double) Integer.toUnsignedLong(overhead);
        d /= (double) Integer.toUnsignedLong(tps) + (double) Integer.toUnsignedLong(overhead);
        d *= Bytes.unsignedToDouble(dataRate);
        return dataRate - Bytes.doubleToUnsigned(d);
    }
}
