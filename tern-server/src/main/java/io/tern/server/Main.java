package io.tern.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/tern}: the command line of Tern. */
@Command(name = "tern", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, version = "tern 0.1.0",
        description = "Tern, a clustered Jakarta Messaging broker.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:done", "1:failed (a server could not be reached or refused, a node did not start, the demo lost or "
                + "repeated a message)", "2:bad usage (an unknown option, a bad value)", "3:not finished in time (drain, stop)"},
        subcommands = {ServerCommand.class, StopCommand.class, StatusCommand.class, DrainCommand.class, DemoCommand.class, DiscoverCommand.class, UserCommand.class, LoadCommands.Produce.class,
                LoadCommands.Consume.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        if (code != 0 || !isLongRunning(args)) {
            System.exit(code);
        }
    }

    /** The command line as {@code bin/tern} runs it (public for tests that run a command in their own JVM). */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).setExecutionExceptionHandler(Main::failed);
    }

    /**
     * A command that threw: one line that names the command and what went wrong (with its causes),
     * not a stack trace; the trace only with {@code -Dtern.cli.trace=true}.
     */
    private static int failed(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        StringBuilder why = new StringBuilder(String.valueOf(e.getMessage()));
        Throwable c = e.getCause() != null ? e.getCause() : linked(e);
        for (int depth = 0; c != null && c != e && depth < 5; c = c.getCause(), depth++) {
            if (c.getMessage() != null && !why.toString().contains(c.getMessage())) {
                why.append(" (").append(c.getMessage()).append(')');
            }
        }
        cmd.getErr().println(cmd.getCommandName() + ": " + why);
        if (Boolean.getBoolean("tern.cli.trace")) {
            e.printStackTrace(cmd.getErr());
        }
        return ExitCodes.FAILED;
    }

    private static Throwable linked(Exception e) {
        return e instanceof jakarta.jms.JMSException j ? j.getLinkedException() : null;
    }

    private static boolean isLongRunning(String[] args) {
        return args.length > 0 && args[0].equals("server");
    }
}
