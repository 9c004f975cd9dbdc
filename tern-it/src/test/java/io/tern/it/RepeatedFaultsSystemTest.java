package io.tern.it;

import io.tern.client.FailoverEvent;
import io.tern.client.TernConnectionFactory;
import io.tern.server.ServerProcess;
import io.tern.testkit.CheckedDrain;
import io.tern.discovery.FreePorts;
import io.tern.testkit.SettlingReceiver;
import io.tern.testkit.TotalQueueChecker;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Repeated faults under load, as an operator's week compressed: three real nodes with replication,
 * two producers of persistent messages and three consumers (two client-acknowledging, one
 * transacted), half of the clients on the sticky order and half on {@code strategy=random}, each
 * starting on a different node. A fault schedule (seeded; the seed is logged) hits one node per
 * cycle with SIGKILL-and-restart (at once, often before the others found the node gone), a SIGSTOP
 * past failure detection, or a SIGSTOP shorter than it, always leaving a majority up. After the last cycle every node is drained and the total-queue
 * checker must find nothing lost, nothing acknowledged delivered again, and, because the README
 * promises that sends and acknowledgements are transparent across a failover, no send or
 * acknowledgement the application saw fail.
 *
 * <p>{@code mvn verify} runs {@value #DEFAULT_CYCLES} cycles of one fixed schedule (seed
 * {@value #DEFAULT_SEED}); the {@code chaos} profile of tern-it runs 100 cycles of a new random
 * schedule each time ({@code -Dtern.chaos.cycles}, {@code -Dtern.chaos.random=true}), and
 * {@code -Dtern.chaos.seed=N} replays one.
 */
@Tag("system")
@Timeout(value = 3, unit = java.util.concurrent.TimeUnit.HOURS)
class RepeatedFaultsSystemTest {
    private static final Logger LOG = LoggerFactory.getLogger(RepeatedFaultsSystemTest.class);
    private static final int DEFAULT_CYCLES = 10;
    /** The schedule of {@code mvn verify}: kills with immediate restarts, long and short pauses, of every node. */
    private static final long DEFAULT_SEED = 20261201L;
    private static final int FD_TIMEOUT_MS = 2000;
    private static final int NODES = 3;

    /** The faults of the schedule. */
    enum Fault {
        KILL_AND_RESTART, PAUSE_PAST_FAILURE_DETECTION, SHORT_PAUSE
    }

    /** Kept when the test fails: the nodes' logs say what happened to a missing message. */
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;
    /** Message id to what the test knows of it (producer, text, when it was sent, during which fault). */
    private final Map<String, String> provenance = new ConcurrentHashMap<>();
    /** Message id to what its consumers did with it: when, which consumer, through which server. */
    private final Map<String, StringBuffer> history = new ConcurrentHashMap<>();

    private final List<ServerProcess> nodes = new ArrayList<>();
    private final TotalQueueChecker checker = new TotalQueueChecker();
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final List<FailoverEvent> events = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stopSending = new AtomicBoolean();
    private final AtomicBoolean stopReceiving = new AtomicBoolean();
    private final AtomicInteger sent = new AtomicInteger();
    private final List<SettlingReceiver> receivers = new CopyOnWriteArrayList<>();
    /**
     * The longest gap between two sends that returned, per fault kind and where the producer was when
     * the send began: on the node hit by the fault, or on another (whose failover node it may be) (ms).
     */
    private final Map<String, AtomicLong> longestGapMs = new java.util.concurrent.ConcurrentSkipListMap<>();
    private volatile Fault currentFault;
    /** The node the current fault hits. */
    private volatile ServerProcess faultTarget;
    /** What every client adds to its URL: the CA to trust and a user, with -Dtern.it.secure=true; else nothing. */
    private String clientOptions = "";
    /** With -Dtern.it.secure=true, the console serves HTTPS with the run's CA and asks for the run's user: how to read it. */
    private java.net.http.HttpClient consoleClient = java.net.http.HttpClient.newHttpClient();
    private String consoleAuthorization;

    @AfterEach
    void stop() throws Exception {
        stopSending.set(true);
        stopReceiving.set(true);
        ServerProcess.closeAll(nodes);
    }

    @Test
    void killsAndPausesOfAnyNodeUnderLoadLoseNothingRepeatNothingAndFailNothing() throws Exception {
        int cycles = Integer.getInteger("tern.chaos.cycles", DEFAULT_CYCLES);
        // mvn verify runs one fixed schedule, so that a run is repeatable; the chaos profile explores new ones.
        long seed = Long.getLong("tern.chaos.seed", Boolean.getBoolean("tern.chaos.random") ? System.nanoTime() : DEFAULT_SEED);
        LOG.info("Fault schedule: {} cycles, seed {} (replay with -Dtern.chaos.seed={})", cycles, seed, seed);
        Random random = new Random(seed);
        startCluster();
        List<Connection> connections = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                Connection c = connect(i, i % 2 == 0 ? "sticky" : "random");
                connections.add(c);
                threads.add(producer(c, "p" + i));
            }
            int[] modes = {Session.CLIENT_ACKNOWLEDGE, Session.CLIENT_ACKNOWLEDGE, Session.SESSION_TRANSACTED};
            for (int i = 0; i < modes.length; i++) {
                Connection c = connect(i + 2, i % 2 == 0 ? "random" : "sticky");
                connections.add(c);
                threads.add(consumer(c, modes[i], "c" + i));
                c.start();
            }
            threads.forEach(Thread::start);
            for (int cycle = 1; cycle <= cycles && errors.isEmpty(); cycle++) {
                awaitProgress();
                ServerProcess node = nodes.get(random.nextInt(NODES));
                Fault fault = Fault.values()[random.nextInt(Fault.values().length)];
                LOG.info("Cycle {}/{}: {} of {} ({})", cycle, cycles, fault, node.url(), checker);
                inject(fault, node, random);
            }
            awaitProgress();
            stopSending.set(true);
            for (Thread t : threads.subList(0, 2)) {
                t.join(60_000);
            }
            drainEveryNode();
            stopReceiving.set(true);
            for (Thread t : threads) {
                t.join(60_000);
            }
        } finally {
            for (Connection c : connections) {
                c.close();
            }
        }
        LOG.info("Done: {}; rolled back commits {}; longest producer gap per fault (ms) {}", checker,
                receivers.stream().mapToInt(SettlingReceiver::rolledBack).sum(), longestGapMs);
        checker.lost().forEach(id -> LOG.error("Lost {}: {}; {} (node logs in {})", id, provenance.get(id), history.get(id), dir));
        checker.resentTwice().forEach(id -> LOG.error("Stored twice {}: {}; {} (node logs in {})", id, provenance.get(id),
                history.get(id), dir));
        reportDuplicates();
        assertThat(errors).as("exceptions seen by the application").isEmpty();
        assertThat(checker.lost()).as("lost: " + checker).isEmpty();
        assertThat(checker.duplicated()).as("acknowledged, then delivered again: " + checker).isEmpty();
        assertThat(checker.resentTwice()).as("sent once by the application, delivered twice: " + checker).isEmpty();
        assertThat(checker.unexpected()).as("received, never sent").isEmpty();
        assertThat(checker.inDoubt()).as("acknowledgements the application saw fail").isEmpty();
        assertThat(checker.sendsFailed()).as("sends the application saw fail").isEmpty();
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.FAILED)).isEmpty();
    }

    private void startCluster() throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(211);
        // -Dtern.it.clusterSecret=true: the same faults in a cluster whose traffic is encrypted and signed.
        // -Dtern.it.secure=true: that, and clients over TLS (terns://) logging in as a user of a users file.
        boolean secure = Boolean.getBoolean("tern.it.secure");
        java.nio.file.Path secret = secure || Boolean.getBoolean("tern.it.clusterSecret")
                ? java.nio.file.Files.writeString(dir.resolve("cluster.secret"), "the secret of this chaos run, 32+ bytes") : null;
        List<String> security = new ArrayList<>();
        if (secure) {
            io.tern.testkit.TestCertificates ca = io.tern.testkit.TestCertificates.authority(dir.resolve("certs"), "chaos-ca");
            io.tern.testkit.TestCertificates.Issued cert = ca.server("chaos-node");
            Path users = dir.resolve("users");
            io.tern.broker.security.UsersFile.write(users, Map.of("chaos", new io.tern.broker.security.UsersFile.User("chaos",
                    java.util.Set.of("app"), io.tern.broker.security.PasswordHash.of("chaos-password".toCharArray(), 10_000))));
            Path permissions = java.nio.file.Files.writeString(dir.resolve("permissions"), "app all\n");
            security.addAll(List.of("--tls-cert", cert.certPem().toString(), "--tls-key", cert.keyPem().toString(),
                    "--users", users.toString(), "--permissions", permissions.toString()));
            clientOptions = "trust=" + ca.caPem() + "&user=chaos&password=chaos-password";
            consoleClient = java.net.http.HttpClient.newBuilder()
                    .sslContext(io.tern.protocol.TlsSettings.trusting(ca.caPem(), null).jdkContext(false)).build();
            consoleAuthorization = "Basic " + java.util.Base64.getEncoder().encodeToString(
                    "chaos:chaos-password".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        for (int i = 1; i <= NODES; i++) {
            String name = "rf-" + i;
            // Clustered queues on, as by default (messages move between nodes); -Dtern.it.clusteredQueues=false: off.
            List<String> args = new ArrayList<>(List.of(
                    "--cluster", "rf-" + clusterPort, "--discovery-port", "0", "--machine-id", "m" + i, "--replication",
                    "--recovery-timeout-ms", "60000", "--fd-timeout", FD_TIMEOUT_MS + "ms",
                    "--cluster-port", Integer.toString(clusterPort), "--cluster-address", address,
                    "false".equals(System.getProperty("tern.it.clusteredQueues")) ? "--no-clustered-queues" : "--clustered-queues"));
            if (secret != null) {
                args.addAll(List.of("--cluster-secret-file", secret.toString()));
            }
            args.addAll(security);
            nodes.add(new ServerProcess(name, FreePorts.free(), dir.resolve(name), dir.resolve(name + ".log"),
                    args.toArray(String[]::new)).start());
        }
        for (ServerProcess n : nodes) {
            assertThat(n.awaitListening(60_000)).isTrue();
            assertThat(n.url()).startsWith(secure ? "terns://" : "tern://");
        }
        awaitWholeCluster();
        if (secret != null) {
            for (ServerProcess n : nodes) {
                assertThat(java.nio.file.Files.readString(n.log())).as("the run's nodes encrypt")
                        .contains("encrypted and admitting only members with the cluster secret");
            }
        }
    }

    private void awaitWholeCluster() throws InterruptedException {
        for (ServerProcess n : nodes) {
            TernConnectionFactory cf = new TernConnectionFactory(n.url() + "?failover=false" + and(clientOptions));
            assertThat(ServerProcess.awaitClusterMembers(cf, NODES, 120_000)).as(n.url() + " sees the whole cluster").isTrue();
        }
    }

    private static String and(String options) {
        return options.isEmpty() ? "" : "&" + options;
    }

    /** A connection to the whole cluster, its list starting at node {@code first} (mod the size). */
    private Connection connect(int first, String strategy) throws JMSException {
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            hosts.add(nodes.get((first + i) % NODES).url().replaceFirst("^terns?://", ""));
        }
        String scheme = nodes.get(0).url().startsWith("terns://") ? "terns://" : "tern://";
        TernConnectionFactory cf = new TernConnectionFactory(scheme + String.join(",", hosts) + "?strategy=" + strategy
                + "&reconnectAttempts=1&reconnectDelay=50&heartbeat=500" + and(clientOptions));
        cf.setFailoverListener(e -> {
            events.add(e);
            e.inDoubtMessageIds().forEach(checker::sendInDoubt);
        });
        Connection c = cf.createConnection();
        c.setExceptionListener(errors::add);
        return c;
    }

    private Thread producer(Connection c, String name) throws JMSException {
        boolean groups = Boolean.getBoolean("tern.it.groups");
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = s.createProducer(s.createQueue("chaos"));
        p.setDeliveryMode(DeliveryMode.PERSISTENT);
        return new Thread(() -> {
            long lastNs = System.nanoTime();
            while (!stopSending.get()) {
                String id = null;
                String from = ((io.tern.client.impl.TernConnection) c).server();
                try {
                    Message m = s.createTextMessage(name + "-" + sent.get());
                    if (groups && name.endsWith("1")) {
                        // -Dtern.it.groups=true: half of the messages in eight message groups, each pinned to one consumer.
                        m.setStringProperty("JMSXGroupID", "g" + (sent.get() % 8));
                    }
                    p.send(m);
                    id = m.getJMSMessageID();
                    checker.sent(id);
                    provenance.put(id, ((jakarta.jms.TextMessage) m).getText() + " sent " + java.time.LocalTime.now() + " via "
                            + ((io.tern.client.impl.TernConnection) c).server() + " during " + currentFault);
                    sent.incrementAndGet();
                } catch (JMSException e) {
                    LOG.warn("Send failed", e);
                    errors.add(e);
                    return;
                }
                long now = System.nanoTime();
                Fault f = currentFault;
                ServerProcess target = faultTarget;
                if (f != null && target != null) {
                    boolean onTarget = from.endsWith(":" + target.port());
                    longestGapMs.computeIfAbsent(f + (onTarget ? " on its node" : " elsewhere"), k -> new AtomicLong())
                            .accumulateAndGet((now - lastNs) / 1_000_000, Math::max);
                }
                lastNs = now;
            }
        }, "chaos-" + name);
    }

    /** A consumer of its own session that settles every fifth message (see {@link SettlingReceiver}). */
    private Thread consumer(Connection c, int mode, String name) throws JMSException {
        Session s = c.createSession(mode == Session.SESSION_TRANSACTED, mode);
        SettlingReceiver r = new SettlingReceiver(s, s.createConsumer(s.createQueue("chaos")), checker, 5,
                stopReceiving::get, errors::add).onSettleFailure(e -> LOG.warn("Acknowledgement failed", e))
                .trace((id, event) -> history.computeIfAbsent(id, k -> new StringBuffer()).append(java.time.LocalTime.now())
                        .append(' ').append(name).append(" via ").append(((io.tern.client.impl.TernConnection) c).server())
                        .append(": ").append(event).append("; "));
        receivers.add(r);
        return new Thread(r, "chaos-" + name);
    }

    private int received() {
        return receivers.stream().mapToInt(SettlingReceiver::received).sum();
    }

    /** Waits until messages flow again: 100 more sent and 100 more received (or an error). */
    private void awaitProgress() throws Exception {
        int s = sent.get();
        int r = received();
        try {
            await().atMost(Duration.ofSeconds(120)).until(() -> (sent.get() >= s + 100 && received() >= r + 100)
                    || !errors.isEmpty());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            dumpThreads();
            reportDuplicates(); // what was found so far, with where each came from
            throw e;
        }
    }

    private void reportDuplicates() {
        checker.duplicated().forEach(id -> LOG.error("Delivered again after its acknowledgement {}: {}; {} (node logs in {})", id,
                provenance.get(id), history.get(id), dir));
    }

    /** No progress: the stacks of every thread, of this JVM and of each node, go beside the node logs. */
    private void dumpThreads() throws Exception {
        StringBuilder b = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            b.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
            for (StackTraceElement e : stack) {
                b.append("    at ").append(e).append('\n');
            }
            b.append('\n');
        });
        java.nio.file.Files.writeString(dir.resolve("threads-test.txt"), b);
        for (ServerProcess n : nodes) {
            if (n.isAlive()) {
                Process jcmd = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(n.pid()), "Thread.print").redirectErrorStream(true)
                        .redirectOutput(dir.resolve("threads-" + n.port() + ".txt").toFile()).start();
                jcmd.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
                saveNodeView(n);
            }
        }
        LOG.error("No progress for 120 s: thread dumps of the test and of every node, and what each node's console "
                + "shows, are in {}", dir);
    }

    /** What the node's console shows (state, queues with their depth and moves, connections), beside its log. */
    private void saveNodeView(ServerProcess n) {
        try {
            String console = null;
            for (String line : java.nio.file.Files.readAllLines(n.log())) {
                int at = line.indexOf(" console on ");
                if (at >= 0) {
                    console = line.substring(at + " console on ".length()).trim(); // the last start's
                }
            }
            if (console == null) {
                return;
            }
            java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(console + "/api/node"))
                    .timeout(Duration.ofSeconds(10));
            if (consoleAuthorization != null) {
                request.header("Authorization", consoleAuthorization);
            }
            java.net.http.HttpResponse<String> view = consoleClient.send(request.build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            if (view.statusCode() != 200) {
                LOG.warn("The console of {} answered {}: {}", n.url(), view.statusCode(), view.body());
            }
            java.nio.file.Files.writeString(dir.resolve("node-" + n.port() + ".json"), view.body());
        } catch (Exception e) {
            LOG.warn("Could not read the console of {}: {}", n.url(), e.toString());
        }
    }

    private void inject(Fault fault, ServerProcess node, Random random) throws Exception {
        faultTarget = node;
        currentFault = fault;
        switch (fault) {
            case KILL_AND_RESTART -> {
                node.kill();
                node.start();
                assertThat(node.awaitListening(60_000)).isTrue();
            }
            // The pauses are the fault under test, not waits for a condition.
            case PAUSE_PAST_FAILURE_DETECTION -> pause(node, FD_TIMEOUT_MS + 3000 + random.nextInt(5000));
            case SHORT_PAUSE -> pause(node, FD_TIMEOUT_MS / 5 + random.nextInt(FD_TIMEOUT_MS / 4));
        }
        awaitWholeCluster();
        currentFault = null;
    }

    private static void pause(ServerProcess node, long ms) throws Exception {
        node.pause(true);
        try {
            Thread.sleep(ms);
        } finally {
            node.pause(false);
        }
    }

    /** With no redistribution yet, a queue's messages stay where they were stored: a consumer on each node takes them. */
    private void drainEveryNode() throws Exception {
        List<CheckedDrain> drains = new ArrayList<>();
        try {
            for (ServerProcess n : nodes) {
                drains.add(new CheckedDrain(n.url() + (clientOptions.isEmpty() ? "" : "?" + clientOptions), "chaos", checker, errors::add, (id, event) -> history
                        .computeIfAbsent(id, k -> new StringBuffer()).append(java.time.LocalTime.now()).append(' ')
                        .append(event).append("; ")));
            }
            try {
                await().atMost(Duration.ofSeconds(120)).until(() -> checker.lost().isEmpty() || !errors.isEmpty());
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                LOG.error("Messages still missing after the drain: {}", checker.lost()); // the assertions say more
            }
        } finally {
            for (CheckedDrain d : drains) {
                d.close();
            }
        }
    }
}
