package io.tern.cluster;

import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Replicas on this node's disk of nodes that are not in the view (this node was down while they
 * left): once this node serves, each is dropped if a member took its node over, or if it is stale
 * (its node had other failover nodes when it left); it is taken over if this node was among its node's
 * last failover nodes and nobody took it. A member that does not answer keeps the replica on disk,
 * untaken. The question to the members is 'W' ("did you take this node over, and what were its last
 * failover nodes?"), answered by 'V'.
 */
final class AbsentReplicas {
    private static final Logger LOG = LoggerFactory.getLogger(AbsentReplicas.class);
    /** How long a restarted backup waits for the members' answers about a node whose replica it has. */
    private static final long OWNER_WAIT_MS = 5000;

    /** A member's answer to 'W': whether it recorded a takeover of the node, and its last backups as it saw them. */
    private record Owner(boolean recorded, List<String> lastBackups) {
    }

    private final ClusterNode node;
    private final String selfId;
    private final ReplicatingStore store;
    private final MemberPoll poll;
    private final GoneConfirmation confirmation;
    private final TakeoverRecords records;
    private final Set<String> pending;
    private final Map<String, List<String>> lastBackups;
    private final Consumer<NodeInfo> takeOver;
    private final Runnable reconsider;
    private final BooleanSupplier closed;

    /**
     * @param pending     the nodes being taken over now (shared with the takeover)
     * @param lastBackups node id to its failover nodes as of the last view it was in (shared)
     * @param takeOver    takes a confirmed gone node over from its replica here
     * @param reconsider  tells the admission desk that who owns what may have changed
     */
    AbsentReplicas(ClusterNode node, ReplicatingStore store, MemberPoll poll, GoneConfirmation confirmation,
                   TakeoverRecords records, Set<String> pending, Map<String, List<String>> lastBackups,
                   Consumer<NodeInfo> takeOver, Runnable reconsider, BooleanSupplier closed) {
        this.node = node;
        this.selfId = node.self().nodeId();
        this.store = store;
        this.poll = poll;
        this.confirmation = confirmation;
        this.records = records;
        this.pending = pending;
        this.lastBackups = lastBackups;
        this.takeOver = takeOver;
        this.reconsider = reconsider;
        this.closed = closed;
    }

    /** Decides, for each replica on disk of a node not in the view, whether to drop it, keep it or take it over. */
    void takeOverOrDrop() {
        Set<String> live = confirmation.liveIds();
        for (String primary : store.replicas().primaries()) {
            if (live.contains(primary) || pending.contains(primary) || closed.getAsBoolean()) {
                continue;
            }
            boolean recordedHere = records.contains(primary);
            Map<String, Owner> answers = recordedHere ? Map.of() : askWhoOwns(primary, live);
            String name = primary.substring(0, Math.min(8, primary.length()));
            if (recordedHere || answers.values().stream().anyMatch(Owner::recorded)) {
                LOG.info("The replica of {} on disk is dropped: another node took that node over", name);
                store.replicas().drop(primary);
                continue;
            }
            if (answers.size() < live.size() - 1) {
                LOG.warn("Not every member said whether it took {} over: its replica on disk is kept, not taken over", name);
                continue;
            }
            boolean current = answers.values().stream().anyMatch(o -> o.lastBackups().contains(selfId));
            boolean known = answers.values().stream().anyMatch(o -> !o.lastBackups().isEmpty());
            if (!current) {
                if (known) {
                    LOG.warn("The replica of {} on disk is stale (that node had other failover nodes when it left): dropped", name);
                    store.replicas().drop(primary);
                } else {
                    LOG.warn("No member knows the last failover nodes of {}: its replica on disk is kept, not taken over", name);
                }
                continue;
            }
            NodeInfo gone = new NodeInfo(primary, name, "", List.of(), "");
            pending.add(primary);
            try {
                LOG.warn("Node {} is not in the view and nobody took it over: taking it over from its replica on disk", name);
                if (confirmation.confirm(List.of(gone), Map.of(primary, ""), node.quorumBase())) {
                    takeOver.accept(gone);
                }
            } finally {
                pending.remove(primary);
                reconsider.run();
            }
        }
    }

    /** Asks every other member whether it recorded a takeover of {@code id}; the answers that came in time. */
    private Map<String, Owner> askWhoOwns(String id, Set<String> live) {
        return poll.ask(round -> ClusterCodec.encode('W', out -> {
            out.writeLong(round);
            out.writeUTF(id);
        }), got -> got.size() >= live.size() - 1, OWNER_WAIT_MS);
    }

    /** 'W' from {@code from}: whether this node recorded a takeover of the node, and that node's last failover nodes. */
    void asked(String from, DataInputStream in) throws IOException {
        long round = in.readLong();
        String id = in.readUTF();
        boolean recorded = records.contains(id);
        List<String> backups = lastBackups.getOrDefault(id, List.of());
        node.send(from, ClusterCodec.encode('V', out -> {
            out.writeLong(round);
            out.writeBoolean(recorded);
            out.writeInt(backups.size());
            for (String b : backups) {
                out.writeUTF(b);
            }
        }));
    }

    /** 'V': a member's answer to this node's 'W'. */
    void answered(String from, DataInputStream in) throws IOException {
        long round = in.readLong();
        boolean recorded = in.readBoolean();
        int n = in.readInt();
        List<String> backups = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            backups.add(in.readUTF());
        }
        poll.answered(round, from, new Owner(recorded, backups));
    }
}
