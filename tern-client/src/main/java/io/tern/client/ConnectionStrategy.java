package io.tern.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * In which order a client tries the servers it knows. One instance serves every connection of a
 * factory, so it may keep state (the server that worked last, a rotating start). Chosen with the URL
 * option {@code strategy=sticky|random|roundrobin}, or the name of a class with a public no-arg
 * constructor that implements this interface.
 *
 * @param <S> how a server is named (host and port)
 */
public interface ConnectionStrategy<S> {

    /** The servers in the order to try them. */
    List<S> order(List<S> servers);

    /** A connection to {@code server} succeeded. */
    default void connected(S server) {
    }

    /** Stays with the server that worked last; otherwise the listed order (the default). */
    final class Sticky<S> implements ConnectionStrategy<S> {
        private volatile S last;

        @Override
        public List<S> order(List<S> servers) {
            List<S> order = new ArrayList<>(servers);
            S preferred = last;
            if (preferred != null && order.remove(preferred)) {
                order.add(0, preferred);
            }
            return order;
        }

        @Override
        public void connected(S server) {
            last = server;
        }
    }

    /** A fresh random order for every connection: spreads clients over the servers. */
    final class RandomOrder<S> implements ConnectionStrategy<S> {
        private final Random random;

        public RandomOrder() {
            this(new Random());
        }

        public RandomOrder(Random random) {
            this.random = random;
        }

        @Override
        public List<S> order(List<S> servers) {
            List<S> order = new ArrayList<>(servers);
            synchronized (random) {
                Collections.shuffle(order, random);
            }
            return order;
        }
    }

    /** Each connection starts one server further along the list. */
    final class RoundRobin<S> implements ConnectionStrategy<S> {
        private final AtomicInteger next = new AtomicInteger();

        @Override
        public List<S> order(List<S> servers) {
            if (servers.isEmpty()) {
                return List.of();
            }
            int start = Math.floorMod(next.getAndIncrement(), servers.size());
            List<S> order = new ArrayList<>(servers.subList(start, servers.size()));
            order.addAll(servers.subList(0, start));
            return order;
        }
    }

    /** The strategy a URL option names. */
    @SuppressWarnings("unchecked")
    static <S> ConnectionStrategy<S> named(String name) {
        switch (name == null ? "sticky" : name) {
            case "sticky":
                return new Sticky<>();
            case "random":
                return new RandomOrder<>();
            case "roundrobin":
                return new RoundRobin<>();
            default:
                try {
                    Class<?> c = Class.forName(name, true, Thread.currentThread().getContextClassLoader());
                    return (ConnectionStrategy<S>) c.getConstructor().newInstance();
                } catch (ReflectiveOperationException | ClassCastException e) {
                    throw new IllegalArgumentException("strategy must be sticky, random, roundrobin or the name of a "
                            + "ConnectionStrategy class with a public no-arg constructor: " + name, e);
                }
        }
    }
}
