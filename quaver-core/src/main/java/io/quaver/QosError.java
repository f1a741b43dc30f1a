package io.quaver;

/// Every Win32 error code the QoS subsystem reports (qwave.md §4), with its Win32 number.
///
/// Both surfaces report the same numbers: the Java API through [QosException#error()], the
/// qos2 layer through `Qos2.GetLastError()`.
public enum QosError {
    /// The caller lacks the privilege the operation needs (root or `CAP_NET_ADMIN` on Linux).
    ACCESS_DENIED(5),
    /// The handle is null, closed or was never issued.
    INVALID_HANDLE(6),
    /// An allocation failed.
    NOT_ENOUGH_MEMORY(8),
    /// Internal failure while initialising the subsystem.
    GEN_FAILURE(31),
    /// The information or operation is not available on this path or flow.
    NOT_SUPPORTED(50),
    /// The path cannot carry the requested rate; priority was not granted.
    NETWORK_BUSY(54),
    /// The network adapter (egress interface) failed or went down.
    ADAP_HDW_ERR(57),
    /// The network connection with the remote host failed.
    UNEXP_NET_ERR(59),
    /// The destination's address could not be resolved.
    BAD_NET_NAME(67),
    /// An argument is invalid.
    INVALID_PARAMETER(87),
    /// The buffer is too small; the required size was reported.
    INSUFFICIENT_BUFFER(122),
    /// The subsystem had no time yet to estimate the path.
    BUSY(170),
    /// A notification of the same type is already pending on the flow.
    ALREADY_EXISTS(183),
    /// No valid data exists yet.
    NO_DATA(232),
    /// More data is available (not used by qWAVE; kept for completeness).
    MORE_DATA(234),
    /// The operation was aborted by a cancel or by closing the handle.
    OPERATION_ABORTED(995),
    /// An overlapped operation was accepted and completes later (not a failure).
    IO_PENDING(997),
    /// A dependency of the QoS service is unavailable.
    SERVICE_DEPENDENCY_FAIL(1068),
    /// An engine I/O operation failed.
    IO_DEVICE(1117),
    /// The engine behind the handle was lost: close the handle and create a new one.
    DEVICE_REINITIALIZATION_NEEDED(1164),
    /// The flow, socket, tracked client or operation is not known.
    NOT_FOUND(1168),
    /// The remote host refused the connection.
    CONNECTION_REFUSED(1225),
    /// The host is unreachable: no sink answers there.
    HOST_UNREACHABLE(1232),
    /// Not enough data about the network yet; try again.
    RETRY(1237),
    /// Policy forbids the operation on this path (by default: experiments off-link).
    ACCESS_DISABLED_BY_POLICY(1260),
    /// A resource limit was reached.
    NO_SYSTEM_RESOURCES(1450),
    /// The request timed out before enough information was gathered.
    TIMEOUT(1460),
    /// A resource the service needs is unavailable.
    RESOURCE_DISABLED(4309);

    private final int code;

    QosError(int code) {
        this.code = code;
    }

    /// The Win32 error number.
    public int code() {
        return code;
    }

    /// The Win32 name, e.g. `ERROR_NOT_FOUND`.
    public String win32Name() {
        return "ERROR_" + name();
    }

    /// The error with the given Win32 number, or `null` when the number is not one of these.
    public static QosError fromCode(int code) {
        for (QosError e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return null;
    }
}
