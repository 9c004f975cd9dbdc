package io.tern.bench;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Connections made in turn through each of several brokers' factories: clients spread over a cluster's members. */
final class SpreadConnectionFactory implements ConnectionFactory {
    private final List<ConnectionFactory> members;
    private final AtomicInteger next = new AtomicInteger();

    SpreadConnectionFactory(List<ConnectionFactory> members) {
        this.members = List.copyOf(members);
    }

    private ConnectionFactory nextMember() {
        return members.get(Math.floorMod(next.getAndIncrement(), members.size()));
    }

    @Override
    public Connection createConnection() throws JMSException {
        return nextMember().createConnection();
    }

    @Override
    public Connection createConnection(String user, String password) throws JMSException {
        return nextMember().createConnection(user, password);
    }

    @Override
    public JMSContext createContext() {
        return nextMember().createContext();
    }

    @Override
    public JMSContext createContext(String user, String password) {
        return nextMember().createContext(user, password);
    }

    @Override
    public JMSContext createContext(String user, String password, int sessionMode) {
        return nextMember().createContext(user, password, sessionMode);
    }

    @Override
    public JMSContext createContext(int sessionMode) {
        return nextMember().createContext(sessionMode);
    }
}
