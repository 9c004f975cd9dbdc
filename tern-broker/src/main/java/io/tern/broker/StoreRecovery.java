package io.tern.broker;

import io.netty.buffer.Unpooled;
import io.tern.broker.store.MessageStore;
import io.tern.protocol.FrameCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongPredicate;

/**
 * A node's start from its store: the queues it defined, the messages it kept (in memory up to the
 * paging line, the rest left in the store as paged sequences) and its duplicate ids, put back into
 * the queues before the node accepts clients.
 */
final class StoreRecovery implements MessageStore.Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(StoreRecovery.class);

    private final Destinations destinations;
    private final MemoryGovernor memory;
    private final DuplicateCache duplicates;
    private final LongPredicate wantsBodies;
    private final Map<String, QueueDefinition> definitions = new LinkedHashMap<>();
    private final Map<String, List<QueueEntry>> messages = new HashMap<>();
    private final Map<String, PagedSequences> onDisk = new HashMap<>();
    private long maxSequence;
    private int count;
    private long inMemory;

    private StoreRecovery(Destinations destinations, MemoryGovernor memory, DuplicateCache duplicates, LongPredicate wantsBodies) {
        this.destinations = destinations;
        this.memory = memory;
        this.duplicates = duplicates;
        this.wantsBodies = wantsBodies;
    }

    /**
     * Reads {@code store} into the queues; returns the highest sequence it holds. {@code wantsBodies}
     * says, given the bytes of bodies read so far, whether the next one is read into memory.
     */
    static long recover(MessageStore store, Destinations destinations, MemoryGovernor memory, DuplicateCache duplicates,
                        LongPredicate wantsBodies) {
        StoreRecovery recovery = new StoreRecovery(destinations, memory, duplicates, wantsBodies);
        store.recover(recovery);
        recovery.fillQueues();
        return recovery.maxSequence;
    }

    @Override
    public void queue(String queue, byte[] definition) {
        definitions.put(queue, QueueDefinition.decode(definition));
    }

    @Override
    public boolean wantsBody(String queue) {
        // Memory is filled up to the paging line, in key order; the rest stays paged (not even read).
        return wantsBodies.test(inMemory);
    }

    @Override
    public void message(String queue, long seq, byte[] message) {
        QueueEntry e = new QueueEntry(seq, FrameCodec.readMessage(Unpooled.wrappedBuffer(message)), true, null, 0);
        messages.computeIfAbsent(queue, q -> new ArrayList<>()).add(e);
        inMemory += e.size;
        counted(seq);
    }

    @Override
    public void onDisk(String queue, long seq) {
        onDisk.computeIfAbsent(queue, q -> new PagedSequences()).add(seq);
        counted(seq);
    }

    @Override
    public void duplicateId(long bucket, String id) {
        duplicates.recovered(bucket, id);
    }

    private void counted(long seq) {
        maxSequence = Math.max(maxSequence, seq);
        count++;
    }

    private void fillQueues() {
        definitions.values().forEach(destinations::register);
        List<CompletableFuture<Void>> loads = new ArrayList<>();
        messages.forEach((name, entries) -> {
            MessageQueue q = known(name, entries.size());
            if (q != null) {
                entries.forEach(e -> memory.add(e.size));
                loads.add(q.executor().submit(() -> q.enqueueAll(entries)));
            }
        });
        int paged = 0;
        for (Map.Entry<String, PagedSequences> e : onDisk.entrySet()) {
            MessageQueue q = known(e.getKey(), e.getValue().size());
            if (q != null) {
                paged += e.getValue().size();
                loads.add(q.executor().submit(() -> q.pagedAtStart(e.getValue())));
            }
        }
        CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new)).join();
        LOG.info("Recovered {} queues and {} messages ({} of them paged: in the store, read back as consumers reach them)",
                definitions.size(), count, paged);
    }

    private MessageQueue known(String name, int stored) {
        MessageQueue q = destinations.get(name);
        if (q == null) {
            LOG.warn("Dropping {} stored messages of unknown queue {}", stored, name);
        }
        return q;
    }
}
