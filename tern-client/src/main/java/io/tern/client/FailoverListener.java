package io.tern.client;

/**
 * Told when a connection moves between servers. A failover is information, not an error: the
 * {@link jakarta.jms.ExceptionListener} hears only a failover that finally failed. An exception
 * listener that also implements this interface gets these events too.
 *
 * <p>Called on a thread of its own, outside the client's locks; keep it short.
 */
@FunctionalInterface
public interface FailoverListener {
    void onFailover(FailoverEvent event);
}
