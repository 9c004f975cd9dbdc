package io.tern.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * What the environment adds to the Tern servers a benchmark starts: options of {@code tern server}
 * from TERN_BENCH_SERVER_ARGS (e.g. --no-replication: not a default, say so when reporting) and JVM
 * options from TERN_BENCH_SERVER_OPTS (e.g. to profile the servers), as {@code -J} arguments.
 */
final class BenchServerOptions {
    private BenchServerOptions() {
    }

    static List<String> fromEnvironment() {
        List<String> all = new ArrayList<>();
        for (String o : words("TERN_BENCH_SERVER_ARGS")) {
            all.add(o);
        }
        for (String o : words("TERN_BENCH_SERVER_OPTS")) {
            all.add("-J" + o);
        }
        return all;
    }

    private static List<String> words(String variable) {
        return List.of(System.getenv().getOrDefault(variable, "").trim().split("\\s+")).stream().filter(w -> !w.isEmpty()).toList();
    }
}
