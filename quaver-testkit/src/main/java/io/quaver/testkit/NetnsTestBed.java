package io.quaver.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/// A small network of Linux network namespaces for tests: 2 or 3 nodes in a line, joined by veth
/// pairs, with optional `tc` bottlenecks ([Shaper]) on egress interfaces.
///
/// ```
///   A ── to-b ═══ to-a ── B ── to-c ═══ to-b ── C        (C only with nodes(3); B forwards)
///     198.18.1.1      198.18.1.2  198.18.2.2      198.18.2.3
///     fd00:5156:0:1::1  …:1::2    fd00:5156:0:2::2  …:2::3
/// ```
///
/// Addresses come from the RFC 2544 benchmarking range 198.18.0.0/15 and the ULA prefix
/// fd00:5156::/48 ("QV"): link *L* (A–B is 1, B–C is 2) is 198.18.*L*.0/24 and fd00:5156:0:*L*::/64,
/// and node *N* (A = 1, B = 2, C = 3) has host number *N* on each of its links. IPv6 addresses
/// are added with `nodad` and DAD is off in the namespaces, so everything is usable at once.
/// With three nodes A and C have routes to each other's subnet through B, which forwards IPv4 and
/// IPv6; there are no default routes, so nothing can leave the bed.
///
/// Interfaces are named after the peer: in A the interface towards B is `to-b`
/// ([#interfaceName]).
///
/// ```java
/// var avail = NetnsTestBed.availability();
/// Assumptions.assumeTrue(avail.ok(), avail.reason());
/// try (var bed = NetnsTestBed.builder().bottleneck(Node.A, Node.B, Shaper.tbf(20_000_000)).build()) {
///     DatagramChannel rx = bed.inNamespace(Node.B, () -> DatagramChannel.open().bind(...));
///     bed.setRateBps(Node.A, Node.B, 5_000_000);
/// }
/// ```
///
/// ## Java sockets inside a namespace
/// [#inNamespace] runs a callable on a fresh platform thread that has entered the namespace with
/// `setns(2)` (FFM); sockets created there live in the namespace and can then be used from any
/// thread. Close them before the bed: a socket keeps its namespace (and its veths) alive after
/// the name is deleted.
///
/// Only the helper thread is inside: anything that reads `/proc/net` (a link to `/proc/self/net`,
/// the namespace of the process's *main* thread) still sees the host. The JDK's
/// `NetworkInterface` enumeration, for one, takes IPv4 interfaces from a socket (correct inside)
/// but IPv6 ones from `/proc/net/if_inet6` (the host's). Per-namespace files under `/proc/sys/net`
/// do follow the calling thread; the bed writes its sysctls that way.
///
/// ## Names and clean-up
/// Namespace names are `qv-<pid>-<jvm start, base 36>-<random>-<node>`. [#close()] kills spawned
/// processes and deletes the namespaces (which deletes the veths and qdiscs with them). A JVM
/// shutdown hook closes beds left open, and the first bed of a run deletes *stale* `qv-`
/// namespaces: those whose creating JVM is gone (no such PID, or the PID now belongs to a process
/// started at another time). Names that do not follow the scheme are never touched.
///
/// Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2; see [#availability()]. `setns` is a
/// native call: allow it with `--enable-native-access=io.quaver.testkit` (module path) or
/// `--enable-native-access=ALL-UNNAMED` (class path), or the JDK prints a warning on first use.
public final class NetnsTestBed implements AutoCloseable {
    /// A node of the bed.
    public enum Node {
        A, B, C;

        char letter() {
            return (char) ('a' + ordinal());
        }

        int hostNumber() {
            return ordinal() + 1;
        }
    }

    /// Prefix of every namespace the test kit creates.
    public static final String PREFIX = "qv-";
    /// Default time limit for commands run by the bed.
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(10);

    private static final Pattern NAME = Pattern.compile("^qv-(\\d+)-([0-9a-z]+)-([0-9a-f]+)-([a-z0-9]+)$");
    private static final long PID = ProcessHandle.current().pid();
    private static final String START_TOKEN = startToken(ProcessHandle.current()).orElse("0");
    private static final Set<NetnsTestBed> OPEN = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean HOOK_INSTALLED = new AtomicBoolean();
    private static final AtomicBoolean STALE_CLEANED = new AtomicBoolean();
    private static volatile Availability availability;

    private record Hop(Node from, Node to) {
    }

    private final List<Node> nodes;
    private final Map<Node, String> names = new EnumMap<>(Node.class);
    private final Map<Hop, Shaper> shapers = new LinkedHashMap<>();
    private final List<SpawnedProcess> spawned = Collections.synchronizedList(new ArrayList<>());
    private final boolean ipv6;
    private final Duration commandTimeout;
    private final String ip;
    private final String tc;
    private volatile boolean closed;

    private NetnsTestBed(Builder b) {
        this.nodes = b.nodes == 3 ? List.of(Node.A, Node.B, Node.C) : List.of(Node.A, Node.B);
        this.ipv6 = b.ipv6;
        this.commandTimeout = b.commandTimeout;
        this.ip = Processes.which("ip").map(Path::toString)
                .orElseThrow(() -> new IllegalStateException("iproute2 'ip' not found"));
        this.tc = Processes.which("tc").map(Path::toString).orElse("tc");
        cleanupStaleOnce();
        installShutdownHook();
        String random = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
        for (Node n : nodes) {
            names.put(n, PREFIX + PID + "-" + START_TOKEN + "-" + random + "-" + n.letter());
        }
        OPEN.add(this);
        try {
            setUp(b);
        } catch (RuntimeException | Error e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /// A new builder (two nodes, no bottleneck, IPv4 and IPv6).
    public static Builder builder() {
        return new Builder();
    }

    private void setUp(Builder b) {
        for (Node n : nodes) {
            ipCmd("netns", "add", names.get(n));
        }
        for (Node n : nodes) {
            boolean forwarding = nodes.size() == 3 && n == Node.B;
            callUnchecked(n, () -> {
                writeSysctl("net/ipv6/conf/all/accept_dad", "0");
                writeSysctl("net/ipv6/conf/default/accept_dad", "0");
                writeSysctl("net/ipv6/conf/default/router_solicitations", "0");
                // Keep IPv6 addresses (and so their routes) across linkDown/linkUp.
                writeSysctl("net/ipv6/conf/all/keep_addr_on_down", "1");
                writeSysctl("net/ipv6/conf/default/keep_addr_on_down", "1");
                if (forwarding) {
                    writeSysctl("net/ipv4/ip_forward", "1");
                    writeSysctl("net/ipv6/conf/all/forwarding", "1");
                }
                return null;
            });
        }
        for (Hop link : links()) {
            ipCmd("-n", ns(link.from()), "link", "add", interfaceName(link.from(), link.to()), "type", "veth",
                    "peer", "name", interfaceName(link.to(), link.from()), "netns", ns(link.to()));
            for (Hop end : List.of(link, new Hop(link.to(), link.from()))) {
                String dev = interfaceName(end.from(), end.to());
                ipCmd("-n", ns(end.from()), "addr", "add", ipv4(end.from(), end.to()).getHostAddress() + "/24", "dev", dev);
                if (ipv6) {
                    ipCmd("-n", ns(end.from()), "addr", "add", ipv6(end.from(), end.to()).getHostAddress() + "/64",
                            "dev", dev, "nodad");
                }
            }
        }
        for (Node n : nodes) {
            ipCmd("-n", ns(n), "link", "set", "lo", "up");
        }
        for (Hop link : links()) {
            ipCmd("-n", ns(link.from()), "link", "set", interfaceName(link.from(), link.to()), "up");
            ipCmd("-n", ns(link.to()), "link", "set", interfaceName(link.to(), link.from()), "up");
        }
        addRoutes();
        for (var e : b.shapers.entrySet()) {
            setShaper(e.getKey().from(), e.getKey().to(), e.getValue());
        }
        awaitLinksUp();
    }

    private static void writeSysctl(String key, String value) throws IOException {
        Files.writeString(Path.of("/proc/sys", key), value);
    }

    private List<Hop> links() {
        return nodes.size() == 3 ? List.of(new Hop(Node.A, Node.B), new Hop(Node.B, Node.C))
                : List.of(new Hop(Node.A, Node.B));
    }

    private void addRoutes() {
        if (nodes.size() < 3) {
            return;
        }
        routeVia(Node.A, 2, Node.B);
        routeVia(Node.C, 1, Node.B);
    }

    private void routeVia(Node from, int subnet, Node gateway) {
        ipCmd("-n", ns(from), "route", "replace", "198.18." + subnet + ".0/24", "via",
                ipv4(gateway, from).getHostAddress());
        if (ipv6) {
            ipCmd("-n", ns(from), "-6", "route", "replace", "fd00:5156:0:" + subnet + "::/64", "via",
                    ipv6(gateway, from).getHostAddress());
        }
    }

    private void awaitLinksUp() {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        for (Hop link : links()) {
            for (Hop end : List.of(link, new Hop(link.to(), link.from()))) {
                while (true) {
                    String out = ipCmd("-n", ns(end.from()), "-o", "link", "show", "dev",
                            interfaceName(end.from(), end.to())).stdout();
                    if (out.contains("state UP")) {
                        break;
                    }
                    if (System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException("link " + interfaceName(end.from(), end.to()) + " in "
                                + ns(end.from()) + " did not come up: " + out.strip());
                    }
                    sleep(5);
                }
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Topology

    /// The nodes of this bed, A first.
    public List<Node> nodes() {
        return nodes;
    }

    /// The namespace name of `node`.
    public String namespace(Node node) {
        String n = names.get(Objects.requireNonNull(node));
        if (n == null) {
            throw new IllegalArgumentException("this bed has no node " + node);
        }
        return n;
    }

    private String ns(Node node) {
        return namespace(node);
    }

    /// The interface in `from` that leads to `to` (`to-b`, `to-a`…).
    public String interfaceName(Node from, Node to) {
        checkAdjacent(from, to);
        return "to-" + to.letter();
    }

    private void checkAdjacent(Node from, Node to) {
        namespace(from);
        namespace(to);
        if (Math.abs(from.ordinal() - to.ordinal()) != 1) {
            throw new IllegalArgumentException(from + " and " + to + " are not neighbours");
        }
    }

    private static int linkNumber(Node x, Node y) {
        return Math.min(x.ordinal(), y.ordinal()) + 1;
    }

    /// The IPv4 address of `node` on its link towards the neighbour `towards`.
    public InetAddress ipv4(Node node, Node towards) {
        checkAdjacent(node, towards);
        return address("198.18." + linkNumber(node, towards) + "." + node.hostNumber());
    }

    /// The IPv4 address of `node` on its first link (A and B: the A–B link, C: the B–C link).
    public InetAddress ipv4(Node node) {
        return ipv4(node, node == Node.A ? Node.B : node == Node.B ? Node.A : Node.B);
    }

    /// The IPv6 address of `node` on its link towards the neighbour `towards`.
    public InetAddress ipv6(Node node, Node towards) {
        checkAdjacent(node, towards);
        return address("fd00:5156:0:" + linkNumber(node, towards) + "::" + node.hostNumber());
    }

    /// The IPv6 address of `node` on its first link.
    public InetAddress ipv6(Node node) {
        return ipv6(node, node == Node.A ? Node.B : node == Node.B ? Node.A : Node.B);
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    // ----------------------------------------------------------------------------------------
    // Running things inside

    /// Runs `command` inside `node` (`ip netns exec`) with the default time limit; never throws
    /// for a failing command (see [ExecResult#orThrow()]).
    public ExecResult exec(Node node, String... command) {
        return exec(node, commandTimeout, command);
    }

    /// Runs `command` inside `node`, killing it after `timeout`.
    public ExecResult exec(Node node, Duration timeout, String... command) {
        checkOpen();
        return Processes.run(inNs(node, command), timeout);
    }

    /// Starts `command` in the background inside `node`; it is killed when the bed is closed (or
    /// earlier with [SpawnedProcess#close()]).
    public SpawnedProcess spawn(Node node, String... command) throws IOException {
        checkOpen();
        List<String> cmd = inNs(node, command);
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        var sp = new SpawnedProcess(cmd, p, "quaver-netns-spawn-" + p.pid());
        spawned.add(sp);
        return sp;
    }

    private List<String> inNs(Node node, String... command) {
        if (command.length == 0) {
            throw new IllegalArgumentException("empty command");
        }
        List<String> cmd = new ArrayList<>(List.of(ip, "netns", "exec", namespace(node)));
        cmd.addAll(List.of(command));
        return cmd;
    }

    /// Runs `task` on a fresh platform thread inside `node`'s namespace and returns its result;
    /// sockets it creates belong to that namespace. Exceptions from `task` are rethrown as is.
    public <T> T inNamespace(Node node, Callable<T> task) throws Exception {
        checkOpen();
        return Netns.call(namespace(node), task);
    }

    /// Runs `task` inside the named network namespace (any name under `/run/netns`), as
    /// [#inNamespace].
    public static <T> T callInNamespace(String namespace, Callable<T> task) throws Exception {
        return Netns.call(namespace, task);
    }

    private <T> T callUnchecked(Node node, Callable<T> task) {
        try {
            return Netns.call(namespace(node), task);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("in " + namespace(node) + ": " + e, e);
        }
    }

    /// Starts a packet capture on `node`'s interface towards `towards`.
    public PacketCapture capture(Node node, Node towards, String filter) throws IOException {
        return PacketCapture.builder().namespace(namespace(node)).interfaceName(interfaceName(node, towards))
                .filter(filter).start();
    }

    // ----------------------------------------------------------------------------------------
    // Bottlenecks and links

    /// Installs (or replaces) the bottleneck on the egress of `from` towards `to`. A shaper of the
    /// same kind is changed in place (`tc … change`), keeping its queue.
    public void setShaper(Node from, Node to, Shaper shaper) {
        checkOpen();
        Objects.requireNonNull(shaper);
        String dev = interfaceName(from, to);
        Hop hop = new Hop(from, to);
        synchronized (shapers) {
            Shaper old = shapers.get(hop);
            boolean change = old != null && old.getClass() == shaper.getClass();
            if (old != null && !change) {
                tcCmd("-n", ns(from), "qdisc", "del", "dev", dev, "root");
            }
            for (List<String> c : Shaper.commands(shaper, dev, change)) {
                List<String> full = new ArrayList<>(List.of("-n", ns(from)));
                full.addAll(c);
                tcCmd(full.toArray(String[]::new));
            }
            shapers.put(hop, shaper);
        }
    }

    /// Changes the rate of the bottleneck on `from` → `to` at runtime.
    public void setRateBps(Node from, Node to, long rateBps) {
        Shaper old = shaper(from, to)
                .orElseThrow(() -> new IllegalStateException("no bottleneck on " + from + " → " + to));
        setShaper(from, to, old.withRateBps(rateBps));
    }

    /// Removes the bottleneck on `from` → `to` (back to the default qdisc).
    public void clearShaper(Node from, Node to) {
        checkOpen();
        synchronized (shapers) {
            if (shapers.remove(new Hop(from, to)) != null) {
                tcCmd("-n", ns(from), "qdisc", "del", "dev", interfaceName(from, to), "root");
            }
        }
    }

    /// The bottleneck on `from` → `to`, if any.
    public Optional<Shaper> shaper(Node from, Node to) {
        checkAdjacent(from, to);
        synchronized (shapers) {
            return Optional.ofNullable(shapers.get(new Hop(from, to)));
        }
    }

    /// Counters of the root qdisc on `from`'s interface towards `to`.
    public QdiscStats qdiscStats(Node from, Node to) {
        checkOpen();
        return QdiscStats.parseJson(tcCmd("-n", ns(from), "-s", "-j", "qdisc", "show", "dev", interfaceName(from, to),
                "root").stdout());
    }

    /// Takes the link between neighbours `x` and `y` down (both ends).
    public void linkDown(Node x, Node y) {
        checkOpen();
        ipCmd("-n", ns(x), "link", "set", interfaceName(x, y), "down");
        ipCmd("-n", ns(y), "link", "set", interfaceName(y, x), "down");
    }

    /// Brings the link between `x` and `y` back up and restores the routes the kernel removed with
    /// it. Shapers survive a link going down.
    public void linkUp(Node x, Node y) {
        checkOpen();
        ipCmd("-n", ns(x), "link", "set", interfaceName(x, y), "up");
        ipCmd("-n", ns(y), "link", "set", interfaceName(y, x), "up");
        awaitLinksUp();
        addRoutes();
    }

    // ----------------------------------------------------------------------------------------
    // Commands

    private ExecResult ipCmd(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ip));
        cmd.addAll(List.of(args));
        return Processes.run(cmd, commandTimeout).orThrow();
    }

    private ExecResult tcCmd(String... args) {
        List<String> cmd = new ArrayList<>(List.of(tc));
        cmd.addAll(List.of(args));
        return Processes.run(cmd, commandTimeout).orThrow();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("test bed is closed");
        }
    }

    // ----------------------------------------------------------------------------------------
    // Clean-up

    /// Kills spawned processes (and any other process left inside the namespaces) and deletes the
    /// namespaces, which removes their veths and qdiscs. Idempotent.
    ///
    /// @throws IllegalStateException if a namespace could not be deleted
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<SpawnedProcess> toKill;
        synchronized (spawned) {
            toKill = new ArrayList<>(spawned);
        }
        toKill.forEach(SpawnedProcess::close);
        List<String> failures = new ArrayList<>();
        for (String name : names.values()) {
            if (Files.exists(Path.of("/run/netns", name)) || Files.exists(Path.of("/var/run/netns", name))) {
                ExecResult r = deleteNamespace(ip, name);
                if (!r.ok()) {
                    failures.add(r.describe());
                }
            }
        }
        OPEN.remove(this);
        if (!failures.isEmpty()) {
            throw new IllegalStateException("could not delete namespaces: " + failures);
        }
    }

    private static ExecResult deleteNamespace(String ip, String name) {
        ExecResult pids = Processes.run(List.of(ip, "netns", "pids", name), DEFAULT_COMMAND_TIMEOUT);
        for (String line : pids.stdout().split("\\s+")) {
            if (!line.isBlank()) {
                long pid = Long.parseLong(line.strip());
                if (pid != PID) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
        return Processes.run(List.of(ip, "netns", "del", name), DEFAULT_COMMAND_TIMEOUT);
    }

    private static void installShutdownHook() {
        if (HOOK_INSTALLED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("quaver-netns-shutdown").unstarted(() -> {
                for (NetnsTestBed bed : List.copyOf(OPEN)) {
                    try {
                        bed.close();
                    } catch (RuntimeException e) {
                        // best effort at exit
                    }
                }
            }));
        }
    }

    private static void cleanupStaleOnce() {
        if (STALE_CLEANED.compareAndSet(false, true)) {
            cleanupStale();
        }
    }

    /// Deletes stale test-kit namespaces: those named by the test-kit scheme whose creating JVM is
    /// no longer running. Returns the names deleted. Run automatically by the first bed (and the
    /// first [#availability()] check) of each JVM.
    public static List<String> cleanupStale() {
        Optional<Path> ipPath = Processes.which("ip");
        if (ipPath.isEmpty()) {
            return List.of();
        }
        List<String> deleted = new ArrayList<>();
        for (String name : listNamespaces()) {
            Matcher m = NAME.matcher(name);
            if (!m.matches() || ownerAlive(Long.parseLong(m.group(1)), m.group(2))) {
                continue;
            }
            if (deleteNamespace(ipPath.get().toString(), name).ok()) {
                deleted.add(name);
            }
        }
        return deleted;
    }

    /// Namespaces that this JVM created and has not deleted yet (for leak checks).
    public static List<String> ownedNamespaces() {
        List<String> out = new ArrayList<>();
        for (String name : listNamespaces()) {
            Matcher m = NAME.matcher(name);
            if (m.matches() && Long.parseLong(m.group(1)) == PID && m.group(2).equals(START_TOKEN)) {
                out.add(name);
            }
        }
        return out;
    }

    private static List<String> listNamespaces() {
        List<String> out = new ArrayList<>();
        for (String dir : List.of("/run/netns", "/var/run/netns")) {
            Path d = Path.of(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.list(d)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(PREFIX) && !out.contains(n))
                        .forEach(out::add);
            } catch (IOException e) {
                // unreadable: nothing to report
            }
        }
        return out;
    }

    /// Whether process `pid` exists and was started at the time encoded in `token`.
    static boolean ownerAlive(long pid, String token) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) {
            return false;
        }
        Optional<String> start = startToken(h.get());
        // If the start time cannot be read, assume the owner is alive: never delete wrongly.
        return start.isEmpty() || start.get().equals(token);
    }

    private static Optional<String> startToken(ProcessHandle h) {
        return h.info().startInstant().map(i -> Long.toString(i.getEpochSecond(), 36));
    }

    /// The name a namespace of this JVM would get, for tests of the naming scheme.
    static String nameFor(long pid, String startToken, String random, String node) {
        return PREFIX + pid + "-" + startToken + "-" + random + "-" + node;
    }

    static String startTokenOfThisJvm() {
        return START_TOKEN;
    }

    // ----------------------------------------------------------------------------------------
    // Availability

    /// Whether namespace test beds can be created here: Linux, root, `ip` and `tc` present, and a
    /// trial namespace with a veth pair, `tbf` and `htb` qdiscs and a `setns` from Java works. The
    /// result is computed once per JVM.
    public static Availability availability() {
        Availability a = availability;
        if (a == null) {
            synchronized (NetnsTestBed.class) {
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
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return Availability.no("network namespaces need Linux (this is " + System.getProperty("os.name") + ")");
        }
        if (!Processes.isRoot()) {
            return Availability.no("network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN); run the tests as"
                    + " root, as CI does");
        }
        Optional<Path> ipPath = Processes.which("ip");
        if (ipPath.isEmpty()) {
            return Availability.no("iproute2 'ip' not found (apt-get install iproute2)");
        }
        if (Processes.which("tc").isEmpty()) {
            return Availability.no("iproute2 'tc' not found (apt-get install iproute2)");
        }
        cleanupStaleOnce();
        String ip = ipPath.get().toString();
        String tc = Processes.which("tc").get().toString();
        String name = nameFor(PID, START_TOKEN,
                HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2), "probe");
        Duration t = DEFAULT_COMMAND_TIMEOUT;
        ExecResult add = Processes.run(List.of(ip, "netns", "add", name), t);
        if (!add.ok()) {
            return Availability.no("cannot create a network namespace: " + add.describe());
        }
        try {
            ExecResult veth = Processes.run(List.of(ip, "-n", name, "link", "add", "p0", "type", "veth", "peer", "name",
                    "p1"), t);
            if (!veth.ok()) {
                return Availability.no("cannot create a veth pair (veth module missing?): " + veth.describe());
            }
            ExecResult tbf = Processes.run(List.of(tc, "-n", name, "qdisc", "add", "dev", "p0", "root", "handle", "1:",
                    "tbf", "rate", "1000000bit", "burst", "5000", "latency", "50ms"), t);
            if (!tbf.ok()) {
                return Availability.no("tc tbf not available (sch_tbf missing?): " + tbf.describe());
            }
            ExecResult htb = Processes.run(List.of(tc, "-n", name, "qdisc", "add", "dev", "p1", "root", "handle", "1:",
                    "htb", "default", "10"), t);
            if (!htb.ok()) {
                return Availability.no("tc htb not available (sch_htb missing?): " + htb.describe());
            }
            try {
                String link = Netns.call(name, () -> Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString());
                String host = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
                if (link.equals(host)) {
                    return Availability.no("setns() had no effect");
                }
            } catch (Exception | Error e) {
                return Availability.no("cannot enter a namespace from Java with setns() (FFM; is native access"
                        + " enabled with --enable-native-access?): " + e);
            }
            return Availability.yes("network namespaces available: root, " + ip + ", veth, tbf, htb, setns via FFM");
        } finally {
            Processes.run(List.of(ip, "netns", "del", name), t);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "NetnsTestBed" + names.values();
    }

    /// Builder for [NetnsTestBed].
    public static final class Builder {
        private int nodes = 2;
        private boolean ipv6 = true;
        private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
        private final Map<Hop, Shaper> shapers = new LinkedHashMap<>();

        private Builder() {
        }

        /// Two (A–B) or three (A–B–C, B forwarding) nodes; default 2.
        public Builder nodes(int nodes) {
            if (nodes != 2 && nodes != 3) {
                throw new IllegalArgumentException("nodes must be 2 or 3, was " + nodes);
            }
            this.nodes = nodes;
            return this;
        }

        /// Whether to configure IPv6 addresses and routes; default `true`.
        public Builder ipv6(boolean ipv6) {
            this.ipv6 = ipv6;
            return this;
        }

        /// Puts `shaper` on the egress of `from` towards its neighbour `to`.
        public Builder bottleneck(Node from, Node to, Shaper shaper) {
            if (Math.abs(from.ordinal() - to.ordinal()) != 1) {
                throw new IllegalArgumentException(from + " and " + to + " are not neighbours");
            }
            shapers.put(new Hop(from, to), Objects.requireNonNull(shaper));
            return this;
        }

        /// Time limit for each `ip`/`tc` command and for [NetnsTestBed#exec]; default 10 s.
        public Builder commandTimeout(Duration commandTimeout) {
            this.commandTimeout = Objects.requireNonNull(commandTimeout);
            return this;
        }

        /// Creates the namespaces, links, addresses, routes and bottlenecks.
        ///
        /// @throws IllegalStateException if a command fails (everything created so far is removed)
        public NetnsTestBed build() {
            for (Hop h : shapers.keySet()) {
                if (h.from().ordinal() >= nodes || h.to().ordinal() >= nodes) {
                    throw new IllegalArgumentException("bottleneck " + h.from() + " → " + h.to() + " needs 3 nodes");
                }
            }
            return new NetnsTestBed(this);
        }
    }
}
