package dev.ballast.proxy;

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

/** The proxy's network transport: Linux's native epoll when it loads, else Java NIO. */
final class Transport {

    private static final boolean EPOLL = !"nio".equals(System.getProperty("ballast.proxy.transport")) && Epoll.isAvailable();

    private Transport() {
    }

    static IoHandlerFactory ioHandlers() {
        return EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    static Class<? extends ServerSocketChannel> serverChannel() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    static Class<? extends SocketChannel> clientChannel() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** Event loop threads: one per core, at least two. */
    static int ioThreads() {
        return Integer.getInteger("ballast.proxy.ioThreads", Math.max(2, Runtime.getRuntime().availableProcessors()));
    }

    static String name() {
        return EPOLL ? "epoll" : "nio";
    }
}
