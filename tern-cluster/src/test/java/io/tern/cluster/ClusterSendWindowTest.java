package io.tern.cluster;

import io.tern.discovery.FreePorts;
import io.tern.protocol.NodeInfo;
import org.jgroups.protocols.UNICAST3;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a node keeps of what it sent a member: JGroups holds each unicast message until the member
 * acknowledges it. With its default of delayed acknowledgements (every half second unless 100 messages
 * arrive in one batch) a node streaming a snapshot of 256 KiB messages kept about a hundred of them,
 * 27 MiB of a 128 MiB heap that the memory limit does not count, and ran out of heap. Tern's stacks
 * acknowledge every message as it arrives, so what is kept stays within a few times the flow-control
 * credits (4 MiB).
 * Runs over the real UDP and TCP stacks, bound to loopback.
 */
@Timeout(60)
class ClusterSendWindowTest {
    private static final int BODY = 256 * 1024;
    private static final int MESSAGES = 400;
    /** FRAG4's fragment size in Tern's stacks: JGroups keeps (and counts) fragments. */
    private static final int FRAGMENT = 60 * 1024;

    private final String cluster = "window-" + UUID.randomUUID();
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void leave() {
        nodes.forEach(ClusterNode::close);
    }

    @ParameterizedTest
    @ValueSource(strings = {"udp", "tcp"})
    void aNodeStreamingLargeMessagesKeepsOnlyAboutItsCreditsUnacknowledged(String stack) throws Exception {
        Map<String, String> props = new HashMap<>(Map.of("bind_addr", "127.0.0.1"));
        if (stack.equals("udp")) {
            props.put("mcast_addr", FreePorts.multicastGroup(214));
            props.put("mcast_port", Integer.toString(FreePorts.freeUdp()));
            props.put("ip_ttl", "0");
        } else {
            int p1 = FreePorts.free();
            int p2 = FreePorts.free();
            props.put("seeds", "127.0.0.1[" + p1 + "],127.0.0.1[" + p2 + "]");
            props.put("bind_port", Integer.toString(p1));
        }
        ClusterNode sender = join(stack, props, "a");
        if (stack.equals("tcp")) {
            props.put("bind_port", props.get("seeds").replaceAll(".*\\[(\\d+)]$", "$1"));
        }
        ClusterNode receiver = join(stack, props, "b");
        await().atMost(Duration.ofSeconds(30)).until(() -> sender.members().size() == 2 && receiver.members().size() == 2);

        AtomicLong received = new AtomicLong();
        receiver.addPayloadHandler("~", (from, payload, offset, length) -> received.incrementAndGet());
        UNICAST3 unicast = sender.jgroupsChannel().getProtocolStack().findProtocol(UNICAST3.class);
        AtomicLong mostKept = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                mostKept.accumulateAndGet(unicast.getNumUnackedMessages(), Math::max);
                java.util.concurrent.locks.LockSupport.parkNanos(20_000); // not a spin: the machine may have two cores
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        try {
            byte[] payload = new byte[BODY];
            payload[0] = '~';
            for (int i = 0; i < MESSAGES; i++) {
                assertThat(sender.trySend(receiver.self().nodeId(), payload)).isEqualTo(ClusterNode.Sent.SENT);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> received.get() == MESSAGES);
        } finally {
            sampler.interrupt();
            sampler.join();
        }
        // 100 MiB went out. Acknowledged at every delivery, at most 4.5-9 MiB of it was held at any time
        // here (it was all of it with delayed acknowledgements): 24 MiB leaves room for a slower machine.
        assertThat(mostKept.get() * FRAGMENT).as("bytes held unacknowledged (fragments: %d)", mostKept.get())
                .isLessThanOrEqualTo(24L << 20);
    }

    private ClusterNode join(String stack, Map<String, String> props, String name) throws Exception {
        NodeInfo info = new NodeInfo(UUID.randomUUID().toString(), name, name, List.of(), "");
        ClusterNode n = ClusterNode.join(new ClusterNode.Config(cluster, stack, Map.copyOf(props), new RingFailoverPolicy(1), true), info);
        nodes.add(n);
        return n;
    }
}
