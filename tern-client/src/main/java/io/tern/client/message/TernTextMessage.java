package io.tern.client.message;

import io.tern.protocol.WireMessage;
import jakarta.jms.JMSException;
import jakarta.jms.TextMessage;

import java.nio.charset.StandardCharsets;

/** A message whose body is a String, carried as UTF-8. */
public class TernTextMessage extends TernMessage implements TextMessage {
    private String text;

    @Override
    protected byte bodyType() {
        return WireMessage.BODY_TEXT;
    }

    @Override
    public void setText(String text) throws JMSException {
        checkWritable();
        this.text = text;
    }

    @Override
    public String getText() {
        return text;
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        text = null;
    }

    @Override
    protected byte[] encodeBody() {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected void decodeBody(byte[] body) {
        text = body == null ? null : new String(body, StandardCharsets.UTF_8);
    }

    @Override
    protected Object bodyObject() {
        return text;
    }
}
