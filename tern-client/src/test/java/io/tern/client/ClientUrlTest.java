package io.tern.client;

import io.tern.client.impl.ClientUrl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class ClientUrlTest {

    @Test
    void ternUrlsListServersAndOptions() {
        ClientUrl u = ClientUrl.parse("tern://h1:1000,h2,[::1]:3000?strategy=random&prefetch=5");
        assertThat(u.servers()).containsExactly(new ClientUrl.HostPort("h1", 1000), new ClientUrl.HostPort("h2", 5445),
                new ClientUrl.HostPort("::1", 3000));
        assertThat(u.option("strategy", null)).isEqualTo("random");
        assertThat(u.intOption("prefetch", 0)).isEqualTo(5);
        assertThat(u.isMulticast()).isFalse();
    }

    @Test
    void multicastUrlsMayNameNoAddressAtAll() {
        ClientUrl plain = ClientUrl.parse("multicast://");
        assertThat(plain.isMulticast()).isTrue();
        assertThat(plain.servers()).isEmpty();
        ClientUrl full = ClientUrl.parse("multicast://239.255.1.2:4000?group=g&schemes=tern&timeout=900&interface=lo");
        assertThat(full.servers()).containsExactly(new ClientUrl.HostPort("239.255.1.2", 4000));
        assertThat(full.intOption("timeout", 0)).isEqualTo(900);
    }

    @Test
    void badUrlsSayWhatIsWrong() {
        assertThatThrownBy(() -> ClientUrl.parse("http://x")).hasMessageContaining("unsupported scheme 'http'");
        assertThatThrownBy(() -> ClientUrl.parse("tern://")).hasMessageContaining("names no server");
        assertThatThrownBy(() -> ClientUrl.parse("tern://h:99999")).hasMessageContaining("bad port");
        assertThatThrownBy(() -> ClientUrl.parse("multicast://a:1,b:2")).hasMessageContaining("at most one");
        assertThatThrownBy(() -> ClientUrl.parse("tern://h?prefetch=x").intOption("prefetch", 0)).hasMessageContaining("whole number");
    }
}
