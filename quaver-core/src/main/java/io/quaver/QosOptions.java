package io.quaver;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/// Options of a subsystem handle. Start from [#defaults()] and change what you need:
///
/// ```java
/// var options = QosOptions.defaults().withPrivileged(false).withSinkPort(40177);
/// try (var qos = QosSubsystem.open(options)) { ... }
/// ```
///
/// @param privileged          `null` to detect (root or `CAP_NET_ADMIN`, or the system property
///                            `quaver.privileged=true|false`), otherwise the answer to use
/// @param sinkPort            the port sinks are reached on; 0 = the system property
///                            `quaver.sinkPort`, else 2177
/// @param markingPolicy       the traffic-type → marks table
/// @param trackingGracePeriod how long a tracked client stays tracked after the last handle
///                            that started it closes
/// @param offLinkExperiments  allow probing experiments towards off-link destinations (beyond
///                            qWAVE; off by default)
/// @param limits              resource limits
/// @param kernelShaping       whether a privileged handle may shape flows with kernel classes
///                            ([Enforcement#KERNEL_CLASS], an `htb` class per flow on the egress
///                            interface); `null` = the system property
///                            `quaver.kernelShaping=true|false`, else `true`
/// @param daemonSocket        `null` for the embedded engine (the default), or the control
///                            socket of a `quaver daemon` that serves the handle
/// @param congestionThresholds the congestion detector's thresholds for this handle's adaptive
///                            flows
/// @param probeSecret         authenticate the [MS-QLPB] handshakes of client tracking and
///                            adaptive flows with this secret (sinks configured with the same
///                            [SharedSecret]); `null` (the default) = plain [MS-QLPB]
public record QosOptions(Boolean privileged, int sinkPort, MarkingPolicy markingPolicy, Duration trackingGracePeriod,
                         boolean offLinkExperiments, QosLimits limits, Boolean kernelShaping, Path daemonSocket,
                         CongestionThresholds congestionThresholds, SharedSecret probeSecret) {
    /// The port of the [MS-QLPB] sink unless configured otherwise.
    public static final int DEFAULT_SINK_PORT = 2177;

    public QosOptions {
        if (sinkPort < 0 || sinkPort > 65_535) {
            throw new QosException(QosError.INVALID_PARAMETER, "sink port must be 0..65535, was " + sinkPort);
        }
        if (markingPolicy == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "marking policy is required");
        }
        if (trackingGracePeriod == null || trackingGracePeriod.isNegative()) {
            throw new QosException(QosError.INVALID_PARAMETER, "tracking grace period must be >= 0");
        }
        if (limits == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "limits are required");
        }
        if (congestionThresholds == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "congestion thresholds are required");
        }
    }

    /// Detect privilege, sink port from `quaver.sinkPort` or 2177, qWAVE's marks, a 60 s
    /// tracking grace period, on-link experiments only, default limits.
    public static QosOptions defaults() {
        return new QosOptions(null, 0, MarkingPolicy.QWAVE_DEFAULT, Duration.ofSeconds(60), false, QosLimits.DEFAULT,
                null, null, CongestionThresholds.DEFAULT, null);
    }

    public QosOptions withPrivileged(Boolean privileged) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, offLinkExperiments, limits,
                kernelShaping, daemonSocket, congestionThresholds, probeSecret);
    }

    public QosOptions withSinkPort(int sinkPort) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, offLinkExperiments, limits,
                kernelShaping, daemonSocket, congestionThresholds, probeSecret);
    }

    public QosOptions withMarkingPolicy(MarkingPolicy markingPolicy) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, offLinkExperiments, limits,
                kernelShaping, daemonSocket, congestionThresholds, probeSecret);
    }

    public QosOptions withTrackingGracePeriod(Duration gracePeriod) {
        return new QosOptions(privileged, sinkPort, markingPolicy, gracePeriod, offLinkExperiments, limits,
                kernelShaping, daemonSocket, congestionThresholds, probeSecret);
    }

    public QosOptions withOffLinkExperiments(boolean allowed) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, allowed, limits,
                kernelShaping, daemonSocket, congestionThresholds, probeSecret);
    }

    public QosOptions withLimits(QosLimits limits) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, offLinkExperiments,
                Objects.requireNonNull(limits), kernelShaping, daemonSocket, congestionThresholds, probeSecret);
    }

    /// Allows (`true`), forbids (`false`) or leaves to the system property
    /// `quaver.kernelShaping` (`null`) shaping with kernel classes on a privileged handle.
    public QosOptions withKernelShaping(Boolean kernelShaping) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, offLinkExperiments, limits,
                kernelShaping, daemonSocket, congestionThresholds, probeSecret);
    }

    /// Serves the handle by the `quaver daemon` listening on `socketPath` (host-wide flows,
    /// policy and tracking), or by the embedded engine (`null`, the default). The daemon
    /// decides privilege, marks, sink port, off-link experiments and the grace period.
    public QosOptions withDaemon(Path socketPath) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, offLinkExperiments, limits,
                kernelShaping, socketPath, congestionThresholds, probeSecret);
    }

    /// The congestion detector's thresholds for this handle's adaptive flows (default
    /// [CongestionThresholds#DEFAULT]).
    public QosOptions withCongestionThresholds(CongestionThresholds thresholds) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, offLinkExperiments, limits,
                kernelShaping, daemonSocket, thresholds, probeSecret);
    }

    /// Authenticates the handshakes of probing with `secret` (`null` = plain [MS-QLPB]).
    public QosOptions withProbeSecret(SharedSecret secret) {
        return new QosOptions(privileged, sinkPort, markingPolicy, trackingGracePeriod, offLinkExperiments, limits,
                kernelShaping, daemonSocket, congestionThresholds, secret);
    }
}
