package io.tern.client.message;

import io.tern.protocol.WireMessage;
import jakarta.jms.JMSException;
import jakarta.jms.MessageEOFException;
import jakarta.jms.MessageFormatException;
import jakarta.jms.MessageNotReadableException;
import jakarta.jms.MessageNotWriteableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.Serializable;
import java.util.Collections;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The property and body rules of the Jakarta Messaging specification, message by message. */
@Timeout(10)
class MessageSemanticsTest {

    private static <T extends TernMessage> T received(T sent) throws JMSException {
        sent.setJMSDestination(new io.tern.client.TernQueue("q"));
        WireMessage wire = sent.toWire();
        @SuppressWarnings("unchecked")
        T copy = (T) TernMessage.fromWire(wire, 1, null);
        return copy;
    }

    @Test
    void theWireCopyIsNotChangedByLaterChangesToTheMessage() throws JMSException {
        TernTextMessage m = new TernTextMessage();
        m.setJMSDestination(new io.tern.client.TernQueue("q"));
        m.setIntProperty("i", 1);
        m.setText("one");
        WireMessage wire = m.toWire("ID:dup-1");
        m.setIntProperty("i", 2);
        m.setStringProperty("added", "later");
        m.setText("two");
        assertThat(wire.properties()).containsEntry("i", 1).doesNotContainKey("added");
        assertThat(wire.duplicateId()).isEqualTo("ID:dup-1");
        assertThat(((TernTextMessage) TernMessage.fromWire(wire, 1, null)).getText()).isEqualTo("one");
        assertThat(m.getIntProperty("i")).isEqualTo(2);
        assertThat(m.propertyExists(WireMessage.DUPLICATE_ID)).as("the live message is not given the id").isFalse();
    }

    @Test
    void onlyPersistentSendsCarryADuplicateIdAndAnIdOfTheApplicationsOwnWins() throws JMSException {
        TernMessage m = new TernMessage();
        m.setJMSDestination(new io.tern.client.TernQueue("q"));
        m.setJMSDeliveryMode(jakarta.jms.DeliveryMode.NON_PERSISTENT);
        assertThat(m.toWire("ID:x").duplicateId()).isNull();
        assertThat(m.toWire("ID:x").properties()).isEmpty();
        m.setJMSDeliveryMode(jakarta.jms.DeliveryMode.PERSISTENT);
        assertThat(m.toWire("ID:x").duplicateId()).isEqualTo("ID:x");
        m.setStringProperty(WireMessage.DUPLICATE_ID, "mine");
        assertThat(m.toWire("ID:x").duplicateId()).isEqualTo("mine");
    }

    @Test
    void propertiesConvertAsTheSpecificationTableSays() throws JMSException {
        TernMessage m = new TernMessage();
        m.setByteProperty("b", (byte) 1);
        m.setShortProperty("s", (short) 2);
        m.setIntProperty("i", 3);
        m.setFloatProperty("f", 1.5f);
        m.setStringProperty("str", "42");
        m.setBooleanProperty("bool", true);
        assertThat(m.getLongProperty("b")).isEqualTo(1L);
        assertThat(m.getIntProperty("s")).isEqualTo(2);
        assertThat(m.getStringProperty("i")).isEqualTo("3");
        assertThat(m.getDoubleProperty("f")).isEqualTo(1.5d);
        assertThat(m.getLongProperty("str")).isEqualTo(42L);
        assertThat(m.getStringProperty("bool")).isEqualTo("true");
        assertThatThrownBy(() -> m.getShortProperty("i")).isInstanceOf(MessageFormatException.class);
        assertThatThrownBy(() -> m.getIntProperty("f")).isInstanceOf(MessageFormatException.class);
        assertThatThrownBy(() -> m.getBooleanProperty("i")).isInstanceOf(MessageFormatException.class);
        assertThatThrownBy(() -> m.getIntProperty("bool")).isInstanceOf(MessageFormatException.class);
        assertThatThrownBy(() -> m.getIntProperty("missing")).isInstanceOf(NumberFormatException.class);
        assertThat(m.getBooleanProperty("missing")).isFalse();
        assertThat(m.getStringProperty("missing")).isNull();
        assertThatThrownBy(() -> m.getDoubleProperty("missing")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> m.setObjectProperty("o", new Object())).isInstanceOf(MessageFormatException.class);
        assertThat(Collections.list(m.getPropertyNames())).containsExactly("b", "s", "i", "f", "str", "bool");
    }

    @Test
    void propertyNamesMayBeAnyNonEmptyStringAsOtherBrokersAccept() throws JMSException {
        TernMessage m = new TernMessage();
        for (String name : new String[] {"1abc", "a-b", "NULL", "between", "Escape", "true"}) {
            m.setStringProperty(name, "x");
            assertThat(m.getStringProperty(name)).as(name).isEqualTo("x");
        }
        assertThatThrownBy(() -> m.setStringProperty("", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> m.setStringProperty(null, "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void receivedPropertiesAreReadOnlyUntilCleared() throws JMSException {
        TernTextMessage sent = new TernTextMessage();
        sent.setStringProperty("k", "v");
        sent.setText("t");
        TernTextMessage got = received(sent);
        assertThat(got.getIntProperty("JMSXDeliveryCount")).isEqualTo(1);
        assertThatThrownBy(() -> got.setIntProperty("x", 1)).isInstanceOf(MessageNotWriteableException.class);
        assertThatThrownBy(() -> got.setText("u")).isInstanceOf(MessageNotWriteableException.class);
        got.clearProperties();
        got.setIntProperty("x", 1);
        got.clearBody();
        got.setText("u");
        assertThat(got.getText()).isEqualTo("u");
    }

    @Test
    void bytesMessagesAreWrittenThenReadAfterReset() throws JMSException {
        TernBytesMessage m = new TernBytesMessage();
        m.writeBoolean(true);
        m.writeLong(7);
        m.writeUTF("ü");
        m.writeBytes(new byte[] {1, 2, 3});
        assertThatThrownBy(m::readBoolean).isInstanceOf(MessageNotReadableException.class);
        TernBytesMessage got = received(m);
        assertThat(got.getBodyLength()).isEqualTo(1 + 8 + 2 + 2 + 3);
        assertThat(got.readBoolean()).isTrue();
        assertThat(got.readLong()).isEqualTo(7);
        assertThat(got.readUTF()).isEqualTo("ü");
        byte[] buf = new byte[5];
        assertThat(got.readBytes(buf)).isEqualTo(3);
        assertThat(got.readBytes(buf)).isEqualTo(-1);
        assertThatThrownBy(got::readInt).isInstanceOf(MessageEOFException.class);
        assertThatThrownBy(() -> got.writeInt(1)).isInstanceOf(MessageNotWriteableException.class);
        got.reset();
        assertThat(got.readBoolean()).isTrue();
    }

    @Test
    void mapMessagesConvertTheirEntries() throws JMSException {
        TernMapMessage m = new TernMapMessage();
        m.setInt("i", 5);
        m.setString("s", "6");
        m.setChar("c", 'x');
        m.setBytes("b", new byte[] {4});
        m.setObject("n", null);
        TernMapMessage got = received(m);
        assertThat(got.getLong("i")).isEqualTo(5L);
        assertThat(got.getInt("s")).isEqualTo(6);
        assertThat(got.getString("c")).isEqualTo("x");
        assertThat(got.getBytes("b")).containsExactly(4);
        assertThat(got.itemExists("n")).isTrue();
        assertThat(got.getObject("n")).isNull();
        assertThatThrownBy(() -> got.getChar("i")).isInstanceOf(MessageFormatException.class);
        assertThatThrownBy(() -> got.getBytes("i")).isInstanceOf(MessageFormatException.class);
        Map<?, ?> body = got.getBody(Map.class);
        assertThat(new java.util.ArrayList<Object>(body.keySet())).containsExactly("i", "s", "c", "b", "n");
    }

    @Test
    void aStreamReadThatFailsToConvertLeavesThePositionAlone() throws JMSException {
        TernStreamMessage m = new TernStreamMessage();
        m.writeString("abc");
        m.writeInt(9);
        m.writeBytes(new byte[] {1, 2, 3, 4, 5});
        TernStreamMessage got = received(m);
        assertThatThrownBy(got::readInt).isInstanceOf(NumberFormatException.class);
        assertThat(got.readString()).isEqualTo("abc");
        assertThatThrownBy(got::readBoolean).isInstanceOf(MessageFormatException.class);
        assertThat(got.readLong()).isEqualTo(9L);
        byte[] two = new byte[2];
        assertThat(got.readBytes(two)).isEqualTo(2);
        assertThat(got.readBytes(two)).isEqualTo(2);
        assertThat(got.readBytes(two)).isEqualTo(1);
        assertThatThrownBy(got::readObject).isInstanceOf(MessageEOFException.class);
    }

    record Allowed(String name) implements Serializable {
    }

    @Test
    void objectMessagesDeserializeOnlyAllowedClasses() throws JMSException {
        TernObjectMessage m = new TernObjectMessage();
        m.setObject(new Allowed("x"));
        TernObjectMessage got = received(m);
        assertThatThrownBy(got::getObject).isInstanceOf(MessageFormatException.class).hasMessageContaining("deserialize");
        String before = System.getProperty(TernObjectMessage.ALLOW_LIST_PROPERTY);
        System.setProperty(TernObjectMessage.ALLOW_LIST_PROPERTY, "io.tern.client.message.");
        try {
            assertThat(got.getObject()).isEqualTo(new Allowed("x"));
        } finally {
            if (before == null) {
                System.clearProperty(TernObjectMessage.ALLOW_LIST_PROPERTY);
            } else {
                System.setProperty(TernObjectMessage.ALLOW_LIST_PROPERTY, before);
            }
        }
    }

    @Test
    void headersSurviveTheWireAndCorrelationBytesRoundTrip() throws JMSException {
        TernTextMessage m = new TernTextMessage();
        m.setJMSCorrelationIDAsBytes(new byte[] {0, (byte) 200, 7});
        m.setJMSType("t");
        m.setJMSPriority(8);
        m.setJMSExpiration(123);
        m.setJMSReplyTo(new io.tern.client.TernTopic("replies"));
        TernTextMessage got = received(m);
        assertThat(got.getJMSCorrelationIDAsBytes()).containsExactly(0, (byte) 200, 7);
        assertThat(got.getJMSType()).isEqualTo("t");
        assertThat(got.getJMSPriority()).isEqualTo(8);
        assertThat(got.getJMSExpiration()).isEqualTo(123);
        assertThat(got.getJMSReplyTo()).isEqualTo(new io.tern.client.TernTopic("replies"));
        assertThatThrownBy(() -> m.setJMSPriority(10)).isInstanceOf(JMSException.class);
    }
}
