package io.quaver.internal.daemon;

/// Thread helpers of the daemon and its client.
final class Threads {
    private Threads() {
    }

    /// Waits for `t` to end; an interrupt meanwhile is kept for the caller.
    static void joinUninterruptibly(Thread t) {
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
    }
}
