package io.tern.broker;

import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;

import java.util.ArrayDeque;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * The memory limit's say on one connection's sends. Under {@link BrokerConfig.FullPolicy#FAIL} a send
 * past the limit is refused at once. Under BLOCK each asks for room before anything of it is stored
 * ({@link MemoryGovernor#whenRoom}), and they are stored in the order they came, waiting or not. A send that waits past the block timeout is refused, not stored,
 * with an answer that says why; one whose connection closed while it waited is dropped (its client
 * resends it where it reconnects: stored there, never twice). Confined to the connection's executor.
 */
final class SendAdmissions {
    /** Stores a send (or adds it to its transaction) and answers it. */
    interface Accept {
        void accept(RequestFrame frame, ServerSession session, Request.Send send);
    }

    private static final class Admission {
        final RequestFrame frame;
        final ServerSession session;
        final Request.Send send;
        boolean ready;
        /** Bytes the memory limit reserved for it until it is counted (0: none). */
        long reserved;
        /** Why it is refused (it waited past the block timeout), or null. */
        BrokerException failure;

        Admission(RequestFrame frame, ServerSession session, Request.Send send) {
            this.frame = frame;
            this.session = session;
            this.send = send;
        }
    }

    private final Broker broker;
    private final SerialExecutor executor;
    private final BooleanSupplier closed;
    private final Accept accept;
    private final BiConsumer<RequestFrame, Throwable> fail;
    /** Sends waiting for room or for those before them, oldest first. */
    private final ArrayDeque<Admission> line = new ArrayDeque<>();

    SendAdmissions(Broker broker, SerialExecutor executor, BooleanSupplier closed, Accept accept,
                   BiConsumer<RequestFrame, Throwable> fail) {
        this.broker = broker;
        this.executor = executor;
        this.closed = closed;
        this.accept = accept;
        this.fail = fail;
    }

    /** A send came: stored now if there is room and none waits before it, else once there is, or refused. */
    void admit(RequestFrame frame, ServerSession session, Request.Send send) {
        // Would the store keep it (so that the disk limit holds it back)? Not in a temporary destination; a
        // publication to a topic counts as stored (a durable subscription may keep it).
        io.tern.protocol.DestinationName.Kind kind = send.message().destination().kind();
        boolean stored = send.message().persistent() && broker.storesMessages()
                && kind != io.tern.protocol.DestinationName.Kind.TEMP_QUEUE && kind != io.tern.protocol.DestinationName.Kind.TEMP_TOPIC;
        if (broker.config().fullPolicy() == BrokerConfig.FullPolicy.FAIL) {
            if (broker.memory().full()) {
                throw new BrokerException(ErrorCode.RESOURCE_EXHAUSTED, "the message to " + send.message().destination().name()
                        + " was not stored: " + memoryFull() + "; consumers make room");
            }
            if (stored && broker.memory().diskFull()) {
                throw new BrokerException(ErrorCode.RESOURCE_EXHAUSTED, "the message to " + send.message().destination().name()
                        + " was not stored: node " + broker.config().name() + " is past its disk limit: "
                        + broker.diskUsage() + "; consumers make room");
            }
            accept.accept(frame, session, send);
            return;
        }
        long bytes = HeapCost.of(send.message());
        if (session.transacted()) {
            session.mayHold(bytes); // no consumer makes room for a transaction's own sends: it would wait in vain
        }
        long timeoutMs = broker.config().blockTimeoutMs();
        Admission a = new Admission(frame, session, send);
        line.addLast(a);
        boolean[] now = {true};
        broker.memory().whenRoom(bytes, stored, timeoutMs, broker.scheduler(), reserved -> {
            if (now[0]) {
                admitted(a, reserved); // on this connection's executor, within this call
            } else {
                executor.execute(() -> {
                    admitted(a, reserved);
                    drain();
                });
            }
        }, () -> executor.execute(() -> {
            String why = stored && broker.memory().diskFull() && !broker.memory().full()
                    ? "node " + broker.config().name() + " is past its disk limit: " + broker.diskUsage()
                    : memoryFull();
            a.failure = new BrokerException(ErrorCode.RESOURCE_EXHAUSTED, "the message to "
                    + send.message().destination().name() + " waited " + timeoutMs + " ms for room and was not stored: "
                    + why + "; consumers make room, or send it again later");
            a.ready = true;
            drain();
        }));
        now[0] = false;
        drain();
    }

    private static void admitted(Admission a, long reserved) {
        a.reserved = reserved;
        a.ready = true;
    }

    /** Stores or refuses, in order, the sends at the head of the line that are through. */
    private void drain() {
        while (!line.isEmpty() && line.peekFirst().ready) {
            Admission a = line.pollFirst();
            try {
                if (a.failure != null) {
                    fail.accept(a.frame, a.failure);
                } else if (!closed.getAsBoolean()) {
                    accept.accept(a.frame, a.session, a.send);
                }
            } catch (RuntimeException e) {
                fail.accept(a.frame, e);
            } finally {
                if (a.reserved > 0) {
                    broker.memory().released(a.reserved);
                }
            }
        }
    }

    /** Why the memory limit holds a send back: the node's queues, and the replicas it holds for other nodes if any. */
    private String memoryFull() {
        long replicas = broker.replicaMemory();
        return "node " + broker.config().name() + " holds as many queued messages as its memory limit allows ("
                + broker.config().memoryLimitBytes() + " bytes" + (replicas > 0 ? ", of which the replicas of the nodes it "
                + "backs up take " + replicas : "") + ")";
    }
}
