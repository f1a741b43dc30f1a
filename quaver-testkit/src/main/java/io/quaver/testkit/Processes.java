package io.quaver.testkit;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/// Running external commands with captured output and a time limit.
final class Processes {
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final List<String> SBIN = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin",
            "/usr/local/bin");

    private Processes() {
    }

    /// Finds an executable on the PATH or in the usual sbin directories (root tools often live
    /// outside a non-root PATH).
    static Optional<Path> which(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Optional.of(Path.of(dir, name));
            }
        }
        for (String dir : SBIN) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return Optional.of(Path.of(dir, name));
            }
        }
        return Optional.empty();
    }

    /// Whether this process runs with effective UID 0.
    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.split("\\s+");
                    return f.length > 2 && f[2].equals("0");
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "root".equals(System.getProperty("user.name"));
    }

    static ExecResult run(List<String> command, Duration timeout) {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            return new ExecResult(command, 127, "", e.getMessage() == null ? e.toString() : e.getMessage(), false);
        }
        Drain out = new Drain(p.getInputStream(), "quaver-exec-" + IDS.incrementAndGet() + "-out");
        Drain err = new Drain(p.getErrorStream(), "quaver-exec-" + IDS.get() + "-err");
        boolean done;
        try {
            done = p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
        if (!done) {
            kill(p);
        }
        return new ExecResult(command, done ? p.exitValue() : -1, out.text(), err.text(), !done);
    }

    static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /// Reads a stream to its end on a platform daemon thread.
    static final class Drain {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        Drain(InputStream in, String threadName) {
            this.thread = Thread.ofPlatform().name(threadName).daemon(true).start(() -> {
                byte[] buf = new byte[8192];
                try (in) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        synchronized (bytes) {
                            bytes.write(buf, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // stream closed: the process is gone
                }
            });
        }

        /// Everything read, after waiting (briefly) for the end of the stream.
        String text() {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return snapshot();
        }

        String snapshot() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }

        Thread thread() {
            return thread;
        }
    }
}
