package io.quaver.cli;

import io.quaver.FlowInfo;
import io.quaver.OutgoingRate;
import io.quaver.PacketPriority;
import io.quaver.dashboard.CongestionState;
import io.quaver.dashboard.Dashboard;
import io.quaver.dashboard.DashboardSnapshot;
import io.quaver.dashboard.DashboardSource;
import io.quaver.dashboard.FlowSample;
import io.quaver.internal.Engine;
import io.quaver.internal.daemon.Daemon;
import io.quaver.internal.daemon.DaemonFlow;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/// The dashboard's view of a daemon: every flow of every client of its host engine, with the
/// traffic type and the marks the daemon decided, the admitted rate, the send rate the client
/// reports, and the estimates and congestion state of the flow's path.
final class DaemonDashboard implements DashboardSource {
    private final Daemon daemon;

    DaemonDashboard(Daemon daemon) {
        this.daemon = Objects.requireNonNull(daemon, "daemon");
    }

    /// Serves the dashboard of `daemon` on loopback port `port` (0: any free port).
    static Dashboard start(Daemon daemon, int port) throws IOException {
        return start(daemon, port, Dashboard.DEFAULT_SAMPLE_INTERVAL);
    }

    static Dashboard start(Daemon daemon, int port, Duration sampleInterval) throws IOException {
        return Dashboard.start(new DaemonDashboard(daemon), new InetSocketAddress(InetAddress.getLoopbackAddress(),
                port), sampleInterval, Dashboard.DEFAULT_CAPACITY);
    }

    @Override
    public DashboardSnapshot snapshot() {
        Engine engine = daemon.hostEngine();
        List<DaemonFlow> flows = daemon.flows();
        List<FlowSample> samples = new ArrayList<>(flows.size());
        for (DaemonFlow f : flows) {
            FlowInfo info = f.info();
            PacketPriority marks = info.applied();
            OutgoingRate rate = info.rate();
            Engine.PathView path = engine.pathView(info.flowId());
            CongestionState congestion = !path.monitored() ? CongestionState.UNKNOWN
                    : path.congested() ? CongestionState.CONGESTED : CongestionState.UNCONGESTED;
            samples.add(new FlowSample(info.flowIdUnsigned(), label(f), info.trafficType(),
                    marks == null ? 0 : marks.conformantDscp(), marks == null ? 0 : marks.conformantL2(),
                    rate == null ? -1 : rate.bandwidthBps(), daemon.sentRateBps(info.flowId()), path.bottleneckBps(),
                    path.availableBps(), path.rttUs(), congestion));
        }
        return new DashboardSnapshot("quaver daemon — " + daemon.socketPath(), daemon.connectionCount()
                + " client connection(s), " + flows.size() + " flow(s), sink port " + daemon.sinkPort(), samples);
    }

    /// `owner → udp 192.0.2.7:5004` (the first socket's destination).
    private static String label(DaemonFlow f) {
        List<FlowInfo.Member> members = f.info().members();
        if (members.isEmpty()) {
            return f.owner();
        }
        FlowInfo.Member m = members.getFirst();
        InetSocketAddress d = m.destination();
        String to = d == null ? "?" : d.getAddress().getHostAddress() + ":" + d.getPort();
        return f.owner() + " → " + m.protocol() + " " + to + (members.size() > 1 ? " (+" + (members.size() - 1)
                + ")" : "");
    }
}
