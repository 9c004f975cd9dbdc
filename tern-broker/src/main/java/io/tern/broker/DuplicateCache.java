package io.tern.broker;

import io.tern.broker.store.StoreBatch;

import java.util.Iterator;
import java.util.LinkedHashSet;

/** The most recent duplicate-detection ids, oldest evicted first; stored ids go through the batch. */
final class DuplicateCache {
    private final int capacity;
    private final LinkedHashSet<String> ids = new LinkedHashSet<>();

    DuplicateCache(int capacity) {
        this.capacity = capacity;
    }

    /** False if the id was seen; else remembers it (and stores it when {@code batch} is not null). */
    synchronized boolean add(String id, StoreBatch batch) {
        if (capacity == 0) {
            return true;
        }
        if (!ids.add(id)) {
            return false;
        }
        if (batch != null) {
            batch.add(new StoreBatch.AddDuplicateId(id));
        }
        if (ids.size() > capacity) {
            Iterator<String> eldest = ids.iterator();
            String old = eldest.next();
            eldest.remove();
            if (batch != null) {
                batch.add(new StoreBatch.RemoveDuplicateId(old));
            }
        }
        return true;
    }

    synchronized void forget(String id) {
        ids.remove(id);
    }

    synchronized void recovered(String id) {
        ids.add(id);
    }
}
