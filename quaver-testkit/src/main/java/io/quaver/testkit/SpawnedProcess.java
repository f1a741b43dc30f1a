package io.quaver.testkit;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/// A background process (started by [NetnsTestBed#spawn]) whose output is captured as it runs.
/// [#close()] kills it and its descendants; its test bed also closes it when the bed is closed.
public final class SpawnedProcess implements AutoCloseable {
    private final List<String> command;
    private final Process process;
    private final Processes.Drain stdout;
    private final Processes.Drain stderr;

    SpawnedProcess(List<String> command, Process process, String threadPrefix) {
        this.command = List.copyOf(command);
        this.process = process;
        this.stdout = new Processes.Drain(process.getInputStream(), threadPrefix + "-out");
        this.stderr = new Processes.Drain(process.getErrorStream(), threadPrefix + "-err");
    }

    public List<String> command() {
        return command;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /// Standard output so far.
    public String stdout() {
        return stdout.snapshot();
    }

    /// Standard error so far.
    public String stderr() {
        return stderr.snapshot();
    }

    /// Waits until `text` appears on standard output or standard error; `false` if the process
    /// ended or the time ran out first.
    public boolean awaitOutput(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (stdout().contains(text) || stderr().contains(text)) {
                return true;
            }
            if (!process.isAlive()) {
                return stdout().contains(text) || stderr().contains(text);
            }
            Thread.sleep(5);
        }
        return false;
    }

    /// Waits for the process to end by itself and returns its result.
    public ExecResult await(Duration timeout) throws InterruptedException, TimeoutException {
        if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new TimeoutException(String.join(" ", command) + " still running after " + timeout);
        }
        return new ExecResult(command, process.exitValue(), stdout.text(), stderr.text(), false);
    }

    /// Kills the process (SIGTERM, then SIGKILL after a second) and its descendants.
    @Override
    public void close() {
        if (process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(1, TimeUnit.SECONDS)) {
                    Processes.kill(process);
                }
            } catch (InterruptedException e) {
                Processes.kill(process);
                Thread.currentThread().interrupt();
            }
        }
        stdout.text();
        stderr.text();
    }

    @Override
    public String toString() {
        return "SpawnedProcess[pid " + process.pid() + ": " + String.join(" ", command) + "]";
    }
}
