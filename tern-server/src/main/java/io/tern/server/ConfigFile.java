package io.tern.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code tern server --config tern.yaml}: every key of the file is a flag of {@code tern server}
 * without its dashes ({@code port: 5445} is {@code --port 5445}), so the file and the flags mean
 * the same and are checked by the same code. A flag given on the command line wins over the file's
 * key, whole: one {@code --queue-setting} or {@code --dev-user} flag replaces all of the file's. Flags that take {@code NAME=VALUE} ({@code dev-user}) take a mapping, and
 * {@code queue-settings} maps destination patterns to their settings:
 * <pre>
 * queue-settings:
 *   "orders.*":
 *     max-deliveries: 3
 *     dead-letter-queue: DLQ.orders
 * </pre>
 * An unknown key, a key given twice or a bad value stops the node before it starts, with the file,
 * the line and the reason.
 */
final class ConfigFile {
    /** The key whose mapping of PATTERN to KEY: VALUE becomes {@code --queue-setting PATTERN:KEY=VALUE}. */
    static final String QUEUE_SETTINGS = "queue-settings";

    /** A key of the file that cannot be used, with where and why. */
    static final class Invalid extends Exception {
        Invalid(Path file, int line, String reason) {
            super(file + (line > 0 ? ":" + line : "") + ": " + reason);
        }
    }

    /** One key (or one queue setting) of the file: the flag and values it stands for. */
    record Setting(int line, String key, OptionSpec option, List<String> args) {
    }

    private ConfigFile() {
    }

    /**
     * Sets the options of {@code spec} that the file names and its command line did not.
     *
     * @param fresh a new command of the same kind, to check each setting alone (and so name its line)
     * @throws Invalid with the file, line and reason of the first key that cannot be used
     */
    static void apply(Path file, CommandSpec spec, Supplier<Object> fresh) throws Invalid {
        List<Setting> settings = read(file, spec);
        for (Setting s : settings) {
            try {
                parser(fresh).parseArgs(s.args().toArray(String[]::new));
            } catch (CommandLine.ParameterException e) {
                throw new Invalid(file, s.line(), s.key() + ": " + e.getMessage());
            }
        }
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        List<String> args = new ArrayList<>();
        List<OptionSpec> taken = new ArrayList<>();
        for (Setting s : settings) {
            if (given == null || !given.hasMatchedOption(s.option())) {
                args.addAll(s.args());
                if (!taken.contains(s.option())) {
                    taken.add(s.option());
                }
            }
        }
        CommandLine all = parser(fresh);
        try {
            all.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new Invalid(file, 0, e.getMessage()); // each key parsed alone; together they can only clash like this
        }
        for (OptionSpec o : taken) {
            o.setValue(all.getCommandSpec().findOption(o.longestName()).getValue());
        }
    }

    private static CommandLine parser(Supplier<Object> fresh) {
        return new CommandLine(fresh.get()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    /** The file's settings, each turned into the flag it stands for. */
    static List<Setting> read(Path file, CommandSpec spec) throws Invalid {
        byte[] text;
        try {
            text = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new Invalid(file, 0, "no such file");
        } catch (IOException e) {
            throw new Invalid(file, 0, "cannot read it: " + e.getMessage());
        }
        List<Setting> settings = new ArrayList<>();
        try (JsonParser p = new YAMLFactory().createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return settings; // an empty file sets nothing
            }
            if (first != JsonToken.START_OBJECT) {
                throw new Invalid(file, line(p), "expected a mapping of keys to values, such as 'port: 5445'");
            }
            Map<String, Integer> seen = new HashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                int line = line(p);
                Integer before = seen.putIfAbsent(key, line);
                if (before != null) {
                    throw new Invalid(file, line, key + ": given twice (also on line " + before + ")");
                }
                p.nextToken();
                if (key.equals(QUEUE_SETTINGS)) {
                    readQueueSettings(file, p, line, spec, settings);
                    continue;
                }
                OptionSpec option = option(file, line, key, spec);
                settings.add(new Setting(line, key, option, args(file, p, line, key, option)));
            }
        } catch (JsonProcessingException e) {
            int line = e.getLocation() != null ? e.getLocation().getLineNr() : 0;
            throw new Invalid(file, line, "not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new Invalid(file, 0, "cannot read it: " + e.getMessage());
        }
        return settings;
    }

    private static int line(JsonParser p) {
        return p.currentTokenLocation().getLineNr();
    }

    /** The flag {@code --KEY} of {@code spec}; not {@code --config} itself, nor a hidden one. */
    private static OptionSpec option(Path file, int line, String key, CommandSpec spec) throws Invalid {
        OptionSpec o = key.startsWith("-") || key.equals("config") ? null : spec.findOption("--" + key);
        if (o == null || o.hidden() || o.usageHelp() || o.versionHelp()) {
            String near = nearest(key, spec);
            throw new Invalid(file, line, "unknown key '" + key + "'" + (near != null ? " (did you mean '" + near + "'?)" : "")
                    + "; the keys are the flags of 'tern server --help' without their dashes");
        }
        return o;
    }

    private static List<String> args(Path file, JsonParser p, int line, String key, OptionSpec option) throws IOException, Invalid {
        String flag = "--" + key;
        List<String> args = new ArrayList<>();
        JsonToken t = p.currentToken();
        if (option.typeInfo().isMap()) {
            if (t != JsonToken.START_OBJECT) {
                throw new Invalid(file, line, key + ": expected a mapping of NAME: VALUE");
            }
            java.util.Set<String> names = new java.util.HashSet<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (!names.add(name)) {
                    throw new Invalid(file, line(p), key + "." + name + ": given twice");
                }
                p.nextToken();
                args.add(flag);
                args.add(name + "=" + scalar(file, p, key + "." + name));
            }
            return args;
        }
        if (t == JsonToken.START_ARRAY) {
            if (!option.isMultiValue()) {
                throw new Invalid(file, line, key + ": takes one value, not a list");
            }
            while (p.nextToken() != JsonToken.END_ARRAY) {
                args.add(flag);
                args.add(scalar(file, p, key));
            }
            return args;
        }
        String value = scalar(file, p, key);
        if (option.arity().max() == 0) { // a switch: true or false
            boolean on = switch (value) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new Invalid(file, line, key + ": expected true or false, not '" + value + "'");
            };
            boolean byDefault = Boolean.TRUE.equals(option.initialValue()) || Boolean.parseBoolean(String.valueOf(option.defaultValue()));
            if (on != byDefault) {
                if (!on && !option.negatable()) {
                    throw new Invalid(file, line, key + ": is on unless turned off, and there is no flag to turn it off");
                }
                args.add(on ? flag : "--no-" + key);
            }
            return args;
        }
        args.add(flag);
        args.add(value);
        return args;
    }

    private static String scalar(Path file, JsonParser p, String key) throws IOException, Invalid {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            throw new Invalid(file, line(p), key + ": has no value");
        }
        if (!t.isScalarValue()) {
            throw new Invalid(file, line(p), key + ": expected a single value");
        }
        return p.getText();
    }

    private static void readQueueSettings(Path file, JsonParser p, int line, CommandSpec spec, List<Setting> settings)
            throws IOException, Invalid {
        OptionSpec option = spec.findOption("--queue-setting");
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new Invalid(file, line, QUEUE_SETTINGS + ": expected a mapping of destination patterns to settings");
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String pattern = p.currentName();
            int patternLine = line(p);
            if (!seen.add(pattern)) {
                throw new Invalid(file, patternLine, QUEUE_SETTINGS + "." + pattern + ": given twice");
            }
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new Invalid(file, patternLine, QUEUE_SETTINGS + "." + pattern + ": expected a mapping such as 'max-deliveries: 3'");
            }
            java.util.Set<String> keys = new java.util.HashSet<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                int keyLine = line(p);
                if (!keys.add(key)) {
                    throw new Invalid(file, keyLine, QUEUE_SETTINGS + "." + pattern + "." + key + ": given twice");
                }
                p.nextToken();
                String value = scalar(file, p, QUEUE_SETTINGS + "." + pattern + "." + key);
                settings.add(new Setting(keyLine, QUEUE_SETTINGS + "." + pattern + "." + key, option,
                        List.of("--queue-setting", pattern + ":" + key + "=" + value)));
            }
        }
    }

    /** The key closest to a misspelt one, if one is close. */
    private static String nearest(String key, CommandSpec spec) {
        String best = null;
        int bestDistance = 3;
        for (OptionSpec o : spec.options()) {
            if (o.hidden() || !o.longestName().startsWith("--") || o.usageHelp() || o.versionHelp()) {
                continue;
            }
            String name = o.longestName().substring(2);
            int d = distance(key, name);
            if (d < bestDistance) {
                best = name;
                bestDistance = d;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
