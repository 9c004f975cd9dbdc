package io.tern.protocol;

/** Everything that crosses a Tern connection after the handshake. */
public sealed interface Frame permits RequestFrame, ResponseFrame, Deliver, Notice {
}
