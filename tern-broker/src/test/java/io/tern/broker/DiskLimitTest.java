package io.tern.broker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class DiskLimitTest {

    @Test
    void readsAPercentageOrASize() {
        assertThat(BrokerConfig.DiskLimit.parse("90%")).isEqualTo(new BrokerConfig.DiskLimit(90, 0));
        assertThat(BrokerConfig.DiskLimit.parse("512MiB").bytes()).isEqualTo(512L * 1024 * 1024);
        assertThat(BrokerConfig.DiskLimit.parse("20GB").bytes()).isEqualTo(20_000_000_000L);
        assertThat(BrokerConfig.DiskLimit.parse("2g").bytes()).isEqualTo(2L * 1024 * 1024 * 1024);
        assertThat(BrokerConfig.DiskLimit.parse("4096").bytes()).isEqualTo(4096);
    }

    @Test
    void refusesWhatIsNeitherWithTheReason() {
        for (String bad : new String[] {"0%", "101%", "12XB", "", "-5", "0", "99999999999999T"}) {
            assertThatThrownBy(() -> BrokerConfig.DiskLimit.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad disk limit '" + bad + "'");
        }
    }
}
