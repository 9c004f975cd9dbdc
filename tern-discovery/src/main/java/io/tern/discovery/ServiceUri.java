package io.tern.discovery;

import java.net.URI;
import java.util.Objects;

/** A service of a cluster and where it is: {@code cluster1:jms:tern://127.0.0.1:5445}. */
public record ServiceUri(String group, String service, URI uri) {

    public ServiceUri {
        Objects.requireNonNull(uri, "uri");
        if (group == null || group.isEmpty() || group.contains(":") || group.contains(" ")) {
            throw new IllegalArgumentException("group must be a non-empty word without ':' or spaces: " + group);
        }
        if (service == null || service.isEmpty() || service.contains(":") || service.contains(" ")) {
            throw new IllegalArgumentException("service must be a non-empty word without ':' or spaces: " + service);
        }
        if (uri.getScheme() == null || uri.toString().contains(" ")) {
            throw new IllegalArgumentException("uri must be absolute and without spaces: " + uri);
        }
    }

    /** Parses {@code group:service:uri}. */
    public static ServiceUri parse(String text) {
        int first = text.indexOf(':');
        int second = first < 0 ? -1 : text.indexOf(':', first + 1);
        if (first <= 0 || second <= first + 1) {
            throw new IllegalArgumentException("expected group:service:uri, got '" + text + "'");
        }
        return new ServiceUri(text.substring(0, first), text.substring(first + 1, second),
                URI.create(text.substring(second + 1)));
    }

    public boolean matches(String wantedGroup, String wantedScheme) {
        return (wantedGroup == null || wantedGroup.equals(group))
                && (wantedScheme == null || wantedScheme.equals(uri.getScheme()));
    }

    @Override
    public String toString() {
        return group + ":" + service + ":" + uri;
    }
}
