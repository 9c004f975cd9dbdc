package io.tern.discovery;

/** Told when a service is first heard and when it goes (goodbye or timeout); called on the agent's thread. */
public interface DiscoveryListener {
    void serviceAdded(ServiceUri service);

    void serviceRemoved(ServiceUri service);
}
