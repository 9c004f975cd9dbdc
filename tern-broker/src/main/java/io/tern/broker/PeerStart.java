package io.tern.broker;

/**
 * One start of another cluster member as a link to it knew it: its incarnation (new at every start)
 * and the view in which the link opened. A move left in doubt on that link is that start's to have
 * stored: if the member restarted since, the node that took that start over holds what it stored,
 * not the member's new start ({@link MovesInDoubt#start()}).
 */
public record PeerStart(String incarnation, long openedInView) {
}
