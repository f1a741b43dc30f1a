package io.quaver.cli;

import io.quaver.QosSink;
import io.quaver.SharedSecret;
import io.quaver.SinkOptions;
import io.quaver.SinkStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/// `./quaver sink`: runs an [MS-QLPB] sink until stopped (Ctrl-C).
@Command(name = "sink", mixinStandardHelpOptions = true,
        description = "Run a qWave probing sink ([MS-QLPB]) so that Quaver (or Windows qWAVE) can estimate the path"
                + " to this device. Runs until stopped (Ctrl-C).")
final class SinkCommand implements Callable<Integer> {

    @Option(names = "--bind", paramLabel = "ADDR", description = "Local address to listen on (default: every address,"
            + " IPv4 and IPv6).")
    String bind;

    @Option(names = "--port", paramLabel = "P", description = "TCP and UDP port (default: ${DEFAULT-VALUE}; 0 = any free"
            + " port).", defaultValue = "2177")
    int port;

    @Option(names = "--secret-file", paramLabel = "F", description = "Serve only handshakes authenticated with the"
            + " shared secret in file F (HMAC-SHA256; the probing side needs the same file). Default: none, plain"
            + " [MS-QLPB] as Windows qWAVE speaks it.")
    Path secretFile;

    @Override
    public Integer call() throws Exception {
        SinkOptions options = SinkOptions.defaults().withPort(port)
                .withBindAddress(bind == null ? null : InetAddress.getByName(bind))
                .withSecret(secretFile == null ? null : SharedSecret.fromFile(secretFile));
        QosSink sink = QosSink.start(options);
        Thread hook = new Thread(sink::close, "quaver-sink-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("quaver sink: listening on " + sink.localAddress() + " (TCP and UDP port " + sink.port()
                + ")" + (secretFile == null ? "" : ", authenticated handshakes only") + "; Ctrl-C to stop");
        System.out.flush();
        sink.awaitClose();
        SinkStats stats = sink.stats();
        System.err.println("quaver sink: stopped; " + stats);
        return 0;
    }
}
