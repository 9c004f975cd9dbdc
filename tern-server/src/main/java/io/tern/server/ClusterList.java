package io.tern.server;

import io.tern.broker.Broker;
import io.tern.discovery.DiscoveryListener;
import io.tern.discovery.ServiceUri;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The servers of this node's cluster as discovery hears them, kept as the broker's client topology
 * so that every client learns the list (seed 003: the server answers with the new list when the
 * client's version differs). Every node builds the same list from the same services heard (sorted
 * by URI, no per-node content), so clients see one digest across the cluster.
 */
final class ClusterList implements DiscoveryListener {
    private final String cluster;
    private final String self;
    private final Broker broker;
    private final String selfConsole;
    private final boolean signed;
    private final TreeSet<String> uris = new TreeSet<>();
    private final AtomicInteger nextTarget = new AtomicInteger();

    /** {@code signed}: discovery hears only signed packets (the cluster has a secret), so the list can be trusted. */
    ClusterList(String cluster, String selfUri, Broker broker, String selfConsole, boolean signed) {
        this.signed = signed;
        this.cluster = cluster;
        this.self = selfUri;
        this.broker = broker;
        this.selfConsole = selfConsole;
        synchronized (this) {
            uris.add(selfUri);
            publish();
        }
    }

    @Override
    public synchronized void serviceAdded(ServiceUri service) {
        if (isServer(service) && uris.add(service.uri().toString())) {
            publish();
        }
    }

    @Override
    public synchronized void serviceRemoved(ServiceUri service) {
        String uri = service.uri().toString();
        if (isServer(service) && !uri.equals(self) && uris.remove(uri)) {
            publish();
        }
    }

    private boolean isServer(ServiceUri s) {
        return cluster.equals(s.group()) && "jms".equals(s.service()) && s.uri().getScheme() != null && s.uri().getScheme().startsWith("tern");
    }

    private void publish() {
        List<NodeInfo> members = new ArrayList<>();
        Map<String, List<FailoverInfo>> failover = new LinkedHashMap<>();
        for (String uri : uris) {
            // Discovery pairs no console with another server's client URI: only this node's own is known.
            members.add(new NodeInfo(uri, uri.substring(uri.indexOf("://") + 3), "", List.of(uri), uri.equals(self) ? selfConsole : ""));
            failover.put(uri, List.of());
        }
        broker.setTopology(new ClusterTopology(members, failover, false).authenticated(signed));
    }

    /** Where a client of this stopping node should go: the other servers in turn, or "" if none is known. */
    synchronized String nextTarget() {
        List<String> others = new ArrayList<>(uris);
        others.remove(self);
        return others.isEmpty() ? "" : others.get(Math.floorMod(nextTarget.getAndIncrement(), others.size()));
    }

    synchronized void leave() {
        uris.clear();
        uris.add(self);
    }
}
