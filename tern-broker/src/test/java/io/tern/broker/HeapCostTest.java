package io.tern.broker;

import io.tern.protocol.DestinationName;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class HeapCostTest {
    private static WireMessage message(Map<String, Object> properties, byte[] body) {
        return new WireMessage("ID:1", WireMessage.BODY_BYTES, DestinationName.queue("q"), null, null, null, false, 4, 0,
                0, 0, properties, body);
    }

    @Test
    void aHumongousBodyCostsTheWholeRegionsItTakes() {
        long region = HeapCost.regionBytes();
        assumeTrue(region > 0, "the heap is G1's (the default collector)");
        assertThat(HeapCost.array(region / 2)).as("half a region is humongous").isEqualTo(region);
        assertThat(HeapCost.array(region + 1024)).as("1 KiB more than a region takes two").isEqualTo(2 * region);
        assertThat(HeapCost.array(100)).as("a small array: header and bytes, 8-aligned").isEqualTo(120);
        // The case measured on a 512 MiB heap (1 MiB regions): a 1 MiB + 1 KiB body was counted as 1 MiB.
        WireMessage big = message(Map.of(), new byte[(int) region + 1024]);
        assertThat(HeapCost.of(big)).isGreaterThanOrEqualTo(2 * region).isGreaterThan(2L * big.estimatedSize() - 4096);
    }

    @Test
    void eachPropertyCostsItsMapEntryKeyAndBoxedValue() {
        Map<String, Object> properties = new HashMap<>();
        for (int i = 0; i < 100; i++) {
            properties.put("p" + i, i);
        }
        WireMessage m = message(properties, new byte[0]);
        assertThat(HeapCost.of(m)).as("about three times the wire estimate, as measured")
                .isGreaterThan(3L * m.estimatedSize());
    }
}
