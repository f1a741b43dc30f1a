package io.quaver.internal.shaping;

import io.quaver.internal.platform.NetNamespace;
import io.quaver.internal.shaping.TcCommands.FiveTuple;
import io.quaver.internal.shaping.TcCommands.RootQdisc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/// The I/O edge of kernel-class shaping: runs the `tc` commands [TcCommands] builds, in the
/// network namespace of the flow's sockets, and keeps an ownership record of every class so
/// that no qdisc, class or filter outlives its owner.
///
/// - **Ownership.** Quaver's root qdisc is recognised by its handle `5156:` and kind `htb`.
///   It is installed only in place of the kernel's default root qdisc (handle `0:`); any
///   other root qdisc belongs to someone else and installation is refused with a
///   [Refused] saying what was found. The root is deleted again (restoring the kernel's
///   default) when its last Quaver class goes.
/// - **Records.** Each class has a file `<netns inode>_<dev>_<minor>` in the state directory
///   (`/run/quaver/tc`, or the system property `quaver.stateDir` + `/tc`) holding the owning
///   process's pid and start time; allocation and removal happen under a file lock shared by
///   every Quaver process of the host.
/// - **Clean-up.** A class is removed when its flow loses its rate, its flow or handle goes,
///   or the JVM exits normally (shutdown hook). After a crash the records stay behind; the
///   next [KernelClasses] to start removes the classes of records whose process is gone
///   (entering their namespace through `/proc/self/ns/net` or `/run/netns/*`), and the root
///   qdisc with the last one.
public final class KernelClasses {
    private static final System.Logger LOG = System.getLogger(KernelClasses.class.getName());
    private static final long PID = ProcessHandle.current().pid();
    private static final long START_MS = startMillis(ProcessHandle.current());
    private static volatile KernelClasses system;

    private final Path stateDir;
    private final String tc;
    private final String ip;
    private final ReentrantLock jvmLock = new ReentrantLock();
    private final Set<Installed> installed = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean staleCleaned = new AtomicBoolean();

    /// Installation refused or failed; the message says why.
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        public Refused(String message) {
            super(message, null, false, false);
        }
    }

    /// One installed class.
    public static final class Installed {
        private final NetNamespace ns;
        private final String dev;
        private final int minor;
        private volatile boolean removed;

        Installed(NetNamespace ns, String dev, int minor) {
            this.ns = ns;
            this.dev = dev;
            this.minor = minor;
        }

        /// The egress interface.
        public String dev() {
            return dev;
        }

        /// The class id, `5156:M`.
        public String classId() {
            return TcCommands.classId(minor);
        }

        public int minor() {
            return minor;
        }

        @Override
        public String toString() {
            return classId() + " on " + dev + " in " + ns;
        }
    }

    /// An instance keeping its records in `stateDir` and running `tc` and `ip` from the given
    /// paths (tests use it with a `tc` of their own; the library uses [#system()]).
    public KernelClasses(Path stateDir, String tc, String ip) {
        this.stateDir = stateDir;
        this.tc = tc;
        this.ip = ip;
    }

    /// The JVM's instance (state directory from `quaver.stateDir`, default `/run/quaver`).
    public static KernelClasses system() {
        KernelClasses k = system;
        if (k == null) {
            synchronized (KernelClasses.class) {
                k = system;
                if (k == null) {
                    Path dir = Path.of(System.getProperty("quaver.stateDir", "/run/quaver"), "tc");
                    k = new KernelClasses(dir, which("tc"), which("ip"));
                    KernelClasses hooked = k;
                    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("quaver-tc-cleanup").unstarted(
                            hooked::removeAllOfThisProcess));
                    system = k;
                }
            }
        }
        return k;
    }

    /// Number of classes this JVM has installed and not removed.
    public int installedCount() {
        return installed.size();
    }

    /// Installs a class shaping `tuples` to `rateBps`, in namespace `ns` (which must stay open
    /// until [#remove]).
    public Installed install(NetNamespace ns, long rateBps, long burstBytes, List<FiveTuple> tuples) throws Refused {
        if (tuples.isEmpty()) {
            throw new Refused("the flow has no socket to match");
        }
        cleanStaleOnce();
        String dev = egressDevice(ns, tuples);
        jvmLock.lock();
        try (HostLock ignored = hostLock()) {
            ensureRoot(ns, dev);
            int minor = allocateMinor(ns.inode(), dev);
            Installed inst = new Installed(ns, dev, minor);
            writeRecord(inst);
            try {
                runBatch(ns, TcCommands.installFlow(dev, minor, rateBps, burstBytes, tuples), true);
            } catch (Refused e) {
                deleteRecord(inst);
                runBatch(ns, TcCommands.removeFlow(dev, minor), false);
                removeRootIfUnused(ns, dev);
                throw e;
            }
            installed.add(inst);
            return inst;
        } catch (IOException e) {
            throw new Refused("cannot keep the ownership record in " + stateDir + ": " + e.getMessage());
        } finally {
            jvmLock.unlock();
        }
    }

    /// Changes the rate and filters of an installed class in place; refused once the class is
    /// being removed (a concurrent [#remove] wins: the class is never re-created).
    public void update(Installed inst, long rateBps, long burstBytes, List<FiveTuple> tuples) throws Refused {
        String dev = egressDevice(inst.ns, tuples);
        if (!dev.equals(inst.dev)) {
            throw new Refused("the flow's sockets now leave through " + dev + ", not " + inst.dev);
        }
        jvmLock.lock();
        try {
            if (inst.removed) {
                throw new Refused("the class " + inst + " was removed meanwhile");
            }
            runBatch(inst.ns, TcCommands.installFlow(inst.dev, inst.minor, rateBps, burstBytes, tuples), true);
        } finally {
            jvmLock.unlock();
        }
    }

    /// Removes the class and its filters, and Quaver's root qdisc with the last class on the
    /// interface. Idempotent; never throws.
    public void remove(Installed inst) {
        if (inst.removed) {
            return;
        }
        inst.removed = true;
        installed.remove(inst);
        jvmLock.lock();
        try (HostLock ignored = hostLock()) {
            runBatch(inst.ns, TcCommands.removeFlow(inst.dev, inst.minor), false);
            deleteRecord(inst);
            removeRootIfUnused(inst.ns, inst.dev);
        } catch (IOException | Refused | RuntimeException e) {
            LOG.log(Level.WARNING, "could not remove kernel class " + inst + ": " + e.getMessage());
        } finally {
            jvmLock.unlock();
        }
    }

    private void removeAllOfThisProcess() {
        for (Installed inst : List.copyOf(installed)) {
            remove(inst);
        }
    }

    // ------------------------------------------------------------------------------ internals

    private String egressDevice(NetNamespace ns, List<FiveTuple> tuples) throws Refused {
        String dev = null;
        for (FiveTuple t : tuples) {
            String address = t.destination().getAddress().getHostAddress();
            int scope = address.indexOf('%');
            if (scope >= 0) {
                address = address.substring(0, scope);
            }
            Result r = run(ns, List.of(ip, "-o", "route", "get", address), null);
            if (r.exit != 0) {
                throw new Refused("no route to " + address + ": " + r.output.strip());
            }
            String d = TcCommands.parseRouteDevice(r.output)
                    .orElseThrow(() -> new Refused("cannot read the egress interface from: " + r.output.strip()));
            if (TcCommands.isLoopback(d)) {
                throw new Refused("the flow leaves through the loopback interface " + d
                        + ", which Quaver never shapes (a qdisc there would sit in front of every local process)");
            }
            if (dev != null && !dev.equals(d)) {
                throw new Refused("the flow's sockets leave through several interfaces (" + dev + ", " + d + ")");
            }
            dev = d;
        }
        return dev;
    }

    private void ensureRoot(NetNamespace ns, String dev) throws Refused {
        Result show = run(ns, tcCommand(TcCommands.showRoot(dev)), null);
        if (show.exit != 0) {
            throw new Refused("cannot read the root qdisc of " + dev + ": " + show.output.strip());
        }
        Optional<RootQdisc> root = TcCommands.parseRootQdisc(show.output);
        if (root.isPresent() && root.get().isQuavers()) {
            return;
        }
        if (root.isPresent() && !root.get().isKernelDefault()) {
            throw new Refused("the root qdisc of " + dev + " is " + root.get().kind() + " " + root.get().handle()
                    + ", configured by someone else; Quaver only replaces the kernel's default root qdisc (handle 0:)"
                    + " or its own (htb " + TcCommands.ROOT_HANDLE + ")");
        }
        Result link = run(ns, List.of(ip, "-o", "link", "show", "dev", dev), null);
        Result add = run(ns, tcCommand(TcCommands.addRoot(dev, TcCommands.parseL2HeaderBytes(link.output))), null);
        if (add.exit != 0) {
            throw new Refused("cannot install Quaver's root qdisc on " + dev + ": " + add.output.strip());
        }
    }

    private void removeRootIfUnused(NetNamespace ns, String dev) throws IOException, Refused {
        if (!recordsOf(ns.inode(), dev).isEmpty()) {
            return;
        }
        Result show = run(ns, tcCommand(TcCommands.showRoot(dev)), null);
        Optional<RootQdisc> root = TcCommands.parseRootQdisc(show.output);
        if (root.isPresent() && root.get().isQuavers()) {
            run(ns, tcCommand(TcCommands.deleteRoot(dev)), null);
        }
    }

    private int allocateMinor(long nsInode, String dev) throws IOException, Refused {
        Set<Integer> used = recordsOf(nsInode, dev);
        for (int m = 1; m <= TcCommands.MAX_MINOR; m++) {
            if (!used.contains(m)) {
                return m;
            }
        }
        throw new Refused("no free Quaver class on " + dev + " (" + TcCommands.MAX_MINOR + " in use)");
    }

    private Set<Integer> recordsOf(long nsInode, String dev) throws IOException {
        Set<Integer> used = new java.util.HashSet<>();
        if (!Files.isDirectory(stateDir)) {
            return used;
        }
        String prefix = nsInode + "_" + dev + "_";
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir, prefix + "*")) {
            for (Path p : ds) {
                try {
                    used.add(Integer.parseInt(p.getFileName().toString().substring(prefix.length())));
                } catch (NumberFormatException ignored) {
                    // not a record of ours
                }
            }
        }
        return used;
    }

    private Path recordPath(long nsInode, String dev, int minor) {
        return stateDir.resolve(nsInode + "_" + dev + "_" + minor);
    }

    private void writeRecord(Installed inst) throws IOException {
        Files.createDirectories(stateDir);
        Files.writeString(recordPath(inst.ns.inode(), inst.dev, inst.minor), PID + " " + START_MS + "\n");
    }

    private void deleteRecord(Installed inst) throws IOException {
        Files.deleteIfExists(recordPath(inst.ns.inode(), inst.dev, inst.minor));
    }

    /// The host-wide lock of the state directory (a file lock), held while classes and records
    /// change.
    private interface HostLock extends AutoCloseable {
        @Override
        void close() throws IOException;
    }

    private HostLock hostLock() throws IOException {
        Files.createDirectories(stateDir);
        FileChannel ch = FileChannel.open(stateDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock lock = ch.lock();
            return () -> {
                try {
                    lock.release();
                } finally {
                    ch.close();
                }
            };
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /// Removes classes whose owning process is gone (crash), once per JVM: called when the first
    /// handle that may shape with kernel classes opens, and before the first installation.
    public void cleanStaleOnce() {
        if (!staleCleaned.compareAndSet(false, true) || !Files.isDirectory(stateDir)) {
            return;
        }
        jvmLock.lock();
        try (HostLock ignored = hostLock(); DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir, "*_*_*")) {
            for (Path record : ds) {
                cleanIfStale(record);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "stale kernel-class clean-up failed: " + e);
        } finally {
            jvmLock.unlock();
        }
    }

    private void cleanIfStale(Path record) throws IOException {
        String name = record.getFileName().toString();
        int a = name.indexOf('_');
        int b = name.lastIndexOf('_');
        if (a <= 0 || b <= a) {
            return;
        }
        String[] owner = Files.readString(record).trim().split("\\s+");
        if (owner.length == 2 && isAlive(Long.parseLong(owner[0]), Long.parseLong(owner[1]))) {
            return;
        }
        long nsInode = Long.parseLong(name.substring(0, a));
        String dev = name.substring(a + 1, b);
        int minor = Integer.parseInt(name.substring(b + 1));
        Optional<Path> nsPath = findNamespace(nsInode);
        Files.deleteIfExists(record);
        if (nsPath.isEmpty()) {
            return; // the namespace is gone, and its qdiscs with it
        }
        try (NetNamespace ns = NetNamespace.open(nsPath.get())) {
            runBatch(ns, TcCommands.removeFlow(dev, minor), false);
            removeRootIfUnused(ns, dev);
            LOG.log(Level.INFO, "removed stale Quaver class " + TcCommands.classId(minor) + " on " + dev + " of "
                    + ns + " (owner " + String.join(" ", owner) + " gone)");
        } catch (Refused e) {
            LOG.log(Level.WARNING, "could not remove stale class " + name + ": " + e.getMessage());
        }
    }

    private static Optional<Path> findNamespace(long inode) {
        Path self = Path.of("/proc/self/ns/net");
        if (NetNamespace.inodeOf(self) == inode) {
            return Optional.of(self);
        }
        for (String dir : new String[] {"/run/netns", "/var/run/netns"}) {
            Path d = Path.of(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
                for (Path p : ds) {
                    if (NetNamespace.inodeOf(p) == inode) {
                        return Optional.of(p);
                    }
                }
            } catch (IOException ignored) {
                // keep looking
            }
        }
        return Optional.empty();
    }

    static boolean isAlive(long pid, long startMs) {
        if (pid == PID) {
            return startMs == START_MS;
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(KernelClasses::startMillis)
                .map(s -> s == startMs).orElse(false);
    }

    private static long startMillis(ProcessHandle p) {
        return p.info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);
    }

    // ------------------------------------------------------------------------------ commands

    private record Result(int exit, String output) {
    }

    private List<String> tcCommand(List<String> args) {
        List<String> c = new ArrayList<>(args.size() + 1);
        c.add(tc);
        c.addAll(args);
        return c;
    }

    private void runBatch(NetNamespace ns, List<List<String>> commands, boolean strict) throws Refused {
        Result r = run(ns, List.of(tc, "-force", "-batch", "-"), TcCommands.batchScript(commands));
        if (strict && r.exit != 0) {
            // deleting filters that do not exist yet is expected to fail; anything else is not
            String relevant = r.output.lines()
                    .filter(l -> !l.isBlank() && !l.contains("Filter with specified priority/protocol not found")
                            && !l.contains("Cannot find specified filter chain") && !l.startsWith("Command failed")
                            && !l.contains("We have an error talking to the kernel"))
                    .reduce((x, y) -> x + "; " + y).orElse("");
            if (!relevant.isEmpty()) {
                throw new Refused("tc failed: " + relevant);
            }
        }
    }

    private Result run(NetNamespace ns, List<String> command, String stdin) throws Refused {
        try {
            return ns.call(() -> exec(command, stdin));
        } catch (Refused e) {
            throw e;
        } catch (Exception e) {
            throw new Refused(String.join(" ", command) + ": " + e.getMessage());
        }
    }

    private static Result exec(List<String> command, String stdin) throws IOException, InterruptedException, Refused {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        byte[] out;
        try (InputStream o = p.getInputStream()) {
            out = o.readAllBytes();
        }
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new Refused(String.join(" ", command) + " timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    public static String which(String name) {
        for (String dir : new String[] {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return name;
    }
}
