package io.tern.broker;

import io.tern.protocol.DestinationName;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class SelectorFilterTest {
    private static WireMessage msg(Map<String, Object> props) {
        return new WireMessage("ID:x", WireMessage.BODY_TEXT, DestinationName.queue("q"), null, "c1", "order",
                true, 6, 1000, 0, 0, props, null);
    }

    private static boolean matches(String selector, Map<String, Object> props) throws Exception {
        return SelectorFilter.parse(selector).matches(msg(props), 0);
    }

    @Test
    void theSpecificationGrammarWorks() throws Exception {
        Map<String, Object> p = Map.of("price", 12.5, "qty", 3, "city", "Oslo", "vip", true);
        assertThat(matches("price > 10 AND qty BETWEEN 1 AND 5", p)).isTrue();
        assertThat(matches("city IN ('Oslo', 'Bergen') AND NOT vip = FALSE", p)).isTrue();
        assertThat(matches("city LIKE 'O_l%'", p)).isTrue();
        assertThat(matches("missing IS NULL AND city IS NOT NULL", p)).isTrue();
        assertThat(matches("qty * 2 + 1 = 7", p)).isTrue();
        assertThat(matches("missing > 1", p)).as("unknown compares to false").isFalse();
        assertThat(matches("NOT (missing > 1)", p)).as("NOT unknown is unknown").isFalse();
    }

    @Test
    void headerFieldsAreSelectable() throws Exception {
        assertThat(matches("JMSPriority = 6 AND JMSDeliveryMode = 'PERSISTENT' AND JMSType = 'order'", Map.of())).isTrue();
        assertThat(matches("JMSCorrelationID = 'c1' AND JMSMessageID = 'ID:x' AND JMSTimestamp = 1000", Map.of())).isTrue();
        assertThat(SelectorFilter.parse("JMSXDeliveryCount > 1").matches(msg(Map.of()), 1)).isTrue();
    }

    @Test
    void blankSelectorsSelectEverythingAndBadOnesFailToParse() throws Exception {
        assertThat(SelectorFilter.parse("  ")).isNull();
        assertThatThrownBy(() -> SelectorFilter.parse("a = ")).isInstanceOf(SelectorFilter.InvalidSelectorException.class);
        assertThatThrownBy(() -> SelectorFilter.parse("a IN ()")).isInstanceOf(SelectorFilter.InvalidSelectorException.class);
    }
}
