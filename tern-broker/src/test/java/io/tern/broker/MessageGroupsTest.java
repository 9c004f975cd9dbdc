package io.tern.broker;

import io.tern.broker.store.TransientStore;
import io.tern.protocol.Deliver;
import io.tern.protocol.DestinationName;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Message groups on one node: the messages of one JMSXGroupID go to one consumer, in the order sent,
 * and to another only once that consumer closes.
 */
@Timeout(30)
class MessageGroupsTest {
    private static final DestinationName ORDERS = DestinationName.queue("orders");
    private final AtomicLong correlation = new AtomicLong(100);

    private RequestFrame frame(Request r) {
        return new RequestFrame(correlation.incrementAndGet(), 0, r);
    }

    private void send(ServerConnection c, RecordingSink sink, String group, int seq) {
        send(c, sink, group, seq, Map.of());
    }

    private void send(ServerConnection c, RecordingSink sink, String group, int seq, Map<String, Object> more) {
        Map<String, Object> properties = new java.util.HashMap<>(Map.of(MessageQueue.GROUP_ID, group, "seq", seq));
        properties.putAll(more);
        RequestFrame f = frame(new Request.Send(1, new WireMessage("ID:" + group + "-" + seq, WireMessage.BODY_NONE,
                ORDERS, null, null, null, false, 4, 0, 0, 0, properties, null)));
        c.handle(f);
        assertThat(sink.answer(f.correlationId())).isEqualTo(Response.OK);
    }

    /** Consumer 1 takes one message at a time: it gets a-0, the group's first message, and has no credit left. */
    private void consumerOneTakesTheFirstOfGroupA(ServerConnection c, RecordingSink sink) {
        c.handle(frame(new Request.CreateConsumer(2, 1, ORDERS, null, false, null, (byte) 0, 1)));
        send(c, sink, "a", 0);
        await().until(() -> sink.deliveries().size() == 1);
        assertThat(sink.deliveries().get(0).consumerId()).isEqualTo(1);
    }

    /** A client with a producing session 1 (automatic) and a consuming session 2 of {@code consumingMode}. */
    private ServerConnection connect(Broker broker, RecordingSink sink, int consumingMode) {
        ServerConnection c = broker.connect(sink);
        sink.connection = c;
        c.handle(frame(new Request.Hello(null, null, "test")));
        c.handle(frame(new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE)));
        c.handle(frame(new Request.CreateSession(2, consumingMode)));
        return c;
    }

    /** Message ids by consumer id, in the order delivered, for the deliveries from {@code from} on. */
    private static Map<Long, List<String>> byConsumer(List<Deliver> ds) {
        Map<Long, List<String>> by = new LinkedHashMap<>();
        ds.forEach(d -> by.computeIfAbsent(d.consumerId(), k -> new ArrayList<>()).add(d.message().messageId()));
        return by;
    }

    private static Set<Long> consumersOf(List<Deliver> ds, String group) {
        Set<Long> cs = new TreeSet<>();
        ds.stream().filter(d -> group.equals(d.message().properties().get(MessageQueue.GROUP_ID))).forEach(d -> cs.add(d.consumerId()));
        return cs;
    }

    @Test
    void aGroupsMessagesGoToOneConsumerInOrderAndMoveOnlyWhenItCloses() {
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            RecordingSink sink = new RecordingSink();
            ServerConnection c = connect(broker, sink, Request.AUTO_ACKNOWLEDGE);
            for (long consumer = 1; consumer <= 3; consumer++) {
                c.handle(frame(new Request.CreateConsumer(2, consumer, ORDERS, null, false, null, (byte) 0, 1000)));
            }
            for (int seq = 0; seq < 10; seq++) {
                for (String group : List.of("a", "b", "c", "d")) {
                    send(c, sink, group, seq);
                }
            }
            await().until(() -> sink.deliveries().size() == 40);
            List<Deliver> first = sink.deliveries();
            for (String group : List.of("a", "b", "c", "d")) {
                assertThat(consumersOf(first, group)).as("group %s went to one consumer", group).hasSize(1);
            }
            assertThat(byConsumer(first)).as("more than one consumer took groups").hasSizeGreaterThan(1);
            byConsumer(first).values().forEach(ids -> {
                for (String group : List.of("a", "b", "c", "d")) {
                    List<String> ofGroup = ids.stream().filter(id -> id.startsWith("ID:" + group + "-")).toList();
                    List<String> inOrder = new ArrayList<>();
                    for (int seq = 0; seq < ofGroup.size(); seq++) {
                        inOrder.add("ID:" + group + "-" + seq);
                    }
                    assertThat(ofGroup).as("group %s in the order sent", group).isEqualTo(inOrder);
                }
            });
            c.handle(frame(new Request.Ack(2, first.stream().mapToLong(Deliver::deliveryId).toArray())));

            long ownerOfA = consumersOf(first, "a").iterator().next();
            RequestFrame close = frame(new Request.CloseConsumer(ownerOfA, new long[0]));
            c.handle(close);
            assertThat(sink.answer(close.correlationId())).isEqualTo(Response.OK);
            for (int seq = 10; seq < 15; seq++) {
                send(c, sink, "a", seq);
            }
            await().until(() -> sink.deliveries().size() == 45);
            List<Deliver> after = sink.deliveries().subList(40, 45);
            assertThat(consumersOf(after, "a")).as("group a moved to one other consumer once its owner closed")
                    .hasSize(1).doesNotContain(ownerOfA);
            assertThat(after.stream().map(d -> d.message().messageId()).toList())
                    .containsExactly("ID:a-10", "ID:a-11", "ID:a-12", "ID:a-13", "ID:a-14");
        }
    }

    @Test
    void aGroupsMessageWaitsForItsOwnerRatherThanGoingToAConsumerWithCredit() {
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            RecordingSink sink = new RecordingSink();
            ServerConnection c = connect(broker, sink, Request.CLIENT_ACKNOWLEDGE);
            consumerOneTakesTheFirstOfGroupA(c, sink);
            // Consumer 2 could take many.
            c.handle(frame(new Request.CreateConsumer(2, 2, ORDERS, null, false, null, (byte) 0, 1000)));
            send(c, sink, "a", 1);
            send(c, sink, "b", 0);
            await().until(() -> sink.deliveries().size() == 2);
            assertThat(sink.deliveries().get(1).message().messageId()).as("only b's message went out").isEqualTo("ID:b-0");
            assertThat(sink.deliveries().get(1).consumerId()).isEqualTo(2);

            // Consumer 1 acknowledges its message and gets credit for one more: a's next message is its own.
            c.handle(frame(new Request.Ack(2, new long[] {sink.deliveries().get(0).deliveryId()})));
            c.handle(frame(new Request.Credit(1, 1)));
            await().until(() -> sink.deliveries().size() == 3);
            assertThat(sink.deliveries().get(2).message().messageId()).isEqualTo("ID:a-1");
            assertThat(sink.deliveries().get(2).consumerId()).isEqualTo(1);
        }
    }

    @Test
    void aMessageWithGroupSequenceMinusOneEndsItsGroupAndTheNextMayGoToAnotherConsumer() {
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            RecordingSink sink = new RecordingSink();
            ServerConnection c = connect(broker, sink, Request.CLIENT_ACKNOWLEDGE);
            consumerOneTakesTheFirstOfGroupA(c, sink);
            c.handle(frame(new Request.Ack(2, new long[] {sink.deliveries().get(0).deliveryId()})));
            c.handle(frame(new Request.Credit(1, 1)));
            send(c, sink, "a", 1, Map.of(MessageQueue.GROUP_SEQ, -1)); // the group's last message; consumer 1 keeps it
            await().until(() -> sink.deliveries().size() == 2);
            assertThat(sink.deliveries().get(1).consumerId()).as("the group's last message goes to its consumer").isEqualTo(1);

            c.handle(frame(new Request.CreateConsumer(2, 2, ORDERS, null, false, null, (byte) 0, 1000)));
            send(c, sink, "a", 2);
            send(c, sink, "a", 3);
            await().until(() -> sink.deliveries().size() == 4);
            assertThat(sink.deliveries().subList(2, 4)).as("group a began again, with the consumer that had credit")
                    .extracting(Deliver::consumerId).containsExactly(2L, 2L);
        }
    }
}
