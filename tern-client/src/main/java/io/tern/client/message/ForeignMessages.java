package io.tern.client.message;

import jakarta.jms.BytesMessage;
import jakarta.jms.JMSException;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageEOFException;
import jakarta.jms.ObjectMessage;
import jakarta.jms.StreamMessage;
import jakarta.jms.TextMessage;

import java.util.Enumeration;

/** Turns another provider's message into ours, so it can be sent (the specification requires it). */
public final class ForeignMessages {
    private ForeignMessages() {
    }

    public static TernMessage adopt(Message m) throws JMSException {
        if (m instanceof TernMessage t) {
            return t;
        }
        TernMessage copy;
        if (m instanceof TextMessage t) {
            TernTextMessage c = new TernTextMessage();
            c.setText(t.getText());
            copy = c;
        } else if (m instanceof BytesMessage b) {
            TernBytesMessage c = new TernBytesMessage();
            b.reset();
            byte[] data = new byte[(int) b.getBodyLength()];
            b.readBytes(data);
            c.writeBytes(data);
            copy = c;
        } else if (m instanceof MapMessage mm) {
            TernMapMessage c = new TernMapMessage();
            for (Enumeration<?> e = mm.getMapNames(); e.hasMoreElements(); ) {
                String name = (String) e.nextElement();
                c.setObject(name, mm.getObject(name));
            }
            copy = c;
        } else if (m instanceof ObjectMessage o) {
            TernObjectMessage c = new TernObjectMessage();
            c.setObject(o.getObject());
            copy = c;
        } else if (m instanceof StreamMessage s) {
            TernStreamMessage c = new TernStreamMessage();
            s.reset();
            try {
                while (true) {
                    c.writeObject(s.readObject());
                }
            } catch (MessageEOFException end) {
                // every item copied
            }
            copy = c;
        } else {
            copy = new TernMessage();
        }
        copy.copyHeaders(m);
        return copy;
    }
}
