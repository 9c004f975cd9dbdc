package io.tern.cluster;

import org.jgroups.Address;
import org.jgroups.Event;
import org.jgroups.stack.Protocol;
import org.jgroups.util.NameCache;

import java.util.Collection;
import java.util.function.Consumer;

/**
 * Hears the members that failure detection suspects, once VERIFY_SUSPECT2 confirmed them, on their
 * way to the membership protocol, which then excludes them: for the console's timeline, which
 * would otherwise only see them leave. Adds no header and changes nothing it passes on.
 */
final class SuspectWatch extends Protocol {
    private final Consumer<String> suspected;

    SuspectWatch(Consumer<String> suspected) {
        this.suspected = suspected;
    }

    @Override
    public Object up(Event evt) {
        if (evt.getType() == Event.SUSPECT && evt.getArg() instanceof Collection<?> members) {
            for (Object m : members) {
                if (m instanceof Address a) {
                    String name = NameCache.get(a);
                    suspected.accept(name != null ? name : a.toString());
                }
            }
        }
        return up_prot.up(evt);
    }
}
