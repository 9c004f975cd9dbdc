package io.tern.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/tern}: the command line of Tern. */
@Command(name = "tern", mixinStandardHelpOptions = true, version = "tern 0.1.0",
        description = "Tern, a clustered Jakarta Messaging broker.",
        subcommands = {ServerCommand.class, StopCommand.class, StatusCommand.class, DrainCommand.class, DemoCommand.class, DiscoverCommand.class, LoadCommands.Produce.class,
                LoadCommands.Consume.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int code = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        if (code != 0 || !isLongRunning(args)) {
            System.exit(code);
        }
    }

    private static boolean isLongRunning(String[] args) {
        return args.length > 0 && args[0].equals("server");
    }
}
