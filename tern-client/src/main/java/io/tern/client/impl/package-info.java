/**
 * The provider's insides: {@link io.tern.client.impl.Transport} speaks the wire protocol over one
 * Netty channel; {@link io.tern.client.impl.TernConnection}, {@link io.tern.client.impl.TernSession}
 * and their consumers and producers implement the Jakarta Messaging API on top of it (a session's
 * factory methods are in {@code SessionFactories}). A connection's
 * link has one state machine, {@link io.tern.client.impl.LinkStates}; {@link io.tern.client.impl.RequestRouter}
 * takes each request to a link, {@link io.tern.client.impl.FailoverAgent} finds a server and moves to
 * another (failover, lame duck, failback), and {@link io.tern.client.impl.SessionRebuilder} recreates
 * what the connection had there. A session keeps what the application holds in an
 * {@link io.tern.client.impl.AckLedger}, acknowledges as its mode says through
 * {@link io.tern.client.impl.SessionAcks}, keeps its open transaction (and commits it across
 * failovers) in a {@link io.tern.client.impl.SessionTransaction}, counts its unanswered asynchronous
 * sends in {@link io.tern.client.impl.AsyncSends}, and recovers on a new node through a
 * {@link io.tern.client.impl.SessionRecovery}. Netty threads only move frames into consumer buffers;
 * message listeners run on each session's listener thread and completion listeners on its completion
 * thread ({@link io.tern.client.impl.SessionThreads}); a synchronous consumer left idle gives its
 * buffer back ({@link io.tern.client.impl.IdleChecks}).
 */
package io.tern.client.impl;
