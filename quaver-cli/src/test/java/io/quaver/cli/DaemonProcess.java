package io.quaver.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/// `quaver daemon` in a JVM of its own, started from this JVM's class path (the shaded jar only
/// exists after `package`), with its output collected.
final class DaemonProcess implements AutoCloseable {
    private static final Pattern DASHBOARD = Pattern.compile("dashboard (http://\\S+/)");
    private static final Pattern SINK_PORT = Pattern.compile("sink port (\\d+)");

    private final Process process;
    private final StringBuffer out = new StringBuffer();
    private final StringBuffer err = new StringBuffer();
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    private final Thread outReader;
    private final Thread errReader;

    private DaemonProcess(List<String> command) throws IOException {
        this.process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                "/dev/null"))).start();
        this.outReader = Thread.ofVirtual().name("daemon-process-out").start(() -> drain(process.getInputStream(), out,
                true));
        this.errReader = Thread.ofVirtual().name("daemon-process-err").start(() -> drain(process.getErrorStream(), err,
                false));
    }

    /// Starts `quaver daemon ARGS` and waits (at most 60 s) for its "control socket" line.
    static DaemonProcess start(Path socket, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "daemon", "--socket", socket.toString(), "--sink-port", "0"));
        cmd.addAll(List.of(args));
        DaemonProcess p = new DaemonProcess(cmd);
        try {
            p.ready.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            p.close();
            throw new AssertionError("quaver daemon did not start: " + p.output(), e);
        }
        return p;
    }

    private void drain(InputStream in, StringBuffer to, boolean stdout) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                to.append(line).append('\n');
                if (stdout && line.startsWith("quaver daemon: control socket")) {
                    ready.complete(line);
                }
            }
        } catch (IOException e) {
            to.append("(reading failed: ").append(e).append(")\n");
        }
        ready.completeExceptionally(new IOException("the daemon's output ended"));
    }

    /// The dashboard's URL the daemon printed, or `null`.
    URI dashboard() {
        Matcher m = DASHBOARD.matcher(ready.join());
        return m.find() ? URI.create(m.group(1)) : null;
    }

    /// The port of the daemon's sink, as printed.
    int sinkPort() {
        Matcher m = SINK_PORT.matcher(ready.join());
        if (!m.find()) {
            throw new AssertionError("no sink port in: " + ready.join());
        }
        return Integer.parseInt(m.group(1));
    }

    /// The line the daemon printed when it started.
    String banner() {
        return ready.join();
    }

    /// SIGKILL, and waits for the process to end; returns its exit status.
    int kill() throws InterruptedException {
        process.destroyForcibly();
        return await();
    }

    /// SIGTERM (the daemon's shutdown hook runs), and waits for the process to end.
    int terminate() throws InterruptedException {
        process.destroy();
        return await();
    }

    private int await() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the daemon process did not end: " + output());
        }
        outReader.join(10_000);
        errReader.join(10_000);
        return process.exitValue();
    }

    String output() {
        return "stdout:\n" + out + "stderr:\n" + err;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
