package io.tern.client.impl;

import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import jakarta.jms.JMSException;
import jakarta.jms.JMSSecurityException;
import jakarta.jms.ResourceAllocationException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

class JmsErrorsTest {

    @Test
    void aCauseWithoutAMessageAddsNothingAndATimeoutNeverSaysNull() {
        JMSException e = JmsErrors.wrap(JmsErrors.noAnswer(new Request.Ping(), "tern://127.0.0.1:5445", 30_000),
                new TimeoutException());
        assertThat(e.getMessage()).isEqualTo("Ping to tern://127.0.0.1:5445 got no answer in 30000 ms: the server is "
                + "stalled or overloaded").doesNotContain("null");
        assertThat(JmsErrors.wrap("connect failed", new RuntimeException()).getMessage()).isEqualTo("connect failed");
        assertThat(JmsErrors.wrap("connect failed", new java.io.IOException("refused")).getMessage())
                .isEqualTo("connect failed: refused");
    }

    @Test
    void aSendWithoutAnswerNamesFlowControl() {
        String m = JmsErrors.noAnswer(new Request.Send(1, null), "tern://h:1", 30_000);
        assertThat(m).startsWith("Send to tern://h:1 got no answer in 30000 ms").contains("memory limit").contains("flow control");
    }

    @Test
    void theServersCauseBecomesTheExceptionTheApiNames() {
        assertThat(JmsErrors.toJms(new Response.Error(ErrorCode.NOT_AUTHORIZED, "tern://h:1: user u may not send")))
                .isInstanceOf(JMSSecurityException.class).hasMessage("tern://h:1: user u may not send");
        assertThat(JmsErrors.toJms(new Response.Error(ErrorCode.RESOURCE_EXHAUSTED, "limit")))
                .isInstanceOf(ResourceAllocationException.class);
        assertThat(JmsErrors.toJms(new Response.Error(ErrorCode.NOT_IN_QUORUM, "no majority")).getErrorCode())
                .isEqualTo("NOT_IN_QUORUM");
    }
}
