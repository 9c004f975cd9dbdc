/**
 * The provider's insides: {@link io.tern.client.impl.Transport} speaks the wire protocol over one
 * Netty channel; {@link io.tern.client.impl.TernConnection}, {@link io.tern.client.impl.TernSession}
 * and their consumers and producers implement the Jakarta Messaging API on top of it. Netty threads
 * only move frames into consumer buffers; application code (listeners, completion callbacks) runs on
 * each session's own thread.
 */
package io.tern.client.impl;
