package io.tern.broker;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What a queue is. Subscriptions are queues too: {@code topic} names the topic they take from.
 *
 * <pre>
 * stored := version:u8 name:utf kind:u8 topic:utf selector:utf noLocal:bool
 *           (strings are writeUTF with "" for none)
 * </pre>
 */
record QueueDefinition(String name, Kind kind, String topic, String selector, boolean noLocal) {

    enum Kind {
        /** A named queue, durable. */
        QUEUE(true),
        /** A durable (possibly shared) topic subscription. */
        DURABLE_SUBSCRIPTION(true),
        /** A non-durable topic subscription: gone with its consumers. */
        SUBSCRIPTION(false),
        /** A temporary queue: gone with its connection. */
        TEMPORARY(false),
        /**
         * A temporary topic: gone with its connection. Not a queue (its subscriptions are): other
         * nodes learn of it so that publications made there are accepted and reach its subscriptions.
         */
        TEMPORARY_TOPIC(false);

        final boolean durable;

        Kind(boolean durable) {
            this.durable = durable;
        }
    }

    QueueDefinition {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("queue names must not contain NUL: " + name);
        }
    }

    static QueueDefinition queue(String name) {
        return new QueueDefinition(name, Kind.QUEUE, null, null, false);
    }

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(1);
            out.writeUTF(name);
            out.writeByte(kind.ordinal());
            out.writeUTF(topic == null ? "" : topic);
            out.writeUTF(selector == null ? "" : selector);
            out.writeBoolean(noLocal);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static QueueDefinition decode(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int version = in.readByte();
            if (version != 1) {
                throw new IllegalStateException("unknown queue definition version " + version);
            }
            String name = in.readUTF();
            Kind kind = Kind.values()[in.readByte()];
            String topic = in.readUTF();
            String selector = in.readUTF();
            return new QueueDefinition(name, kind, topic.isEmpty() ? null : topic,
                    selector.isEmpty() ? null : selector, in.readBoolean());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
