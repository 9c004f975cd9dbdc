package io.tern.protocol;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Locale;

/**
 * The socket transport of clients and servers: Netty's native epoll transport on Linux, Java NIO
 * elsewhere or when {@code -Dtern.transport=nio} asks for it.
 *
 * <p>Measured on the 64-producer/64-consumer benchmark, most of the CPU of a Tern client or server
 * is system calls and wake-ups, not Java code. The native transport saves a part of it: writes
 * from other threads wake the loop through an eventfd, reads and writes go without the NIO
 * selector's bookkeeping and garbage, and the loop can wait with a timer fd.
 */
public final class Sockets {

    /** The system property that picks the transport: {@code epoll} (the default where it loads) or {@code nio}. */
    public static final String PROPERTY = "tern.transport";

    /** True: epoll; false: NIO; null: the property names no transport (every use says so). */
    private static final Boolean EPOLL = choose(System.getProperty(PROPERTY, ""), Epoll.isAvailable());

    private Sockets() {
    }

    static Boolean choose(String asked, boolean epollLoads) {
        return switch (asked.trim().toLowerCase(Locale.ROOT)) {
            case "nio" -> false;
            case "", "epoll" -> epollLoads;
            default -> null;
        };
    }

    private static boolean epoll() {
        if (EPOLL == null) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + System.getProperty(PROPERTY)
                    + " is not a transport; use epoll or nio");
        }
        return EPOLL;
    }

    /** For the log: "epoll", or "nio" and why not epoll. */
    public static String describe() {
        if (epoll()) {
            return "epoll";
        }
        Throwable cause = Epoll.unavailabilityCause();
        return "nio: " + (cause == null ? "-D" + PROPERTY + "=nio" : cause.toString());
    }

    public static IoHandlerFactory ioHandlers() {
        return epoll() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    public static Class<? extends SocketChannel> socketChannel() {
        return epoll() ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    public static Class<? extends ServerSocketChannel> serverSocketChannel() {
        return epoll() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }
}
