package io.tern.broker;

import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;

/**
 * The life of each message across nodes, one line per event at TRACE on the logger
 * {@code io.tern.broker.MoveTrace}: stored, moved in, dropped as a move known already, given back
 * or removed as a move in doubt, taken over or skipped by a takeover. Off unless that logger is
 * enabled (a fault profile that finds a message twice turns it on to tell where the second copy came
 * from); each line names the message by id and move key.
 */
final class MoveTrace {
    private static final Logger LOG = LoggerFactory.getLogger(MoveTrace.class);

    private MoveTrace() {
    }

    static boolean on() {
        return LOG.isTraceEnabled();
    }

    static void event(String what, String queue, WireMessage m) {
        event(what, "", queue, m);
    }

    /** As above, with a detail (a sequence, a peer, a session) that is only made into text if traced. */
    static void event(String what, Object detail, String queue, WireMessage m) {
        if (LOG.isTraceEnabled()) {
            LOG.trace("{} {} {} {} key={} moves={}", what, detail, queue, m.messageId(), m.moveKey(), m.moves());
        }
    }

    static void events(String what, String queue, Collection<WireMessage> ms) {
        if (LOG.isTraceEnabled()) {
            ms.forEach(m -> event(what, queue, m));
        }
    }
}
