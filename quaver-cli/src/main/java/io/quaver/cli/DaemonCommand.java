package io.quaver.cli;

import io.quaver.internal.daemon.Daemon;
import io.quaver.internal.daemon.DaemonPolicy;
import io.quaver.SharedSecret;
import io.quaver.dashboard.Dashboard;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/// `./quaver daemon`: runs the engine as a host service until stopped (Ctrl-C).
@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Run Quaver as a host service: host-wide flows, one prober and one sink, marks and privilege by"
                + " policy. Applications select it with QosOptions.withDaemon(socketPath).",
                "Runs until stopped (Ctrl-C)."})
final class DaemonCommand implements Callable<Integer> {
    /// Where the daemon listens unless told otherwise.
    static final String DEFAULT_SOCKET = "/run/quaver.sock";

    @Option(names = "--socket", paramLabel = "PATH", defaultValue = DEFAULT_SOCKET,
            description = "Control socket (default: ${DEFAULT-VALUE}).")
    Path socket;

    @Option(names = "--policy", paramLabel = "FILE", description = "Policy file: marks per traffic type, off-link"
            + " experiments, privileged users and groups (default: qWAVE's marks, on-link only, root privileged).")
    Path policy;

    @Option(names = "--metrics-port", paramLabel = "P", defaultValue = "-1", description = "Serve Prometheus metrics"
            + " on http://127.0.0.1:P/metrics (0 = any free port; default: off).")
    int metricsPort;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /// -1: no dashboard.
    int dashboardPort = -1;

    @Option(names = "--dashboard-port", paramLabel = "P", description = "Serve the live dashboard of every client's"
            + " flows on http://127.0.0.1:P/ (0 = any free port; the URL is printed; default: off).")
    void setDashboardPort(int p) {
        if (p < 0 || p > 65_535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--dashboard-port must be 0-65535, was " + p);
        }
        dashboardPort = p;
    }

    @Option(names = "--secret-file", paramLabel = "F", description = "Authenticate handshakes with the shared secret"
            + " in file F (HMAC-SHA256): the daemon's prober signs its handshakes (for sinks started with the same"
            + " --secret-file) and its sink serves only signed ones. Default: none, plain [MS-QLPB].")
    Path secretFile;

    @Option(names = "--sink-port", paramLabel = "P", defaultValue = "2177", description = "Port of the daemon's sink"
            + " and of the sinks its prober reaches (default: ${DEFAULT-VALUE}; 0 = any free port).")
    int sinkPort;

    @Override
    public Integer call() throws Exception {
        DaemonPolicy p = policy == null ? DaemonPolicy.defaults() : DaemonPolicy.parse(policy);
        Daemon daemon = Daemon.start(new Daemon.Config(socket, p, sinkPort, metricsPort,
                secretFile == null ? null : SharedSecret.fromFile(secretFile)));
        Dashboard dashboard;
        try {
            dashboard = dashboardPort < 0 ? null : DaemonDashboard.start(daemon, dashboardPort);
        } catch (IOException | RuntimeException e) {
            daemon.close();
            throw e;
        }
        // the dashboard first: it reads the daemon
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (dashboard != null) {
                dashboard.close();
            }
            daemon.close();
        }, "quaver-daemon-shutdown"));
        System.out.println("quaver daemon: control socket " + socket + ", sink port " + daemon.sinkPort()
                + (daemon.metricsPort() < 0 ? "" : ", metrics http://127.0.0.1:" + daemon.metricsPort() + "/metrics")
                + (dashboard == null ? "" : ", dashboard " + dashboard.url())
                + (secretFile == null ? "" : ", authenticated handshakes only")
                + "; Ctrl-C to stop");
        System.out.flush();
        daemon.awaitClose();
        return 0;
    }
}
