package io.quaver.internal.platform;

/// Thread helpers of the engine's edges (the daemon, its client, namespace calls).
public final class Threads {
    private Threads() {
    }

    /// Waits for `t` to end; an interrupt meanwhile is kept for the caller (the thread's
    /// interrupt status is set again).
    ///
    /// @return whether the caller was interrupted while it waited
    public static boolean joinUninterruptibly(Thread t) {
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
            Thread.currentThread().interrupt();
        }
        return interrupted;
    }
}
