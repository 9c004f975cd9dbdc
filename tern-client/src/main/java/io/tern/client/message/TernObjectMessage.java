package io.tern.client.message;

import io.tern.protocol.WireMessage;
import jakarta.jms.JMSException;
import jakarta.jms.MessageFormatException;
import jakarta.jms.ObjectMessage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;

/**
 * A message whose body is a serialized Java object. Deserialization obeys an allow-list: the JDK's
 * value packages always, plus whatever the system property {@code tern.objectmessage.allowList}
 * (comma-separated package prefixes, {@code *} for all) adds. A class outside it fails with
 * MessageFormatException instead of being instantiated.
 */
public class TernObjectMessage extends TernMessage implements ObjectMessage {
    public static final String ALLOW_LIST_PROPERTY = "tern.objectmessage.allowList";
    private static final String[] ALWAYS = {"java.lang.", "java.util.", "java.math.", "java.time.", "java.net.URI", "[", };

    private byte[] serialized;

    @Override
    protected byte bodyType() {
        return WireMessage.BODY_OBJECT;
    }

    @Override
    public void setObject(Serializable object) throws JMSException {
        checkWritable();
        if (object == null) {
            serialized = null;
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(object);
        } catch (IOException e) {
            throw new MessageFormatException("cannot serialize " + object.getClass().getName() + ": " + e.getMessage());
        }
        serialized = bytes.toByteArray();
    }

    @Override
    public Serializable getObject() throws JMSException {
        if (serialized == null) {
            return null;
        }
        try (ObjectInputStream in = new AllowListInputStream(new ByteArrayInputStream(serialized))) {
            return (Serializable) in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            MessageFormatException f = new MessageFormatException("cannot deserialize the object message: " + e.getMessage());
            f.setLinkedException(e);
            throw f;
        }
    }

    static boolean allowed(String className) {
        for (String prefix : ALWAYS) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        String extra = System.getProperty(ALLOW_LIST_PROPERTY, "");
        for (String prefix : extra.split(",")) {
            String p = prefix.trim();
            if (p.equals("*") || (!p.isEmpty() && className.startsWith(p))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        serialized = null;
    }

    @Override
    protected byte[] encodeBody() {
        return serialized;
    }

    @Override
    protected void decodeBody(byte[] body) {
        serialized = body;
    }

    @Override
    protected Object bodyObject() throws JMSException {
        return getObject();
    }

    @Override
    @SuppressWarnings("rawtypes")
    public boolean isBodyAssignableTo(Class c) throws JMSException {
        if (serialized == null) {
            return true;
        }
        // True promises that getBody will not throw (Message javadoc): the object must deserialize here.
        try {
            return c.isInstance(getObject());
        } catch (jakarta.jms.MessageFormatException e) {
            return false;
        }
    }

    private static final class AllowListInputStream extends ObjectInputStream {
        AllowListInputStream(InputStream in) throws IOException {
            super(in);
            setObjectInputFilter(info -> {
                Class<?> c = info.serialClass();
                if (c == null) {
                    return ObjectInputFilter.Status.UNDECIDED;
                }
                while (c.isArray()) {
                    c = c.getComponentType();
                }
                return c.isPrimitive() || allowed(c.getName()) ? ObjectInputFilter.Status.ALLOWED
                        : ObjectInputFilter.Status.REJECTED;
            });
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            if (loader != null) {
                try {
                    return Class.forName(desc.getName(), false, loader);
                } catch (ClassNotFoundException e) {
                    // fall back to the default resolution below
                }
            }
            return super.resolveClass(desc);
        }
    }
}
