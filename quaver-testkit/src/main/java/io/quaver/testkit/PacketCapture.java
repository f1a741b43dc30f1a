package io.quaver.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/// A running `tcpdump` whose output is parsed into [CapturedPacket]s, to check what actually went
/// on the wire (addresses, ports, TOS / traffic class, lengths).
///
/// Runs `tcpdump -i <interface> -n -l -v -p -tt --immediate-mode <filter>`, inside a network
/// namespace when one is given (`ip netns exec`). `-tt` gives epoch timestamps and
/// `--immediate-mode` hands each packet over at once instead of when a buffer fills.
/// [Builder#start()] returns only once tcpdump has printed `listening on` (its capture socket is
/// attached), so a packet sent afterwards is seen.
///
/// ```java
/// try (var cap = PacketCapture.start("lo", "udp port " + port)) {
///     channel.send(buf, target);
///     CapturedPacket p = cap.await(CapturedPacket::isUdp, 1, Duration.ofSeconds(5)).getFirst();
///     assertThat(p.trafficClass()).isEqualTo(0xA0);
/// }
/// ```
///
/// Threads: two platform daemon threads `quaver-pcap-<n>-{out,err}`, ended by [#close()].
public final class PacketCapture implements AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();
    private static volatile Availability availability;

    private final List<String> command;
    private final Process process;
    private final Thread outReader;
    private final Processes.Drain stderr;
    private final List<CapturedPacket> packets = new ArrayList<>();

    private PacketCapture(Builder b) throws IOException {
        String tcpdump = Processes.which("tcpdump").map(Path::toString)
                .orElseThrow(() -> new IOException("tcpdump not found (apt-get install tcpdump)"));
        List<String> cmd = new ArrayList<>();
        if (b.namespace != null) {
            cmd.addAll(List.of(Processes.which("ip").map(Path::toString).orElse("ip"), "netns", "exec", b.namespace));
        }
        cmd.addAll(List.of(tcpdump, "-i", b.interfaceName, "-n", "-l", "-v", "-p", "-tt", "--immediate-mode",
                // A larger capture buffer: with --immediate-mode and the default buffer the kernel drops
                // packets of a quick burst on lo ("3 packets dropped by kernel" for 18 datagrams).
                "-B", "8192"));
        if (!b.filter.isBlank()) {
            cmd.add(b.filter);
        }
        this.command = List.copyOf(cmd);
        this.process = new ProcessBuilder(cmd).start();
        process.getOutputStream().close();
        int id = IDS.incrementAndGet();
        this.stderr = new Processes.Drain(process.getErrorStream(), "quaver-pcap-" + id + "-err");
        this.outReader = Thread.ofPlatform().name("quaver-pcap-" + id + "-out").daemon(true).start(this::readOutput);
        awaitListening(b.startTimeout);
    }

    /// A new builder.
    public static Builder builder() {
        return new Builder();
    }

    /// Starts a capture on `interfaceName` (host namespace) with a pcap `filter` expression.
    public static PacketCapture start(String interfaceName, String filter) throws IOException {
        return builder().interfaceName(interfaceName).filter(filter).start();
    }

    private void awaitListening(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() - deadline < 0) {
                if (stderr.snapshot().contains("listening on")) {
                    return;
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(2);
            }
        } catch (InterruptedException e) {
            close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + String.join(" ", command), e);
        }
        boolean exited = !process.isAlive();
        close();
        throw new IOException(String.join(" ", command) + (exited ? " exited: " : " did not start listening in "
                + timeout + ": ") + stderr.snapshot().strip());
    }

    private void readOutput() {
        var parser = new TcpdumpParser();
        try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                parser.accept(line).ifPresent(p -> {
                    synchronized (packets) {
                        packets.add(p);
                        packets.notifyAll();
                    }
                });
            }
        } catch (IOException e) {
            // stream closed: tcpdump is gone
        }
    }

    /// The command line running.
    public List<String> command() {
        return command;
    }

    /// Whether tcpdump is still running.
    public boolean isRunning() {
        return process.isAlive();
    }

    /// What tcpdump wrote to standard error so far (the `listening on` line, and at the end its
    /// packet counts).
    public String stderr() {
        return stderr.snapshot();
    }

    /// All packets parsed so far, in capture order.
    public List<CapturedPacket> packets() {
        synchronized (packets) {
            return List.copyOf(packets);
        }
    }

    /// Waits until at least `count` captured packets (counting from the start of the capture)
    /// match `predicate`, and returns the first `count` of them.
    ///
    /// @throws TimeoutException if fewer matched within `timeout`; the message lists what was seen
    public List<CapturedPacket> await(Predicate<? super CapturedPacket> predicate, int count, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (packets) {
            while (true) {
                List<CapturedPacket> matching = packets.stream().filter(predicate)
                        .limit(count).toList();
                if (matching.size() >= count) {
                    return matching;
                }
                long leftNs = deadline - System.nanoTime();
                if (leftNs <= 0 || !process.isAlive()) {
                    throw new TimeoutException(matching.size() + " of " + count + " expected packets captured in "
                            + timeout + (process.isAlive() ? "" : " (tcpdump exited: " + stderr.snapshot().strip() + ")")
                            + "; all " + packets.size() + " packets: "
                            + packets.stream().map(CapturedPacket::text).toList());
                }
                TimeUnit.NANOSECONDS.timedWait(packets, Math.min(leftNs, 50_000_000));
            }
        }
    }

    /// Stops tcpdump (SIGTERM, so it prints its statistics, then SIGKILL if needed) and ends the
    /// reader threads. Idempotent.
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    Processes.kill(process);
                }
            } catch (InterruptedException e) {
                Processes.kill(process);
                Thread.currentThread().interrupt();
            }
        }
        try {
            outReader.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stderr.text();
    }

    /// Whether packet capture works here: tcpdump installed and allowed to capture (root, or
    /// CAP_NET_RAW on the binary), checked with a trial capture on `lo`. Computed once per JVM.
    public static Availability availability() {
        Availability a = availability;
        if (a == null) {
            synchronized (PacketCapture.class) {
                a = availability;
                if (a == null) {
                    a = probe();
                    availability = a;
                }
            }
        }
        return a;
    }

    private static Availability probe() {
        if (Processes.which("tcpdump").isEmpty()) {
            return Availability.no("tcpdump not found (apt-get install tcpdump)");
        }
        try (var trial = builder().interfaceName("lo").filter("udp port 9").startTimeout(Duration.ofSeconds(5)).start()) {
            return Availability.yes("tcpdump can capture" + (Processes.isRoot() ? " (root)" : " (capabilities)")
                    + ": " + trial.command().getFirst());
        } catch (IOException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            return Availability.no("tcpdump cannot capture here" + (Processes.isRoot() ? "" : " (not root; needs root or"
                    + " CAP_NET_RAW+CAP_NET_ADMIN on the tcpdump binary)") + ": " + msg);
        }
    }

    /// Builder for [PacketCapture]; [#interfaceName] is required.
    public static final class Builder {
        private String interfaceName;
        private String filter = "";
        private String namespace;
        private Duration startTimeout = Duration.ofSeconds(10);

        private Builder() {
        }

        /// The interface to capture on (`lo`, `to-b`…).
        public Builder interfaceName(String interfaceName) {
            this.interfaceName = Objects.requireNonNull(interfaceName);
            return this;
        }

        /// A pcap filter expression (`udp port 5000`); empty for everything.
        public Builder filter(String filter) {
            this.filter = Objects.requireNonNull(filter);
            return this;
        }

        /// Capture inside this named network namespace instead of the host's.
        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        /// How long to wait for tcpdump to start listening; default 10 s.
        public Builder startTimeout(Duration startTimeout) {
            this.startTimeout = Objects.requireNonNull(startTimeout);
            return this;
        }

        /// Starts tcpdump and waits until it listens.
        public PacketCapture start() throws IOException {
            if (interfaceName == null) {
                throw new IllegalStateException("interfaceName is required");
            }
            return new PacketCapture(this);
        }
    }
}
