package io.tern.server;

import io.tern.broker.security.PasswordHash;
import io.tern.broker.security.UsersFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code tern user add|remove|list}: keeps the users file of {@code tern server --users}. A password is
 * read from the terminal (twice, not echoed) or, with {@code --password-stdin}, from the first line of
 * standard input: never from the command line, where every local user could read it.
 */
@Command(name = "user", description = "Add, remove or list the users of a users file (tern server --users FILE).",
        subcommands = {UserCommand.Add.class, UserCommand.Remove.class, UserCommand.ListUsers.class})
final class UserCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "add", description = "Add a user, or set a user's password and roles.")
    static final class Add implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "User name: letters, digits, '.', '_', '-', '@'")
        String name;

        @Option(names = "--users", required = true, description = "The users file (created if missing)")
        Path file;

        @Option(names = "--roles", split = ",", description = "Roles, comma separated (see --permissions of tern server)")
        List<String> roles = List.of();

        @Option(names = "--password-stdin", description = "Read the password from the first line of standard input")
        boolean passwordStdin;

        @Option(names = "--certificate-only", description = "No password: the user logs in with a client certificate only")
        boolean certificateOnly;

        @Option(names = "--iterations", hidden = true, description = "PBKDF2 iterations (default: ${DEFAULT-VALUE}); tests use fewer")
        int iterations = PasswordHash.ITERATIONS;

        @Override
        public Integer call() throws IOException {
            try {
                UsersFile.checkName(name, "user");
                Set<String> roleSet = new LinkedHashSet<>();
                for (String r : roles) {
                    roleSet.add(UsersFile.checkName(r.strip(), "role"));
                }
                Map<String, UsersFile.User> users = Files.exists(file) ? UsersFile.read(file) : new LinkedHashMap<>();
                String hash = UsersFile.NO_PASSWORD;
                if (!certificateOnly) {
                    char[] password = passwordStdin ? firstLineOfStdin() : fromTerminal();
                    try {
                        if (password.length < 8) {
                            throw new IllegalArgumentException("a password needs at least 8 characters");
                        }
                        hash = PasswordHash.of(password, iterations);
                    } finally {
                        Arrays.fill(password, '\0');
                    }
                }
                boolean existed = users.containsKey(name);
                users.put(name, new UsersFile.User(name, roleSet, hash));
                UsersFile.write(file, users);
                spec.commandLine().getOut().println((existed ? "updated" : "added") + " user " + name + " with roles "
                        + (roleSet.isEmpty() ? "(none)" : String.join(",", roleSet)) + " in " + file);
                return ExitCodes.OK;
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("user add: " + e.getMessage());
                return ExitCodes.USAGE;
            }
        }

        private static char[] fromTerminal() {
            Console console = System.console();
            if (console == null) {
                throw new IllegalArgumentException("no terminal to read the password from: use --password-stdin");
            }
            char[] first = console.readPassword("Password: ");
            char[] again = console.readPassword("Again: ");
            if (first == null || !Arrays.equals(first, again)) {
                throw new IllegalArgumentException("the two passwords differ");
            }
            Arrays.fill(again, '\0');
            return first;
        }

        private static char[] firstLineOfStdin() throws IOException {
            String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (line == null) {
                throw new IllegalArgumentException("standard input is empty: no password");
            }
            return line.toCharArray();
        }
    }

    @Command(name = "remove", description = "Remove a user.")
    static final class Remove implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--users", required = true, description = "The users file")
        Path file;

        @Override
        public Integer call() throws IOException {
            Map<String, UsersFile.User> users = UsersFile.read(file);
            if (users.remove(name) == null) {
                spec.commandLine().getErr().println("user remove: no user '" + name + "' in " + file);
                return ExitCodes.FAILED;
            }
            UsersFile.write(file, users);
            spec.commandLine().getOut().println("removed user " + name + " from " + file);
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", description = "List the users and their roles (not their password hashes).")
    static final class ListUsers implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--users", required = true, description = "The users file")
        Path file;

        @Override
        public Integer call() throws IOException {
            for (UsersFile.User u : UsersFile.read(file).values()) {
                spec.commandLine().getOut().println(u.name() + "\t" + String.join(",", u.roles())
                        + (u.hash().equals(UsersFile.NO_PASSWORD) ? "\t(client certificate only)" : ""));
            }
            return ExitCodes.OK;
        }
    }
}
