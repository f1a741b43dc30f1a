package io.quaver.testkit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/// Entering a named network namespace from Java: `setns(2)` through the FFM API, on a fresh
/// platform thread.
///
/// `setns` changes the namespace of the calling OS thread only. A platform thread is bound to one
/// OS thread for its whole life, so after the call every socket it creates belongs to the
/// namespace, and keeps belonging to it whichever thread uses it later. (A virtual thread would not
/// do: it can move between carrier threads.) The helper thread ends when the callable returns, so
/// no thread is left in the namespace.
final class Netns {
    static final int CLONE_NEWNET = 0x4000_0000;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;

    private Netns() {
    }

    /// The bind-mounted namespace file `ip netns add` created for `name`.
    static Path path(String name) {
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("not a namespace name: " + name);
        }
        for (String dir : new String[] {"/run/netns", "/var/run/netns"}) {
            Path p = Path.of(dir, name);
            if (Files.exists(p)) {
                return p;
            }
        }
        throw new IllegalArgumentException("no network namespace named " + name + " (no /run/netns/" + name + ")");
    }

    /// Runs `task` on a new platform thread that has first entered namespace `name`.
    static <T> T call(String name, Callable<T> task) throws Exception {
        Path path = path(name);
        var result = new AtomicReference<T>();
        var error = new AtomicReference<Throwable>();
        Thread t = Thread.ofPlatform().name("quaver-netns-" + name).daemon(true).unstarted(() -> {
            try {
                enter(path);
                result.set(task.call());
            } catch (Throwable e) {
                error.set(e);
            }
        });
        t.start();
        joinOrDiscard(t, result);
        Throwable e = error.get();
        switch (e) {
            case null -> {
                return result.get();
            }
            case Exception ex -> throw ex;
            case Error err -> throw err;
            default -> throw new IllegalStateException(e);
        }
    }

    /// Waits for `t`, which sets `result`. If the caller is interrupted meanwhile, the task still
    /// runs to its end (it is short: opening a socket, say), a result that must be closed is
    /// closed instead of orphaned, and the interrupt is thrown.
    static void joinOrDiscard(Thread t, AtomicReference<?> result) throws InterruptedException {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            if (result.get() instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // discarded anyway
                }
            }
            throw new InterruptedException("interrupted while running a task in a network namespace");
        }
    }

    /// Moves the calling thread into the network namespace at `path`.
    static void enter(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            MemorySegment cPath = arena.allocateFrom(path.toString());
            int fd = (int) Native.OPEN.invokeExact(state, cPath, O_RDONLY | O_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException("open(" + path + ") failed: " + errno(state));
            }
            try {
                int rc = (int) Native.SETNS.invokeExact(state, fd, CLONE_NEWNET);
                if (rc != 0) {
                    throw new IOException("setns(" + path + ", CLONE_NEWNET) failed: " + errno(state));
                }
            } finally {
                int ignored = (int) Native.CLOSE.invokeExact(state, fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static String errno(MemorySegment state) {
        int errno = (int) Native.ERRNO.get(state, 0L);
        String name = switch (errno) {
            case 1 -> "EPERM (needs CAP_SYS_ADMIN)";
            case 2 -> "ENOENT";
            case 9 -> "EBADF";
            case 13 -> "EACCES";
            case 22 -> "EINVAL";
            case 38 -> "ENOSYS";
            default -> "";
        };
        return "errno " + errno + (name.isEmpty() ? "" : " " + name);
    }

    /// Lazily bound libc functions (so that merely loading the test kit needs no native access).
    private static final class Native {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        // open is variadic: int open(const char *path, int flags, ...); the mode is the variadic arg.
        static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        static final MethodHandle SETNS = downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

        @SuppressWarnings("restricted") // needs --enable-native-access for this module (or ALL-UNNAMED)
        private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
            MemorySegment symbol = LINKER.defaultLookup().find(name)
                    .orElseThrow(() -> new UnsupportedOperationException("libc has no " + name + "()"));
            Linker.Option[] options = new Linker.Option[extra.length + 1];
            options[0] = Linker.Option.captureCallState("errno");
            System.arraycopy(extra, 0, options, 1, extra.length);
            return LINKER.downcallHandle(symbol, fd, options);
        }
    }
}
