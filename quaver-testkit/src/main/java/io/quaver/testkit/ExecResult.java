package io.quaver.testkit;

import java.util.List;

/// The outcome of a finished command.
///
/// @param command  the command line run
/// @param exitCode its exit status (-1 if it was killed for running too long)
/// @param stdout   everything it wrote to standard output
/// @param stderr   everything it wrote to standard error
/// @param timedOut whether it was killed because it exceeded its time limit
public record ExecResult(List<String> command, int exitCode, String stdout, String stderr, boolean timedOut) {
    public ExecResult {
        command = List.copyOf(command);
    }

    /// Whether the command exited with status 0 in time.
    public boolean ok() {
        return !timedOut && exitCode == 0;
    }

    /// This result if [#ok()], otherwise an [IllegalStateException] describing the failure.
    public ExecResult orThrow() {
        if (!ok()) {
            throw new IllegalStateException(describe());
        }
        return this;
    }

    /// A one-paragraph description: command, status and standard error.
    public String describe() {
        return String.join(" ", command) + (timedOut ? ": timed out" : ": exit " + exitCode)
                + (stderr.isBlank() ? "" : ": " + stderr.strip())
                + (stdout.isBlank() || ok() ? "" : " (stdout: " + stdout.strip() + ")");
    }
}
