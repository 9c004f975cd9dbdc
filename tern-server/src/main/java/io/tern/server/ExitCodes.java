package io.tern.server;

/** The exit status of every {@code tern} command (listed by {@code tern --help} and in the README). */
final class ExitCodes {
    /** The command did its job. */
    static final int OK = 0;
    /** It could not: a server could not be reached or refused, a node did not start, the demo lost or repeated a message. */
    static final int FAILED = 1;
    /** Bad usage: an unknown option or a bad value (picocli's own code for usage errors). */
    static final int USAGE = 2;
    /** Started but not finished in its time: a drain that left connections, a stop the server did not obey in time. */
    static final int INCOMPLETE = 3;

    private ExitCodes() {
    }
}
