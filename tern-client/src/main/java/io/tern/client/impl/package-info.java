/**
 * The provider's insides: {@link io.tern.client.impl.Transport} speaks the wire protocol over one
 * Netty channel; {@link io.tern.client.impl.TernConnection}, {@link io.tern.client.impl.TernSession}
 * and their consumers and producers implement the Jakarta Messaging API on top of it. A connection's
 * link has one state machine, {@link io.tern.client.impl.LinkStates}; {@link io.tern.client.impl.RequestRouter}
 * takes each request to a link, {@link io.tern.client.impl.FailoverAgent} finds a server and moves to
 * another (failover, lame duck, failback), and {@link io.tern.client.impl.SessionRebuilder} recreates
 * what the connection had there. A session keeps what the application holds in an
 * {@link io.tern.client.impl.AckLedger}, its open transaction in a
 * {@link io.tern.client.impl.SessionTransaction}, and recovers on a new node through a
 * {@link io.tern.client.impl.SessionRecovery}. Netty threads
 * only move frames into consumer buffers; application code (listeners, completion callbacks) runs on
 * each session's own thread.
 */
package io.tern.client.impl;
