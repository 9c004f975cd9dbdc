package io.tern.client.impl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The two threads of a session, each started on first use: one for its message listeners (the
 * session's thread of control), one for its completion listeners. Apart, so that a message listener
 * may send asynchronously and a completion listener may stop the connection, which a message
 * listener may not (specification 6.1.5 and 7.3.8).
 */
final class SessionThreads {
    private static final Logger LOG = LoggerFactory.getLogger(SessionThreads.class);

    private final int sessionId;
    private volatile ExecutorService listeners;
    private volatile Thread listenerThread;
    private volatile ExecutorService completions;
    private volatile Thread completionThread;

    SessionThreads(int sessionId) {
        this.sessionId = sessionId;
    }

    boolean isListenerThread() {
        return Thread.currentThread() == listenerThread;
    }

    boolean isCompletionThread() {
        return Thread.currentThread() == completionThread;
    }

    ExecutorService listeners() {
        ExecutorService t = listeners;
        return t != null ? t : startListeners();
    }

    ExecutorService completions() {
        ExecutorService c = completions;
        return c != null ? c : startCompletions();
    }

    private synchronized ExecutorService startListeners() {
        if (listeners == null) {
            listeners = start("tern-session-", th -> listenerThread = th);
        }
        return listeners;
    }

    private synchronized ExecutorService startCompletions() {
        if (completions == null) {
            completions = start("tern-completion-", th -> completionThread = th);
        }
        return completions;
    }

    private ExecutorService start(String name, java.util.function.Consumer<Thread> made) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, name + sessionId);
            th.setDaemon(true);
            made.accept(th);
            return th;
        });
    }

    /** Waits until a message listener that is running returns (Connection.stop, MessageConsumer.close). */
    void awaitListenerIdle() {
        ExecutorService t = listeners;
        if (t == null || isListenerThread()) {
            return;
        }
        try {
            Future<?> f = t.submit(() -> { });
            f.get();
        } catch (Exception e) {
            LOG.debug("Session {} thread ended while waiting: {}", sessionId, e.toString());
        }
    }

    void shutdown() {
        for (ExecutorService t : new ExecutorService[] {listeners, completions}) {
            if (t != null) {
                t.shutdown();
            }
        }
    }
}
