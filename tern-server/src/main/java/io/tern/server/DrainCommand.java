package io.tern.server;

import io.tern.client.TernAdmin;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import jakarta.jms.JMSException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code tern drain --url URL --node NAME}: moves every client off a node, as a graceful stop does,
 * but leaves the node running; then it can be stopped with nothing lost.
 */
@Command(name = "drain", description = "Move every client of a node to the other nodes of its cluster; the node keeps running, "
        + "accepts no new clients, and can then be stopped.")
final class DrainCommand implements Callable<Integer> {

    @Option(names = "--url", required = true, description = "A server of the cluster, e.g. tern://127.0.0.1:5445")
    String url;

    @Option(names = "--node", required = true, description = "The name of the node to drain (as tern status shows it)")
    String node;

    @Option(names = "--timeout-ms", description = "How long to wait for the clients to leave (default: ${DEFAULT-VALUE})")
    long timeoutMs = 30_000;

    @Option(names = {"--user"}, description = "User name, if the server requires one")
    String user;

    @Option(names = {"--password-file"}, description = "File holding the password, if the server requires one (or env "
            + "TERN_PASSWORD; never the password itself on the command line, where every local user could read it)")
    java.nio.file.Path passwordFile;

    /** The password from {@code --password-file} or the environment; null if none. */
    private String password() throws java.io.IOException {
        return passwordFile != null ? java.nio.file.Files.readString(passwordFile).strip() : System.getenv("TERN_PASSWORD");
    }

    @Override
    public Integer call() throws java.io.IOException {
        String password = password();
        String uri;
        try {
            uri = uriOf(node, password);
        } catch (JMSException e) {
            System.err.println("cannot ask " + url + ": " + e.getMessage());
            return ExitCodes.FAILED;
        }
        if (uri == null) {
            System.err.println("no node named '" + node + "' in the cluster of " + url + " (see tern status --url " + url + ")");
            return ExitCodes.FAILED;
        }
        String refusal = refusal(uri, password);
        if (refusal != null) {
            System.err.println("cannot drain " + node + " at " + uri + ": " + refusal);
            return ExitCodes.FAILED;
        }
        int query = url.indexOf('?');
        String withOptions = query < 0 ? uri : uri + url.substring(query); // the URL's TLS options hold for the node too
        try (TernAdmin admin = TernAdmin.connect(withOptions, user, password, 10_000)) {
            int left = admin.drain(node, timeoutMs, n -> System.out.println("node " + node + ": " + n
                    + " client connection(s) left"));
            if (left > 0) {
                System.out.println("node " + node + " is draining; " + left + " client connection(s) still there after "
                        + timeoutMs + " ms (they hold messages not yet acknowledged)");
                return ExitCodes.INCOMPLETE;
            }
            System.out.println("node " + node + " drained: no client is left; stop it with tern stop, nothing is lost");
            return ExitCodes.OK;
        } catch (JMSException e) {
            System.err.println("cannot drain " + node + " at " + uri + ": " + e.getMessage());
            return ExitCodes.FAILED;
        }
    }

    /** Why the credentials must not go to {@code uri} (a node the cluster list names); null if they may. */
    private String refusal(String uri, String password) {
        io.tern.client.impl.ClientUrl mine = io.tern.client.impl.ClientUrl.parse(url);
        if (mine.tls() && !uri.startsWith("terns://")) {
            return "the cluster list names it without TLS (" + uri + ") while --url asks for TLS";
        }
        io.tern.client.impl.ClientUrl.HostPort hp = io.tern.client.impl.ClientUrl.hostPortOf(uri);
        boolean named = hp != null && mine.servers().stream().anyMatch(s -> s.host().equals(hp.host()));
        if (!mine.tls() && (user != null || password != null) && !authenticatedList && !named) {
            return "not sending the password to a node of a cluster list that is not authenticated (give the cluster a "
                    + "secret, or use terns://), nor named in --url";
        }
        return null;
    }

    /** Whether the last cluster list came over authenticated channels. */
    private boolean authenticatedList;

    /** The client URI of the node named {@code name}, from the cluster list; null if no such member. */
    private String uriOf(String name, String password) throws JMSException {
        ClusterTopology t = StatusCommand.topologyOf(url, user, password);
        authenticatedList = t != null && t.authenticated();
        if (t == null) {
            return null;
        }
        for (NodeInfo n : t.members()) {
            if (n.name().equals(name) && !n.clientUris().isEmpty()) {
                return n.clientUris().get(0);
            }
        }
        return null;
    }
}
