package io.tern.broker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class QueueSettingsTest {
    private static final List<QueueSettings.Rule> RULES = List.of(
            QueueSettings.Rule.parse("orders.*:max-deliveries=3"),
            QueueSettings.Rule.parse("queue:orders.vip:max-deliveries=7"),
            QueueSettings.Rule.parse("orders.*:dead-letter-queue=DLQ.orders"),
            QueueSettings.Rule.parse("topic:prices:expiry-queue=Expired.prices"));

    @Test
    void everyMatchingRuleAppliesInOrderAndALaterOneWins() {
        QueueSettings vip = QueueSettings.DEFAULT.forQueue(RULES, QueueDefinition.queue("orders.vip"));
        assertThat(vip).isEqualTo(new QueueSettings(7, "DLQ.orders", "ExpiryQueue"));
        assertThat(QueueSettings.DEFAULT.forQueue(RULES, QueueDefinition.queue("orders.eu")))
                .isEqualTo(new QueueSettings(3, "DLQ.orders", "ExpiryQueue"));
        assertThat(QueueSettings.DEFAULT.forQueue(RULES, QueueDefinition.queue("billing"))).isEqualTo(QueueSettings.DEFAULT);
    }

    @Test
    void aSubscriptionFollowsTheRulesOfItsTopicAndATopicPatternNamesNoQueue() {
        QueueDefinition sub = new QueueDefinition("$sub.prices.1", QueueDefinition.Kind.DURABLE_SUBSCRIPTION, "prices", null, false);
        assertThat(QueueSettings.DEFAULT.forQueue(RULES, sub).expiryQueue()).isEqualTo("Expired.prices");
        assertThat(QueueSettings.DEFAULT.forQueue(RULES, QueueDefinition.queue("prices")).expiryQueue()).isEqualTo("ExpiryQueue");
        QueueDefinition ordersSub = new QueueDefinition("$sub.orders.x", QueueDefinition.Kind.SUBSCRIPTION, "orders.x", null, false);
        assertThat(QueueSettings.DEFAULT.forQueue(RULES, ordersSub).maxDeliveries()).isEqualTo(3);
    }

    @Test
    void badRulesSayWhatIsWrong() {
        assertThatThrownBy(() -> QueueSettings.Rule.parse("orders.*")).hasMessageContaining("expected PATTERN:KEY=VALUE");
        assertThatThrownBy(() -> QueueSettings.Rule.parse("orders.*:max-delivery=3"))
                .hasMessageContaining("unknown queue setting 'max-delivery'").hasMessageContaining("max-deliveries");
        assertThatThrownBy(() -> QueueSettings.Rule.parse("orders.*:max-deliveries=0")).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> QueueSettings.Rule.parse("orders.*:max-deliveries=many")).hasMessageContaining("whole number");
        assertThatThrownBy(() -> QueueSettings.Rule.parse("queue::max-deliveries=2")).hasMessageContaining("empty destination pattern");
        assertThatThrownBy(() -> QueueSettings.Rule.parse("x:dead-letter-queue=$internal")).hasMessageContaining("not starting with $");
    }
}
