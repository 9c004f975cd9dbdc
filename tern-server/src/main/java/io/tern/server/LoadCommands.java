package io.tern.server;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code tern produce} and {@code tern consume}: load tools that print a rate each second and a summary. */
final class LoadCommands {
    private LoadCommands() {
    }

    static final class Target {
        @Option(names = "--queue", required = true, description = "Queue name")
        String queue;

        @Option(names = "--topic", required = true, description = "Topic name")
        String topic;
    }

    abstract static class Common {
        @Option(names = "--url", description = "Client URL (default: ${DEFAULT-VALUE}); with user=NAME in it, the password "
                + "comes from env TERN_PASSWORD rather than the command line")
        String url = TernConnectionFactory.DEFAULT_URL;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        @Option(names = "--count", description = "Messages (default: ${DEFAULT-VALUE})")
        int count = 10_000;

        @Option(names = "--size", description = "Body bytes (default: ${DEFAULT-VALUE})")
        int size = 1024;

        @Option(names = "--persistent", description = "Persistent messages (default: non-persistent)")
        boolean persistent;

        @Option(names = "--tx", description = "Commit every N messages (0: no transaction)")
        int tx;

        Destination destination(Session s) throws Exception {
            return target.queue != null ? s.createQueue(target.queue) : s.createTopic(target.topic);
        }

        Session session(Connection c) throws Exception {
            return tx > 0 ? c.createSession(true, Session.SESSION_TRANSACTED) : c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        }

        static void report(String verb, int n, long bytes, long startNs) {
            double s = (System.nanoTime() - startNs) / 1e9;
            System.out.printf("%s count=%d bytes=%d elapsed=%.2fs rate=%.0f msg/s (%.2f MiB/s)%n", verb, n, bytes, s,
                    n / s, bytes / s / (1 << 20));
        }

        static Progress progress(String verb) {
            return new Progress(verb);
        }
    }

    /** Prints the rate of the last second, at most once a second. */
    static final class Progress {
        private final String verb;
        private long lastNs = System.nanoTime();
        private int lastCount;

        Progress(String verb) {
            this.verb = verb;
        }

        void tick(int n) {
            long now = System.nanoTime();
            if (now - lastNs >= 1_000_000_000L) {
                System.out.printf("  %s %d (%.0f msg/s)%n", verb, n, (n - lastCount) / ((now - lastNs) / 1e9));
                lastNs = now;
                lastCount = n;
            }
        }
    }

    @Command(name = "produce", description = "Send messages and print the rate.")
    static final class Produce extends Common implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            try (Connection c = new TernConnectionFactory(url).createConnection(null, System.getenv("TERN_PASSWORD"))) {
                Session s = session(c);
                MessageProducer p = s.createProducer(destination(s));
                p.setDeliveryMode(persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
                byte[] body = new byte[size];
                Progress progress = progress("produced");
                long start = System.nanoTime();
                for (int i = 1; i <= count; i++) {
                    BytesMessage m = s.createBytesMessage();
                    m.writeBytes(body);
                    p.send(m);
                    if (tx > 0 && i % tx == 0) {
                        s.commit();
                    }
                    progress.tick(i);
                }
                if (tx > 0) {
                    s.commit();
                }
                report("produced", count, (long) count * size, start);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "consume", description = "Receive messages and print the rate.")
    static final class Consume extends Common implements Callable<Integer> {
        @Option(names = "--timeout", description = "Stop after this many ms without a message (default: ${DEFAULT-VALUE})")
        long timeoutMs = 10_000;

        @Override
        public Integer call() throws Exception {
            try (Connection c = new TernConnectionFactory(url).createConnection(null, System.getenv("TERN_PASSWORD"))) {
                Session s = session(c);
                MessageConsumer consumer = s.createConsumer(destination(s));
                c.start();
                Progress progress = progress("consumed");
                long start = 0;
                long bytes = 0;
                int n = 0;
                while (n < count) {
                    Message m = consumer.receive(timeoutMs);
                    if (m == null) {
                        System.out.println("no message for " + timeoutMs + " ms; stopping");
                        break;
                    }
                    if (n == 0) {
                        start = System.nanoTime();
                    }
                    n++;
                    bytes += m instanceof BytesMessage b ? b.getBodyLength() : 0;
                    if (tx > 0 && n % tx == 0) {
                        s.commit();
                    }
                    progress.tick(n);
                }
                if (tx > 0) {
                    s.commit();
                }
                report("consumed", n, bytes, start == 0 ? System.nanoTime() : start);
                return n == count ? ExitCodes.OK : ExitCodes.INCOMPLETE;
            }
        }
    }
}
