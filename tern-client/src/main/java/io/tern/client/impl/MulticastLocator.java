package io.tern.client.impl;

import io.tern.discovery.DiscoveryAgent;
import io.tern.discovery.DiscoveryConfig;
import io.tern.discovery.DiscoveryListener;
import io.tern.discovery.ServiceUri;
import jakarta.jms.JMSException;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Finds a server for a {@code multicast://} URL: joins the discovery group, multicasts a query so
 * servers answer at once, and returns the first matching service heard (seed 003: "the first
 * matching service that it sees flowing around on the UDP stream is the one it picks").
 */
final class MulticastLocator {
    private MulticastLocator() {
    }

    /** Whether searches of {@code url} accept only signed answers: it names the cluster secret, or the environment does. */
    static boolean checksSignatures(ClientUrl url) {
        String secret = url.option("secret", System.getenv("TERN_CLUSTER_SECRET"));
        return secret != null && !secret.isEmpty();
    }

    /** The first matching server heard that is not in {@code exclude}. */
    static ClientUrl.HostPort locate(ClientUrl url, java.util.Set<ClientUrl.HostPort> exclude) throws JMSException {
        String group = url.option("group", null);
        String scheme = url.option("schemes", "tern");
        long timeoutMs = url.intOption("timeout", 1500);
        String nicName = url.option("interface", "lo");
        ClientUrl.HostPort address = url.servers().isEmpty()
                ? new ClientUrl.HostPort(DiscoveryConfig.DEFAULT_GROUP_ADDRESS, DiscoveryConfig.DEFAULT_PORT)
                : url.servers().get(0);
        DiscoveryConfig config;
        try {
            NetworkInterface nic = NetworkInterface.getByName(nicName);
            if (nic == null) {
                throw new JMSException("no network interface named " + nicName + " for " + url);
            }
            if (System.getenv("TERN_DISCOVERY_SECRET") != null && System.getenv("TERN_CLUSTER_SECRET") == null
                    && url.option("secret", null) == null) {
                throw new JMSException("TERN_DISCOVERY_SECRET is set but no longer read: give the cluster secret as "
                        + "TERN_CLUSTER_SECRET (or the URL option secret=)");
            }
            String secret = url.option("secret", System.getenv("TERN_CLUSTER_SECRET"));
            config = new DiscoveryConfig(InetAddress.getByName(address.host()), address.port(), nicName, nic.isLoopback() ? 0 : 1,
                    500, 3000, secret == null || secret.isEmpty() ? null : secret.getBytes(StandardCharsets.UTF_8), 30_000);
        } catch (JMSException e) {
            throw e;
        } catch (Exception e) {
            throw JmsErrors.wrap("bad multicast URL", e);
        }
        LinkedBlockingQueue<ServiceUri> heard = new LinkedBlockingQueue<>();
        try (DiscoveryAgent agent = new DiscoveryAgent(config)) {
            agent.addListener(new DiscoveryListener() {
                @Override
                public void serviceAdded(ServiceUri s) {
                    if (s.matches(group, scheme) && !exclude.contains(hostPortOf(s))) {
                        heard.add(s);
                    }
                }

                @Override
                public void serviceRemoved(ServiceUri s) {
                }
            });
            agent.start();
            agent.query(group);
            ServiceUri found = heard.poll(timeoutMs, TimeUnit.MILLISECONDS);
            if (found == null) {
                throw new JMSException("no " + (exclude.isEmpty() ? "" : "other ") + scheme + " server" + (group == null ? "" : " of group " + group)
                        + " answered on multicast " + address + " via " + nicName + " within " + timeoutMs + " ms");
            }
            return hostPortOf(found);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw JmsErrors.wrap("interrupted while searching multicast " + address, e);
        } catch (RuntimeException e) {
            throw JmsErrors.wrap("multicast discovery on " + address + " failed", e);
        }
    }

    private static ClientUrl.HostPort hostPortOf(ServiceUri s) {
        URI uri = s.uri();
        return new ClientUrl.HostPort(uri.getHost(), uri.getPort() < 0 ? ClientUrl.DEFAULT_PORT : uri.getPort());
    }
}
