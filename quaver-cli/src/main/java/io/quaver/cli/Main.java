package io.quaver.cli;

import io.quaver.QosException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/// Entry point of `./quaver`.
@Command(name = "quaver", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Quaver: the quality audio/video experience subsystem for the JVM (qWAVE/QoS2 for Linux).",
        subcommands = {DemoCommand.class, MarksCommand.class, SinkCommand.class, ProbeCommand.class,
                DaemonCommand.class, FlowsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /// Exit codes that mean something: 0 success, 1 the job failed, 2 bad usage, 3 environment
    /// (e.g. no JDK 25; reported by the launcher script).
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_FAILED);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            String what = e instanceof QosException q ? q.getMessage() : e.toString();
            cmd.getErr().println("quaver " + cmd.getCommandName() + ": " + what);
            return EXIT_FAILED;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"quaver " + (v == null ? "dev" : v) + " on Java " + Runtime.version()};
        }
    }
}
