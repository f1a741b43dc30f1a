package io.quaver.internal.platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/// A network namespace held open by a descriptor, so that commands (`tc`, `ip`) can be run
/// inside it later — even from a thread of another namespace, and after its name is gone.
///
/// [#call] runs a task on a fresh platform thread that first enters the namespace with
/// `setns(2)`; a process started from that thread (`ProcessBuilder`) is born in the namespace,
/// since Linux's `clone` copies the calling thread's namespaces. The thread ends with the task,
/// so no thread is left inside. Close the namespace when done: an open descriptor keeps it alive.
public final class NetNamespace implements AutoCloseable {
    private final int fd;
    private final long inode;
    private final AtomicBoolean closed = new AtomicBoolean();

    NetNamespace(int fd, long inode) {
        this.fd = fd;
        this.inode = inode;
    }

    /// The namespace's inode number (`net:[inode]`): its identity.
    public long inode() {
        return inode;
    }

    /// The inode of the namespace the calling thread is in, or -1 if unknown.
    public static long currentThreadInode() {
        return inodeOf(Path.of("/proc/thread-self/ns/net"));
    }

    /// The inode of the namespace file at `path` (`/proc/…/ns/net`, `/run/netns/NAME`), or -1.
    public static long inodeOf(Path path) {
        try {
            if (Files.isSymbolicLink(path)) {
                return parseInode(Files.readSymbolicLink(path).toString());
            }
            Object ino = Files.getAttribute(path, "unix:ino");
            return ino instanceof Long l ? l : -1;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    /// The inode in a `net:[4026531992]` link text, or -1.
    static long parseInode(String link) {
        int open = link.indexOf('[');
        int close = link.indexOf(']');
        if (!link.startsWith("net:") || open < 0 || close <= open) {
            return -1;
        }
        try {
            return Long.parseLong(link.substring(open + 1, close));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /// Runs `task` inside this namespace on a fresh platform thread and returns its result.
    public <T> T call(Callable<T> task) throws Exception {
        if (closed.get()) {
            throw new IllegalStateException("namespace descriptor closed");
        }
        var result = new AtomicReference<T>();
        var error = new AtomicReference<Throwable>();
        Thread t = Thread.ofPlatform().name("quaver-netns-" + inode).daemon(true).unstarted(() -> {
            try {
                LinuxNative.enterNetworkNamespace(fd);
                result.set(task.call());
            } catch (LinuxNative.ErrnoException e) {
                error.set(new IOException("setns into net:[" + inode + "] failed: " + e.getMessage()));
            } catch (Throwable e) {
                error.set(e);
            }
        });
        t.start();
        // the task is short; its result must not be orphaned by an interrupt
        if (Threads.joinUninterruptibly(t)) {
            Thread.interrupted(); // reported by the exception instead
            if (result.get() instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // discarded anyway
                }
            }
            throw new InterruptedException("interrupted while running a task in net:[" + inode + "]");
        }
        Throwable e = error.get();
        if (e == null) {
            return result.get();
        }
        if (e instanceof Exception ex) {
            throw ex;
        }
        throw (Error) e;
    }

    /// Opens the namespace file at `path` (e.g. `/run/netns/NAME`).
    public static NetNamespace open(Path path) throws IOException {
        long inode = inodeOf(path);
        if (inode < 0) {
            throw new IOException("not a namespace: " + path);
        }
        try {
            return new NetNamespace(LinuxNative.openReadOnly(path.toString()), inode);
        } catch (LinuxNative.ErrnoException e) {
            throw new IOException("open(" + path + ") failed: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                LinuxNative.close(fd);
            } catch (LinuxNative.ErrnoException ignored) {
                // the descriptor is released anyway
            }
        }
    }

    @Override
    public String toString() {
        return "net:[" + inode + "]";
    }
}
