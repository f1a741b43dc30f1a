package io.quaver.examples;

import io.quaver.qos2.Overlapped;
import io.quaver.qos2.QOS_FLOWRATE_OUTGOING;
import io.quaver.qos2.QOS_FLOW_FUNDAMENTALS;
import io.quaver.qos2.QOS_VERSION;
import io.quaver.qos2.QosHandle;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.concurrent.locks.LockSupport;

import static io.quaver.qos2.Qos2.*;

/// The client side of Microsoft's QoS2 SDK sample (`qossample.c`, Windows classic samples,
/// `netds/Qos/Qos2`) ported to Java over Quaver's qos2 layer, call for call:
///
/// 1. a UDP socket is connected to the destination;
/// 2. `QOSCreateHandle`;
/// 3. `QOSAddSocketToFlow` without `QOS_NON_ADAPTIVE_FLOW` (an adaptive flow, ExcellentEffort);
/// 4. `QOSQueryFlow(QOSQueryFlowFundamentals)` every second until the bottleneck and available
///    bandwidth are known (`ERROR_NO_DATA`: wait; `ERROR_NOT_SUPPORTED` and the other "no
///    experiments towards this destination" answers: go on without estimates, shaping only);
/// 5. if the available bandwidth cannot carry the requested rate, the rate is lowered to it;
/// 6. `QOSSetFlow(QOSSetOutgoingRate)` with `QOSShapeAndMark`, the rate counted with the IP and
///    UDP headers (`QOS_ADD_OVERHEAD`);
/// 7. `QOSNotifyFlow(QOSNotifyCongested)` with an [Overlapped];
/// 8. datagrams of 1400 bytes are streamed at the current rate;
/// 9. on congestion the rate drops to a tenth and `QOSNotifyFlow(QOSNotifyAvailable)` asks to be
///    told when the original rate fits again; then the rate is restored and Congested is asked
///    for again — for as long as the program runs.
///
/// Differences from the C sample, all forced by the platform: the sample hands bursts to
/// `TransmitPackets` and lets Windows' shaper complete them at the rate; a Java program writes
/// to its socket, so this one paces its own writes (one datagram per interval of the current
/// rate) — Quaver shapes the socket too where a kernel class can be installed. Quaver answers
/// `ERROR_RETRY` (1237) or `ERROR_NETWORK_BUSY` (54) to a rate its admission control cannot
/// admit yet; the sample would exit, this port retries for up to 10 s. It also stops after a
/// duration. The server side of the sample (a counting receiver) is any UDP sink.
///
/// ```
/// java -cp ... io.quaver.examples.QosSample DESTINATION[:PORT] RATE_BPS [SECONDS]
/// ```
///
/// `DESTINATION` must run a sink (`./quaver sink`) for the estimates and notifications; the
/// datagrams go to `PORT` (default 40007, the sample's).
public final class QosSample {
    /// Payload of each datagram, bytes (the sample's `DATAGRAM_SIZE`).
    public static final int DATAGRAM_SIZE = 1400;
    /// The sample's port.
    public static final int PORT = 40007;
    /// How often the table row and the estimates are printed (the sample's 1 s timer).
    private static final long REPORT_NS = 1_000_000_000L;
    /// How long a rate refused with 1237 / 54 is retried.
    private static final long ADMISSION_RETRY_NS = 10_000_000_000L;

    /// What the loop did: estimates found, a rate set, congestion, its end.
    public enum Kind {
        /// Estimates exist; `rateBps` is the available bandwidth.
        ESTIMATES,
        /// The first rate was admitted; `rateBps` is the payload rate.
        STARTED,
        /// `QOSNotifyCongested` completed; the rate dropped to `rateBps`.
        CONGESTION,
        /// `QOSNotifyAvailable` completed; the rate was restored to `rateBps`.
        END_OF_CONGESTION
    }

    /// One transition of the loop, for programs that drive this one (tests).
    ///
    /// @param atNs    `System.nanoTime()` when it happened
    /// @param kind    what happened
    /// @param rateBps the payload rate from then on (the available bandwidth for ESTIMATES)
    public record Transition(long atNs, Kind kind, long rateBps) {
    }

    /// @param destination where to send (must run a sink for estimates and notifications)
    /// @param rateBps     the target payload rate, bits/s
    /// @param duration    how long to stream
    public record Settings(InetSocketAddress destination, long rateBps, Duration duration) {
        public Settings {
            if (destination == null || destination.isUnresolved() || rateBps <= 0 || duration == null
                    || duration.isNegative()) {
                throw new IllegalArgumentException("a resolved destination, a rate > 0 and a duration >= 0 are needed");
            }
        }
    }

    private final Settings settings;
    private final PrintStream out;
    private final Consumer<Transition> listener;
    private final BooleanSupplier stopRequested;
    private final ByteBuffer dataBuffer = ByteBuffer.allocate(DATAGRAM_SIZE);

    private QosSample(Settings settings, PrintStream out, Consumer<Transition> listener, BooleanSupplier stop) {
        this.settings = settings;
        this.out = out;
        this.listener = listener;
        this.stopRequested = stop;
    }

    public static void main(String[] args) {
        Settings s;
        try {
            s = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            help(System.err);
            System.exit(2);
            return;
        }
        System.exit(client(s, System.out, t -> { }, () -> false));
    }

    /// Parses `DESTINATION[:PORT] RATE_BPS [SECONDS]` (an IPv6 destination with a port in
    /// brackets: `[fd00::2]:40007`).
    static Settings parse(String[] args) {
        if (args.length < 2 || args.length > 3) {
            throw new IllegalArgumentException("expected DESTINATION[:PORT] RATE_BPS [SECONDS]");
        }
        String dest = args[0];
        int port = PORT;
        String host = dest;
        int colon = dest.lastIndexOf(':');
        if (dest.startsWith("[") && dest.contains("]")) {
            host = dest.substring(1, dest.indexOf(']'));
            String rest = dest.substring(dest.indexOf(']') + 1);
            port = rest.startsWith(":") ? Integer.parseInt(rest.substring(1)) : PORT;
        } else if (colon > 0 && dest.indexOf(':') == colon) {
            host = dest.substring(0, colon);
            port = Integer.parseInt(dest.substring(colon + 1));
        }
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the destination must be an IP address, was " + host);
        }
        long rate;
        try {
            rate = Long.parseLong(args[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the rate must be a number of bits/s, was " + args[1]);
        }
        long seconds = args.length == 3 ? Long.parseLong(args[2]) : 60;
        return new Settings(new InetSocketAddress(address, port), rate, Duration.ofSeconds(seconds));
    }

    static void help(PrintStream err) {
        err.println("usage: QosSample DESTINATION[:PORT] RATE_BPS [SECONDS]");
        err.println("  streams RATE_BPS of UDP payload to DESTINATION (port " + PORT + " by default) for SECONDS");
        err.println("  (default 60) over an adaptive QoS flow; drops to a tenth on congestion and restores the");
        err.println("  rate when bandwidth is available again. DESTINATION should run `quaver sink`.");
    }

    /// Runs the sample's client loop.
    ///
    /// @param settings where, how fast, how long
    /// @param out      the console
    /// @param listener told of each transition (on the calling thread)
    /// @param stop     polled while streaming; `true` ends the loop early
    /// @return the exit status: 0 when the duration elapsed (or `stop` said so), 1 on a failure
    public static int client(Settings settings, PrintStream out, Consumer<Transition> listener, BooleanSupplier stop) {
        return new QosSample(settings, out, listener, stop).run();
    }

    private int failure(String what, int error) {
        out.printf(Locale.ROOT, "%s failed (%d)%n", what, error);
        return 1;
    }

    private int run() {
        InetSocketAddress destination = settings.destination();
        int addressFamily = destination.getAddress() instanceof Inet6Address ? AF_INET6 : AF_INET;
        // 1) a UDP socket connected to the destination
        try (DatagramChannel socket = DatagramChannel.open(addressFamily == AF_INET6 ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET)) {
            socket.connect(destination);
            // 2) the QoS subsystem
            QosHandle[] qosHandle = new QosHandle[1];
            if (!QOSCreateHandle(new QOS_VERSION(1, 0), qosHandle)) {
                return failure("QOSCreateHandle", GetLastError());
            }
            try {
                return withHandle(socket, qosHandle[0], addressFamily);
            } finally {
                QOSCloseHandle(qosHandle[0]);
            }
        } catch (IOException e) {
            out.println("socket: " + e.getMessage());
            return 1;
        }
    }

    private int withHandle(DatagramChannel socket, QosHandle qosHandle, int addressFamily) {
        // 3) an adaptive flow for the socket (the flow id must be 0 on input)
        int[] flowId = {0};
        if (!QOSAddSocketToFlow(qosHandle, socket, null, QOSTrafficTypeExcellentEffort, 0, flowId)) {
            return failure("QOSAddSocketToFlow", GetLastError());
        }
        long targetBitRate = settings.rateBps();
        long targetPacketRate = Math.ceilDiv(targetBitRate, 8L * DATAGRAM_SIZE);
        targetBitRate = targetPacketRate * DATAGRAM_SIZE * 8;
        out.printf(Locale.ROOT, "--------------------------------------------------------------------%n"
                + "This instance of the QOS sample program is aiming to:%n"
                + "\t - Send %d bits of UDP traffic per second%n"
                + "\t - In packets of %d bytes%n"
                + "\t - %d packets per second, paced%n"
                + "--------------------------------------------------------------------%n",
                targetBitRate, DATAGRAM_SIZE, targetPacketRate);

        // 4) the path's fundamentals, until estimates exist
        long deadline = System.nanoTime() + settings.duration().toNanos();
        QOS_FLOW_FUNDAMENTALS flowFund = null;
        boolean estimatesAvailable = false;
        out.print("Querying fundamentals about the network path: ");
        ByteBuffer fundBuffer = ByteBuffer.allocate(QOS_FLOW_FUNDAMENTALS.SIZE);
        while (!stopped() && System.nanoTime() - deadline < 0) {
            int[] size = {QOS_FLOW_FUNDAMENTALS.SIZE};
            if (!QOSQueryFlow(qosHandle, flowId[0], QOSQueryFlowFundamentals, size, fundBuffer, 0, null)) {
                int lastError = GetLastError();
                if (lastError == ERROR_NO_DATA || lastError == ERROR_RETRY) {
                    out.print(".");
                    sleep(1000);
                    continue;
                }
                if (lastError == ERROR_NOT_SUPPORTED || lastError == ERROR_ACCESS_DISABLED_BY_POLICY
                        || lastError == ERROR_HOST_UNREACHABLE) {
                    out.printf(Locale.ROOT, "NOT SUPPORTED (%d)%n"
                            + "\t   Network conditions to this destination could not be detected (no sink"
                            + " answers there,%n\t   or experiments towards it are not allowed); the flow is"
                            + " shaped and marked only%n", lastError);
                    break;
                }
                out.println();
                return failure("QOSQueryFlow", lastError);
            }
            QOS_FLOW_FUNDAMENTALS f = QOS_FLOW_FUNDAMENTALS.read(fundBuffer);
            if (!f.BottleneckBandwidthSet() || !f.AvailableBandwidthSet()) {
                out.print(".");
                sleep(1000);
                continue;
            }
            flowFund = f;
            estimatesAvailable = true;
            out.printf(Locale.ROOT, "DONE%n\t - Bottleneck bandwidth is approximately %4.2f Mbps%n"
                    + "\t - Available bandwidth is approximately  %4.2f Mbps%n",
                    f.BottleneckBandwidth() / 1e6, f.AvailableBandwidth() / 1e6);
            listener.accept(new Transition(System.nanoTime(), Kind.ESTIMATES, f.AvailableBandwidth()));
            break;
        }
        if (stopped() || System.nanoTime() - deadline >= 0) {
            out.println();
            return 0;
        }

        // 5) not more than the path can carry
        if (estimatesAvailable) {
            long withHeaders = QOS_ADD_OVERHEAD(addressFamily, IPPROTO_UDP, DATAGRAM_SIZE, targetBitRate);
            if (flowFund.AvailableBandwidth() < withHeaders) {
                long availableBandwidth = QOS_SUBTRACT_OVERHEAD(addressFamily, IPPROTO_UDP, DATAGRAM_SIZE,
                        flowFund.AvailableBandwidth());
                targetPacketRate = Math.max(1, availableBandwidth / 8 / DATAGRAM_SIZE);
                targetBitRate = targetPacketRate * DATAGRAM_SIZE * 8;
                out.printf(Locale.ROOT, "Not enough available bandwidth for the requested bitrate.%n"
                        + "Downgrading to lesser bitrate - %d.%n", targetBitRate);
            }
        }

        // 6) shape (and mark) the flow at the rate, headers included
        long currentBitRate = targetBitRate;
        int err = setRate(qosHandle, flowId[0], addressFamily, currentBitRate, QOSFlowRateNotApplicable, deadline);
        if (err != ERROR_SUCCESS) {
            return failure("QOSSetFlow", err);
        }
        listener.accept(new Transition(System.nanoTime(), Kind.STARTED, currentBitRate));

        // 7) ask to be told of congestion
        Overlapped congestionOverlapped = new Overlapped();
        Overlapped availableOverlapped = new Overlapped();
        if (estimatesAvailable) {
            err = notify(qosHandle, flowId[0], QOSNotifyCongested, null, null, congestionOverlapped);
            if (err != ERROR_SUCCESS) {
                return failure("QOSNotifyFlow", err);
            }
        }
        out.printf(Locale.ROOT, "--------------------------------------------------------------------%n"
                + " # packets | # of bits  |  Bottleneck |  Available |  Congestion%n"
                + "--------------------------------------------------------------------%n");

        // 8) stream, reacting to the notifications (9)
        long achievedPacketRate = 0;
        long achievedBitRate = 0;
        boolean congestion = false;
        long now = System.nanoTime();
        long nextSendNs = now;
        long nextReportNs = now + REPORT_NS;
        ByteBuffer target = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        int[] targetSize = {8};
        while (!stopped() && (now = System.nanoTime()) - deadline < 0) {
            if (now - nextSendNs >= 0) {
                dataBuffer.clear();
                try {
                    socket.write(dataBuffer);
                } catch (IOException e) {
                    // a datagram the kernel refused (e.g. ICMP port unreachable from a receiver
                    // that is not up yet): UDP, so carry on
                }
                achievedPacketRate++;
                achievedBitRate += DATAGRAM_SIZE * 8L;
                long gapNs = DATAGRAM_SIZE * 8L * 1_000_000_000L / currentBitRate;
                nextSendNs = Math.max(nextSendNs + gapNs, now - 100_000_000L); // bounded catch-up
            }
            if (now - nextReportNs >= 0) {
                report(qosHandle, flowId[0], estimatesAvailable, achievedPacketRate, achievedBitRate);
                achievedPacketRate = 0;
                achievedBitRate = 0;
                nextReportNs += REPORT_NS;
            }
            Overlapped pending = congestion ? availableOverlapped : congestionOverlapped;
            if (estimatesAvailable && pending.isCompleted()) {
                if (pending.status() != ERROR_SUCCESS) {
                    return failure("QOSNotifyFlow (completion)", pending.status());
                }
                if (!congestion) {
                    out.printf(Locale.ROOT, "--------------------------------------------------------------------%n"
                            + "CONGESTION%n"
                            + "--------------------------------------------------------------------%n");
                    // a tenth of the rate, at least one packet per second
                    long packets = Math.max(1, targetPacketRate / 10);
                    currentBitRate = packets * DATAGRAM_SIZE * 8;
                    err = setRate(qosHandle, flowId[0], addressFamily, currentBitRate, QOSFlowRateCongestion, deadline);
                    if (err != ERROR_SUCCESS) {
                        return failure("QOSSetFlow", err);
                    }
                    listener.accept(new Transition(System.nanoTime(), Kind.CONGESTION, currentBitRate));
                    // tell me when the original rate fits again
                    target.putLong(0, QOS_ADD_OVERHEAD(addressFamily, IPPROTO_UDP, DATAGRAM_SIZE, targetBitRate));
                    targetSize[0] = 8;
                    err = notify(qosHandle, flowId[0], QOSNotifyAvailable, targetSize, target, availableOverlapped);
                    if (err != ERROR_SUCCESS) {
                        return failure("QOSNotifyFlow", err);
                    }
                    congestion = true;
                } else {
                    out.printf(Locale.ROOT, "--------------------------------------------------------------------%n"
                            + "END OF CONGESTION (%d bits/s available)%n"
                            + "--------------------------------------------------------------------%n",
                            target.getLong(0));
                    currentBitRate = targetBitRate;
                    err = setRate(qosHandle, flowId[0], addressFamily, currentBitRate, QOSFlowRateCongestion, deadline);
                    if (err != ERROR_SUCCESS) {
                        return failure("QOSSetFlow", err);
                    }
                    listener.accept(new Transition(System.nanoTime(), Kind.END_OF_CONGESTION, currentBitRate));
                    err = notify(qosHandle, flowId[0], QOSNotifyCongested, null, null, congestionOverlapped);
                    if (err != ERROR_SUCCESS) {
                        return failure("QOSNotifyFlow", err);
                    }
                    congestion = false;
                }
            }
            long wake = Math.min(nextSendNs, nextReportNs);
            long sleepNs = Math.min(wake - System.nanoTime(), 5_000_000L); // notifications are looked at every 5 ms
            if (sleepNs > 0) {
                LockSupport.parkNanos(sleepNs);
            }
        }
        QOSRemoveSocketFromFlow(qosHandle, socket, flowId[0], 0);
        return 0;
    }

    /// `QOSSetFlow(QOSSetOutgoingRate)` with `QOSShapeAndMark`; retries what admission control
    /// cannot admit yet (1237, 54) until `ADMISSION_RETRY_NS` or the deadline.
    ///
    /// @return `ERROR_SUCCESS` or the last error
    private int setRate(QosHandle qosHandle, int flowId, int addressFamily, long payloadBps, int reason,
                        long deadline) {
        ByteBuffer flowRate = ByteBuffer.allocate(QOS_FLOWRATE_OUTGOING.SIZE);
        new QOS_FLOWRATE_OUTGOING(QOS_ADD_OVERHEAD(addressFamily, IPPROTO_UDP, DATAGRAM_SIZE, payloadBps),
                QOSShapeAndMark, reason).write(flowRate);
        long giveUp = System.nanoTime() + ADMISSION_RETRY_NS;
        while (true) {
            if (QOSSetFlow(qosHandle, flowId, QOSSetOutgoingRate, QOS_FLOWRATE_OUTGOING.SIZE, flowRate, 0, null)) {
                return ERROR_SUCCESS;
            }
            int lastError = GetLastError();
            long now = System.nanoTime();
            if ((lastError != ERROR_RETRY && lastError != ERROR_NETWORK_BUSY) || now - giveUp >= 0
                    || now - deadline >= 0 || stopped()) {
                return lastError;
            }
            out.printf(Locale.ROOT, "QOSSetFlow: not admitted yet (%d), retrying%n", lastError);
            sleep(500);
        }
    }

    /// `QOSNotifyFlow` with an overlapped: accepted (997) or completed at once.
    ///
    /// @return `ERROR_SUCCESS` or the error
    private static int notify(QosHandle qosHandle, int flowId, int operation, int[] size, ByteBuffer buffer,
                              Overlapped overlapped) {
        if (QOSNotifyFlow(qosHandle, flowId, operation, size, buffer, 0, overlapped)) {
            return ERROR_SUCCESS; // the condition held already: the overlapped is complete
        }
        int lastError = GetLastError();
        return lastError == ERROR_IO_PENDING ? ERROR_SUCCESS : lastError;
    }

    private void report(QosHandle qosHandle, int flowId, boolean estimatesAvailable, long packets, long bits) {
        StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%10d | %10d | ", packets, bits));
        if (estimatesAvailable) {
            ByteBuffer b = ByteBuffer.allocate(QOS_FLOW_FUNDAMENTALS.SIZE);
            int[] size = {QOS_FLOW_FUNDAMENTALS.SIZE};
            if (QOSQueryFlow(qosHandle, flowId, QOSQueryFlowFundamentals, size, b, 0, null)) {
                QOS_FLOW_FUNDAMENTALS f = QOS_FLOW_FUNDAMENTALS.read(b);
                row.append(f.BottleneckBandwidthSet() ? String.format(Locale.ROOT, "%10d  | ", f.BottleneckBandwidth())
                        : "   NO DATA  | ");
                row.append(f.AvailableBandwidthSet() ? String.format(Locale.ROOT, "%10d | ", f.AvailableBandwidth())
                        : "   NO DATA | ");
                if (f.AvailableBandwidthSet() && f.AvailableBandwidth() == 0) {
                    row.append(" CONGESTION");
                }
            } else {
                row.append("   NO DATA  |    NO DATA | ");
            }
        } else {
            row.append("    N/A     |     N/A    |");
        }
        out.println(row);
    }

    /// The caller asked to stop, or interrupted the thread.
    private boolean stopped() {
        return stopRequested.getAsBoolean() || Thread.currentThread().isInterrupted();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
