package io.tern.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a JGroups stack: one shipped as a resource ({@code udp}, {@code tcp}, {@code kubernetes},
 * {@code loopback}) or a file of the user's, and fills in its {@code ${tern.name:default}}
 * placeholders from the node's settings. Per-node values cannot go through JGroups' own system
 * property substitution, since several nodes may share one JVM.
 */
public final class StackConfig {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(tern\\.[A-Za-z0-9_.]+)(?::([^}]*))?}");

    private StackConfig() {
    }

    /** The stack's XML with every {@code ${tern.*}} placeholder replaced. */
    public static String load(String stack, Map<String, String> values) throws IOException {
        String xml;
        if (stack.endsWith(".xml") || stack.contains("/")) {
            xml = Files.readString(Path.of(stack), StandardCharsets.UTF_8);
        } else {
            try (InputStream in = StackConfig.class.getResourceAsStream("/tern/jgroups/" + stack + ".xml")) {
                if (in == null) {
                    throw new IllegalArgumentException("unknown JGroups stack '" + stack
                            + "': use udp, tcp, kubernetes, loopback or the path of a stack file");
                }
                xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
        Matcher m = PLACEHOLDER.matcher(xml);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String key = m.group(1).substring("tern.".length());
            String value = values.get(key);
            if (value == null) {
                value = m.group(2);
            }
            if (value == null) {
                throw new IllegalArgumentException("JGroups stack '" + stack + "' needs a value for tern." + key);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
