/**
 * The Tern wire protocol, shared by client and broker.
 *
 * <p>A connection starts with a handshake ({@link Handshake}); after it, both sides exchange
 * length-prefixed {@link Frame frames}. Every client request ({@link RequestFrame}) carries the
 * 8-byte digest of the {@link ClusterTopology} the client knows; every response ({@link ResponseFrame})
 * carries one flag byte that says whether a new topology follows. The grammar is written down in
 * {@link FrameCodec}. Nothing here logs or touches application state: codecs turn bytes into records
 * and throw {@link ProtocolException} with an {@link ErrorCode} when the bytes are wrong.
 */
package io.tern.protocol;
