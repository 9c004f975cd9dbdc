package io.tern.broker;

/**
 * One start of another cluster member as a link to it knew it: its incarnation (new at every start),
 * the view in which the link opened, and the link's number (the member numbers its links; -1: not
 * known). A move left in doubt on that link is that start's to have stored: if the member restarted
 * since, the node that took that start over holds what it stored, not the member's new start
 * ({@link MovesInDoubt#start()}); and if that start discarded since the link opened, its taker does.
 */
public record PeerStart(String incarnation, long openedInView, long link) {
    public PeerStart(String incarnation, long openedInView) {
        this(incarnation, openedInView, -1);
    }
}
