package io.quaver.cli;

import io.quaver.internal.daemon.Daemon;
import io.quaver.internal.daemon.DaemonPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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

    @Option(names = "--sink-port", paramLabel = "P", defaultValue = "2177", description = "Port of the daemon's sink"
            + " and of the sinks its prober reaches (default: ${DEFAULT-VALUE}; 0 = any free port).")
    int sinkPort;

    @Override
    public Integer call() throws Exception {
        DaemonPolicy p = policy == null ? DaemonPolicy.defaults() : DaemonPolicy.parse(policy);
        Daemon daemon = Daemon.start(new Daemon.Config(socket, p, sinkPort, metricsPort));
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "quaver-daemon-shutdown"));
        System.out.println("quaver daemon: control socket " + socket + ", sink port " + daemon.sinkPort()
                + (daemon.metricsPort() < 0 ? "" : ", metrics http://127.0.0.1:" + daemon.metricsPort() + "/metrics")
                + "; Ctrl-C to stop");
        System.out.flush();
        daemon.awaitClose();
        return 0;
    }
}
