package io.quaver.internal.platform;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/// The fallback: DSCP marking through the JDK works everywhere; nothing else is available.
final class PortablePlatform implements Platform {
    static final PortablePlatform INSTANCE = new PortablePlatform();

    @Override
    public String name() {
        return "portable";
    }

    @Override
    public boolean isPrivileged() {
        return false;
    }

    @Override
    public SocketInfo describe(NetworkChannel channel) {
        boolean stream = channel instanceof SocketChannel;
        try {
            if (channel.getLocalAddress() instanceof InetSocketAddress local && local.getAddress() instanceof Inet4Address
                    && !local.getAddress().isAnyLocalAddress()) {
                return new SocketInfo(SocketInfo.Family.UNKNOWN, false, stream);
            }
        } catch (Exception ignored) {
            // closed: nothing to learn
        }
        return new SocketInfo(SocketInfo.Family.UNKNOWN, false, stream);
    }

    @Override
    public boolean setPriority(NetworkChannel channel, int priority) {
        return false;
    }

    @Override
    public OptionalInt priority(NetworkChannel channel) {
        return OptionalInt.empty();
    }

    @Override
    public boolean setMaxPacingRate(NetworkChannel channel, long bytesPerSecond) {
        return false;
    }

    @Override
    public OptionalLong maxPacingRate(NetworkChannel channel) {
        return OptionalLong.empty();
    }

    @Override
    public Optional<TcpInfo> tcpInfo(SocketChannel channel) {
        return Optional.empty();
    }
}
