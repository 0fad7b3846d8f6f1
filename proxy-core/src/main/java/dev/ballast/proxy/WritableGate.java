package dev.ballast.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.concurrent.TimeUnit;

/**
 * The pipeline stage through which a worker thread writing a large result waits for a slow client: it blocks while the
 * client's socket is full and wakes when Netty signals that the channel became writable again (or closed), not by
 * polling. One per connection.
 */
final class WritableGate extends ChannelInboundHandlerAdapter {

    private final Object lock = new Object();

    /**
     * Waits until {@code channel} is writable, closed, or {@code timeoutNanos} passed; returns whether it is writable.
     * Never call it on the channel's event loop: that thread signals the change.
     */
    boolean await(Channel channel, long timeoutNanos) throws InterruptedException {
        if (channel.isWritable()) {
            return true;
        }
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (lock) {
            while (!channel.isWritable() && channel.isActive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
        return channel.isWritable();
    }

    private void signal() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable()) {
            signal();
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        signal();
        super.channelInactive(ctx);
    }
}
