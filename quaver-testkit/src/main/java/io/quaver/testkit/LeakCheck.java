package io.quaver.testkit;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Predicate;

/// The leak check behind [NoLeaksClassExtension], usable without JUnit: take a [Snapshot] before,
/// then [#verify] after; it waits up to a grace period for resources that close asynchronously
/// and throws an [AssertionError] naming everything still left over.
///
/// What it counts:
/// - live threads named `quaver-*` (platform threads, and virtual ones that are mounted or
///   parked in a way [Thread#getAllStackTraces()] reports), less those matching an ignore rule;
/// - file descriptors of this process that are sockets (`/proc/self/fd/N -> socket:[…]`): exact,
///   not affected by the JVM opening jar or JIT files;
/// - network namespaces created by this JVM ([NetnsTestBed#ownedNamespaces()]);
/// - every [LeakProbe] registered with [ServiceLoader].
///
/// The JDK keeps one socket of its own for the life of the JVM: the first NIO channel loads
/// `sun.nio.ch.UnixDispatcher`, whose static initialiser makes a Unix socket pair and keeps one
/// end open as the "pre-close" descriptor (dup2'd over a channel's descriptor to wake threads
/// blocked in it on an asynchronous close). Loading this class opens and closes a datagram
/// channel once, so that descriptor exists before any snapshot and never counts as a leak.
/// Likewise the JDK's attach listener (started for good by the first `jcmd` on this JVM, which
/// tests that take thread dumps do) listens on a Unix socket `.java_pid<pid>`: it is not counted.
public final class LeakCheck {
    static {
        try {
            java.nio.channels.DatagramChannel.open().close();
        } catch (IOException e) {
            // no sockets at all: nothing to warm up
        }
    }

    private final List<LeakProbe> probes;
    private final Predicate<String> ignoredThread;

    /// A check with the given probes; threads whose name satisfies `ignoredThread` are not counted
    /// (process-wide singletons such as an engine's pacer thread).
    public LeakCheck(List<LeakProbe> probes, Predicate<String> ignoredThread) {
        this.probes = List.copyOf(probes);
        this.ignoredThread = ignoredThread;
    }

    /// A check with the probes found by [ServiceLoader] through `loader`.
    public static LeakCheck discover(ClassLoader loader, Predicate<String> ignoredThread) {
        List<LeakProbe> found = new ArrayList<>();
        ServiceLoader.load(LeakProbe.class, loader).forEach(found::add);
        return new LeakCheck(found, ignoredThread);
    }

    /// The probes this check uses.
    public List<LeakProbe> probes() {
        return probes;
    }

    /// What was live at one moment.
    public record Snapshot(Set<Thread> threads, Set<String> socketFds, Set<String> namespaces,
            Map<String, Long> counts) {
    }

    /// Takes a snapshot now.
    public Snapshot snapshot() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (LeakProbe p : probes) {
            counts.put(p.name(), p.count());
        }
        return new Snapshot(new HashSet<>(threads()), socketFds(), new HashSet<>(NetnsTestBed.ownedNamespaces()),
                counts);
    }

    /// Fails if anything live now was not live in `before`, after waiting up to `graceMs`
    /// milliseconds for it to go away. `what` names the checked scope in the message.
    public void verify(Snapshot before, long graceMs, String what) throws InterruptedException {
        long deadline = System.nanoTime() + graceMs * 1_000_000;
        List<String> leaks;
        while (true) {
            leaks = leaks(before);
            if (leaks.isEmpty() || System.nanoTime() >= deadline) {
                break;
            }
            Thread.sleep(20);
        }
        if (!leaks.isEmpty()) {
            throw new AssertionError(what + " left resources behind: " + String.join("; ", leaks));
        }
    }

    private List<String> leaks(Snapshot before) {
        List<String> leaks = new ArrayList<>();
        List<String> threads = threads().stream().filter(t -> !before.threads().contains(t))
                .map(Thread::getName).sorted().toList();
        if (!threads.isEmpty()) {
            leaks.add("threads " + threads);
        }
        Set<String> fds = socketFds();
        fds.removeAll(before.socketFds());
        if (!fds.isEmpty()) {
            leaks.add(fds.size() + " socket file descriptor(s) " + fds);
        }
        List<String> namespaces = new ArrayList<>(NetnsTestBed.ownedNamespaces());
        namespaces.removeAll(before.namespaces());
        if (!namespaces.isEmpty()) {
            leaks.add("network namespaces " + namespaces);
        }
        for (LeakProbe p : probes) {
            long was = before.counts().getOrDefault(p.name(), 0L);
            long now = p.count();
            if (now > was) {
                leaks.add(p.name() + " " + was + " -> " + now);
            }
        }
        return leaks;
    }

    private List<Thread> threads() {
        return NoLeaksExtension.testkitThreads().stream().filter(t -> !ignoredThread.test(t.getName())).toList();
    }

    /// `socket:[inode]` of the JDK attach listener's Unix sockets (path `.java_pid<pid>`).
    private static Set<String> attachListenerSockets() {
        Set<String> out = new HashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/net/unix"))) {
                String[] f = line.strip().split("\\s+");
                if (f.length >= 8 && f[7].contains("/.java_pid")) {
                    out.add("socket:[" + f[6] + "]");
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: nothing to exclude
        }
        return out;
    }

    /// The socket descriptors of this process, as `fd=socket:[inode]` (empty where `/proc` is
    /// missing). A descriptor number reused by another socket counts as new.
    public static Set<String> socketFds() {
        Set<String> out = new HashSet<>();
        Set<String> attach = attachListenerSockets();
        Path dir = Path.of("/proc/self/fd");
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(dir)) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:") && !attach.contains(target)) {
                        out.add(fd.getFileName() + "=" + target);
                    }
                } catch (IOException e) {
                    // closed meanwhile (e.g. the directory stream's own descriptor)
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }
}
