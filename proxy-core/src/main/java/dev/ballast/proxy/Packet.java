package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;

/** One logical MySQL packet from a client: its sequence id and its payload (several wire packets when ≥ 16 MiB). */
record Packet(int sequence, ByteBuf payload) {
}
