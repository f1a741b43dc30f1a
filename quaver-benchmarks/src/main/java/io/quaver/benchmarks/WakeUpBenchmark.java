package io.quaver.benchmarks;

import io.quaver.internal.shaping.PacingPolicy;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/// How late a waiting pacer wakes up on this host (goal G12: departure lateness p99 ≤ 50 µs
/// with ≤ 10 % of a core at ≤ 1 k packets/s, ≤ 200 µs with ≤ 25 % at ≤ 20 k packets/s): one
/// platform thread keeps an absolute schedule of deadlines `gap` apart and waits for each with
/// one of several methods, the methods alternating in blocks on the same thread, in a rotating
/// order, so that they share the host's conditions. Per method and gap: lateness (wake-up −
/// deadline) p50 / p99 / p99.9 and the thread's CPU time as a share of one core.
///
/// - `park, slack 50 us`: `LockSupport.parkNanos` for the whole wait, the kernel's default
///   timer slack (what the pacer did before `PR_SET_TIMERSLACK`);
/// - `park, slack 1 ns`: the same with the thread's timer slack at 1 ns (the pacer's thread now);
/// - `clock_nanosleep abs, slack 1 ns`: `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)` on the
///   deadline (the clock of `System.nanoTime` on Linux), through FFM;
/// - `hybrid (Quaver), slack 1 ns`: the pacer's wait: park until the deadline minus
///   `PacingPolicy.spinWindowNs` (adapted to the observed park lateness, bounded by the CPU
///   budget), then spin;
/// - `nanosleep + spin, slack 1 ns`: `clock_nanosleep` until the deadline minus the same window,
///   then spin;
/// - `park, SCHED_FIFO` and `hybrid (Quaver), SCHED_FIFO`: the same with the thread in the
///   real-time class at priority 1 (`sched_setscheduler`, needs root or `CAP_SYS_NICE`; skipped
///   otherwise): its wake-up preempts the ordinary tasks of a busy host.
///
/// `java -cp … io.quaver.benchmarks.WakeUpBenchmark [--rounds 10] [--block-ms 300] [--gaps-us 1000,200,50] [--out F]`
public final class WakeUpBenchmark {
    private static final int PR_SET_TIMERSLACK = 29;
    private static final int CLOCK_MONOTONIC = 1;
    private static final int TIMER_ABSTIME = 1;
    private static final long DEFAULT_SLACK_NS = 50_000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle PRCTL = LINKER.downcallHandle(LINKER.defaultLookup().find("prctl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle CLOCK_NANOSLEEP = LINKER.downcallHandle(
            LINKER.defaultLookup().find("clock_nanosleep").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS));

    private WakeUpBenchmark() {
    }

    private enum Method {
        PARK_DEFAULT_SLACK("park, slack 50 us", DEFAULT_SLACK_NS),
        PARK("park, slack 1 ns", 1),
        NANOSLEEP("clock_nanosleep abs, slack 1 ns", 1),
        HYBRID("hybrid (Quaver), slack 1 ns", 1),
        NANOSLEEP_SPIN("nanosleep + spin, slack 1 ns", 1),
        PARK_FIFO("park, SCHED_FIFO 1, slack 1 ns", 1),
        HYBRID_FIFO("hybrid (Quaver), SCHED_FIFO 1, slack 1 ns", 1);

        final String label;
        final long slackNs;

        Method(String label, long slackNs) {
            this.label = label;
            this.slackNs = slackNs;
        }

        boolean realtime() {
            return this == PARK_FIFO || this == HYBRID_FIFO;
        }
    }

    private static final int SCHED_OTHER = 0;
    private static final int SCHED_FIFO = 1;
    private static final MethodHandle SCHED_SETSCHEDULER = LINKER.downcallHandle(
            LINKER.defaultLookup().find("sched_setscheduler").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

    /// Puts the calling thread in `policy` at `priority`; false if not allowed.
    private static boolean schedule(int policy, int priority, MemorySegment param) throws Throwable {
        param.set(ValueLayout.JAVA_INT, 0, priority);
        return (int) SCHED_SETSCHEDULER.invokeExact(0, policy, param) == 0;
    }

    public static void main(String[] args) throws Throwable {
        int rounds = 10;
        long blockMs = 300;
        long[] gapsUs = {1000, 200, 50};
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--block-ms" -> blockMs = Long.parseLong(args[++i]);
                case "--gaps-us" -> gapsUs = Arrays.stream(args[++i].split(",")).mapToLong(Long::parseLong).toArray();
                case "--out" -> out = Path.of(args[++i]);
                case "--help", "-h" -> {
                    System.out.println("WakeUpBenchmark [--rounds 10] [--block-ms 300] [--gaps-us 1000,200,50] [--out F.json]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Method[] methods = Method.values();
        boolean realtimeAllowed;
        try (Arena probe = Arena.ofConfined()) {
            MemorySegment param = probe.allocate(4, 4);
            realtimeAllowed = schedule(SCHED_FIFO, 1, param);
            schedule(SCHED_OTHER, 0, param);
        }
        if (!realtimeAllowed) {
            methods = Arrays.stream(methods).filter(m -> !m.realtime()).toArray(Method[]::new);
        }
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "Wake-up lateness, %d rounds × %d ms per method and gap, methods interleaved on one platform thread:%n"
                        + "| Gap | Method | waits | lateness p50 (µs) | p99 (µs) | p99.9 (µs) | CPU (%% of a core) |%n"
                        + "| --- | --- | --- | --- | --- | --- | --- |%n", rounds, blockMs));
        StringBuilder json = new StringBuilder("{\"rounds\":" + rounds + ",\"blockMs\":" + blockMs + ",\"results\":[");
        boolean first = true;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment timespec = arena.allocate(16, 8);
            MemorySegment param = arena.allocate(4, 4);
            for (long gapUs : gapsUs) {
                long gapNs = gapUs * 1000;
                List<List<Long>> late = new ArrayList<>();
                long[] cpuNs = new long[methods.length];
                long[] wallNs = new long[methods.length];
                for (int m = 0; m < methods.length; m++) {
                    late.add(new ArrayList<>());
                }
                for (int round = -1; round < rounds; round++) { // round -1: warm-up
                    for (int k = 0; k < methods.length; k++) {
                        int m = Math.floorMod(k + round, methods.length);
                        setSlack(methods[m].slackNs);
                        if (methods[m].realtime()) {
                            schedule(SCHED_FIFO, 1, param);
                        }
                        long cpu0 = threads.getCurrentThreadCpuTime();
                        long wall0 = System.nanoTime();
                        List<Long> samples = run(methods[m], gapNs, blockMs * 1_000_000, timespec);
                        long wall = System.nanoTime() - wall0;
                        long cpu = threads.getCurrentThreadCpuTime() - cpu0;
                        if (methods[m].realtime()) {
                            schedule(SCHED_OTHER, 0, param);
                        }
                        if (round >= 0) {
                            late.get(m).addAll(samples);
                            cpuNs[m] += cpu;
                            wallNs[m] += wall;
                        }
                    }
                }
                for (int m = 0; m < methods.length; m++) {
                    long[] s = late.get(m).stream().mapToLong(Long::longValue).sorted().toArray();
                    double p50 = s[s.length / 2] / 1e3;
                    double p99 = s[(int) Math.min(s.length - 1, Math.floor(s.length * 0.99))] / 1e3;
                    double p999 = s[(int) Math.min(s.length - 1, Math.floor(s.length * 0.999))] / 1e3;
                    double cpu = 100.0 * cpuNs[m] / wallNs[m];
                    table.append(String.format(Locale.ROOT, "| %d µs | %s | %d | %.1f | %.1f | %.1f | %.1f |%n",
                            gapUs, methods[m].label, s.length, p50, p99, p999, cpu));
                    json.append(first ? "" : ",").append(String.format(Locale.ROOT,
                            "{\"gapUs\":%d,\"method\":\"%s\",\"waits\":%d,\"lateP50Us\":%.1f,\"lateP99Us\":%.1f,"
                                    + "\"lateP999Us\":%.1f,\"cpuPercent\":%.2f}",
                            gapUs, methods[m].label, s.length, p50, p99, p999, cpu));
                    first = false;
                }
            }
        }
        setSlack(DEFAULT_SLACK_NS);
        json.append("]}\n");
        System.out.print(table);
        if (out != null) {
            Files.writeString(out, json, StandardCharsets.UTF_8);
        }
    }

    /// Waits for deadlines `gapNs` apart for `durationNs`; returns each wait's lateness (ns).
    /// A deadline already passed by more than a gap re-anchors the schedule (a pacer's bounded
    /// catch-up), so one long stall counts once.
    private static List<Long> run(Method method, long gapNs, long durationNs, MemorySegment timespec) throws Throwable {
        List<Long> lateness = new ArrayList<>((int) (durationNs / gapNs) + 1);
        long start = System.nanoTime();
        long deadline = start + gapNs;
        long end = start + durationNs;
        while (deadline < end) {
            waitUntil(method, deadline, gapNs, timespec);
            long now = System.nanoTime();
            lateness.add(now - deadline);
            deadline += gapNs;
            if (deadline < now - gapNs) {
                deadline = now + gapNs;
            }
        }
        return lateness;
    }

    private static void waitUntil(Method method, long deadlineNs, long gapNs, MemorySegment timespec) throws Throwable {
        switch (method) {
            case PARK_DEFAULT_SLACK, PARK, PARK_FIFO -> {
                long remaining;
                while ((remaining = deadlineNs - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(remaining);
                }
            }
            case NANOSLEEP -> sleepUntil(deadlineNs, timespec);
            case HYBRID, HYBRID_FIFO -> {
                long window = PacingPolicy.spinWindowNs(gapNs, PacingPolicy.PARK_OVERSHOOT.estimateNs());
                long park;
                while ((park = PacingPolicy.parkNs(deadlineNs - System.nanoTime(), window)) > 0) {
                    PacingPolicy.parkAndLearn(WakeUpBenchmark.class, park);
                }
                spinUntil(deadlineNs);
            }
            case NANOSLEEP_SPIN -> {
                long window = PacingPolicy.spinWindowNs(gapNs, PacingPolicy.PARK_OVERSHOOT.estimateNs());
                if (deadlineNs - window - System.nanoTime() > 0) {
                    sleepUntil(deadlineNs - window, timespec);
                }
                spinUntil(deadlineNs);
            }
        }
    }

    private static void spinUntil(long deadlineNs) {
        while (deadlineNs - System.nanoTime() > 0) {
            Thread.onSpinWait();
        }
    }

    /// `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)` until `System.nanoTime()` reaches
    /// `deadlineNs` (HotSpot's `System.nanoTime` is `CLOCK_MONOTONIC` on Linux).
    private static void sleepUntil(long deadlineNs, MemorySegment timespec) throws Throwable {
        timespec.set(ValueLayout.JAVA_LONG, 0, deadlineNs / 1_000_000_000L);
        timespec.set(ValueLayout.JAVA_LONG, 8, deadlineNs % 1_000_000_000L);
        int rc;
        do {
            rc = (int) CLOCK_NANOSLEEP.invokeExact(CLOCK_MONOTONIC, TIMER_ABSTIME, timespec, MemorySegment.NULL);
        } while (rc == 4 /* EINTR */);
    }

    private static void setSlack(long ns) throws Throwable {
        int rc = (int) PRCTL.invokeExact(PR_SET_TIMERSLACK, ns);
        if (rc != 0) {
            throw new IllegalStateException("prctl(PR_SET_TIMERSLACK) failed");
        }
    }
}
