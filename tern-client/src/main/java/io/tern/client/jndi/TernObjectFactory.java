package io.tern.client.jndi;

import io.tern.client.TernConnectionFactory;

import javax.naming.Context;
import javax.naming.Name;
import javax.naming.RefAddr;
import javax.naming.Reference;
import javax.naming.spi.ObjectFactory;
import java.util.Hashtable;

/** Rebuilds a {@link TernConnectionFactory} from the Reference it was bound as. */
public class TernObjectFactory implements ObjectFactory {
    @Override
    public Object getObjectInstance(Object obj, Name name, Context ctx, Hashtable<?, ?> env) {
        if (obj instanceof Reference ref && TernConnectionFactory.class.getName().equals(ref.getClassName())) {
            RefAddr url = ref.get("url");
            return url == null ? new TernConnectionFactory() : new TernConnectionFactory((String) url.getContent());
        }
        return null;
    }
}
