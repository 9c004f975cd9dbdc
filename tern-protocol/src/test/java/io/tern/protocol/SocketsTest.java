package io.tern.protocol;

import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(30)
class SocketsTest {

    @Test
    void epollWhereItLoadsUnlessNioIsAsked() {
        assertThat(Sockets.choose("", true)).isTrue();
        assertThat(Sockets.choose(" EPOLL ", true)).isTrue();
        assertThat(Sockets.choose("epoll", false)).isFalse();
        assertThat(Sockets.choose("nio", true)).isFalse();
        assertThat(Sockets.choose("rdma", true)).isNull();
    }

    @Test
    void thisJvmDescribesWhatItUses() {
        assertThat(Sockets.describe()).isEqualTo(Epoll.isAvailable() ? "epoll" : "nio: " + Epoll.unavailabilityCause());
    }
}
