package io.tern.broker.net;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/** Who a verified client certificate names: the common name of its subject, else the whole subject. */
final class ClientCertificates {
    private ClientCertificates() {
    }

    static String userOf(X500Principal subject) {
        String dn = subject.getName(X500Principal.RFC2253);
        try {
            for (Rdn rdn : new LdapName(dn).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            // an RFC 2253 name from the JDK parses; if not, the whole subject names the user
        }
        return dn;
    }
}
