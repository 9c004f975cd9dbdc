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

    private static final boolean EPOLL = chooseEpoll(System.getProperty(PROPERTY, ""));

    private Sockets() {
    }

    private static boolean chooseEpoll(String asked) {
        return switch (asked.trim().toLowerCase(Locale.ROOT)) {
            case "nio" -> false;
            case "", "epoll" -> Epoll.isAvailable();
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + asked + " is not a transport; use epoll or nio");
        };
    }

    /** "epoll" or "nio": what this JVM uses. */
    public static String name() {
        return EPOLL ? "epoll" : "nio";
    }

    /** Why epoll is not used, or null when it is. */
    public static String whyNotEpoll() {
        if (EPOLL) {
            return null;
        }
        Throwable cause = Epoll.unavailabilityCause();
        return cause == null ? "-D" + PROPERTY + "=nio" : cause.toString();
    }

    public static IoHandlerFactory ioHandlers() {
        return EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    public static Class<? extends SocketChannel> socketChannel() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    public static Class<? extends ServerSocketChannel> serverSocketChannel() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }
}
