package io.quaver.internal.platform;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.quaver.internal.platform.LinuxNative.ErrnoException;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.LinkedHashSet;
import java.util.Set;

/// The exact narrowing of [SocketFdFinder] for a bound channel: one `NETLINK_SOCK_DIAG`
/// request per address family (`SOCK_DIAG_BY_FAMILY` without `NLM_F_DUMP`, what `ss` sends
/// for one socket) asks the kernel for the socket with the channel's local and remote
/// address and port, and the reply names its inode. The kernel answers from its lookup hash
/// tables, so the cost does not depend on how many sockets the process or the host has open,
/// unlike reading `/proc/self/net/{udp,tcp}` ([ProcNetSockets]), which walks every socket.
///
/// Like the tables it proves nothing: the kernel's lookup returns the socket that would receive
/// a packet for that 4-tuple, which may be another one (`SO_REUSEPORT` groups, a connected
/// socket preferred to a wildcard one, a socket bound to a device, another network
/// namespace), or none (a bound, unconnected, non-listening TCP socket is in no lookup table).
/// The finder still proves identity with its sentinel and falls back to the tables and then to
/// its full scan when the inode named here is not the channel's.
///
/// Quirk kept by the kernel for UDP (`udp_dump_one`): the request's source is matched as the
/// *remote* end and its destination as the local one ("src and dst are swapped for historical
/// reasons"), whereas TCP (`inet_diag_find_one_icsk`) matches the source as the local end.
final class SockDiag {
    private static final System.Logger LOG = System.getLogger(SockDiag.class.getName());
    private static final ValueLayout.OfShort BE_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
    /// The reply buffer: one `inet_diag_msg` plus its attributes (none requested) fits easily.
    private static final int REPLY_BUFFER_BYTES = 1024;
    private static final InetAddress IPV4_ANY = InetAddress.ofLiteral("0.0.0.0");
    private static final InetAddress IPV6_ANY = InetAddress.ofLiteral("::");

    private SockDiag() {
    }

    /// The inode of the socket of `socketType` with local address `local` and remote address
    /// `remote` (null when not connected), as the kernel's lookup finds it in the calling
    /// thread's network namespace: AF_INET first for an IPv4 local address (it also finds
    /// dual-stack IPv6 sockets), then AF_INET6 (with IPv4-mapped addresses). Empty if the kernel
    /// finds none, or if sock_diag is unavailable.
    static Set<Long> inodes(int socketType, InetSocketAddress local, InetSocketAddress remote) {
        Set<Long> found = new LinkedHashSet<>(2);
        int fd;
        try {
            fd = LinuxNative.netlinkSocket(LinuxAbi.NETLINK_SOCK_DIAG);
        } catch (ErrnoException e) {
            LOG.log(Level.DEBUG, () -> "no sock_diag: " + e.getMessage());
            return found;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment reply = arena.allocate(REPLY_BUFFER_BYTES, Integer.BYTES);
            int[] families = local.getAddress() instanceof Inet4Address
                    ? new int[]{LinuxAbi.AF_INET, LinuxAbi.AF_INET6} : new int[]{LinuxAbi.AF_INET6};
            int sequence = 1;
            for (int family : families) {
                MemorySegment request = arena.allocate(LinuxAbi.NLMSGHDR_SIZE + LinuxAbi.INET_DIAG_REQ_V2_SIZE,
                        Integer.BYTES);
                encodeRequest(request, sequence, family, socketType, local, remote);
                LinuxNative.send(fd, request);
                long length = LinuxNative.recvNow(fd, reply);
                long inode = decodeInode(reply, length, sequence);
                if (inode > 0) {
                    found.add(inode);
                    break; // one socket answers a 4-tuple; the other family would name the same
                }
                sequence++;
            }
        } catch (ErrnoException e) {
            LOG.log(Level.DEBUG, () -> "sock_diag lookup failed: " + e.getMessage());
        } finally {
            try {
                LinuxNative.close(fd);
            } catch (ErrnoException e) {
                LOG.log(Level.DEBUG, () -> "close(" + fd + ") failed: " + e.getMessage());
            }
        }
        return found;
    }

    /// Writes a `nlmsghdr` + `inet_diag_req_v2` asking for one socket into `message` (at least
    /// `NLMSGHDR_SIZE + INET_DIAG_REQ_V2_SIZE` bytes, zeroed by the caller's allocation).
    static void encodeRequest(MemorySegment message, int sequence, int family, int socketType,
                              InetSocketAddress local, InetSocketAddress remote) {
        int size = LinuxAbi.NLMSGHDR_SIZE + LinuxAbi.INET_DIAG_REQ_V2_SIZE;
        message.asSlice(0, size).fill((byte) 0);
        message.set(JAVA_INT, 0, size); // nlmsg_len
        message.set(JAVA_SHORT, 4, (short) LinuxAbi.SOCK_DIAG_BY_FAMILY); // nlmsg_type
        message.set(JAVA_SHORT, 6, (short) LinuxAbi.NLM_F_REQUEST); // nlmsg_flags
        message.set(JAVA_INT, 8, sequence); // nlmsg_seq; nlmsg_pid 0
        long req = LinuxAbi.NLMSGHDR_SIZE;
        boolean stream = socketType == LinuxAbi.SOCK_STREAM;
        message.set(JAVA_BYTE, req, (byte) family);
        message.set(JAVA_BYTE, req + 1, (byte) (stream ? LinuxAbi.IPPROTO_TCP : LinuxAbi.IPPROTO_UDP));
        message.set(JAVA_INT, req + LinuxAbi.INET_DIAG_REQ_STATES_OFFSET, -1); // every state
        long id = req + LinuxAbi.INET_DIAG_REQ_ID_OFFSET;
        InetSocketAddress other = remote != null ? remote
                : new InetSocketAddress(family == LinuxAbi.AF_INET ? IPV4_ANY : IPV6_ANY, 0);
        // TCP matches the source as the local end; UDP the other way round (see the class note).
        InetSocketAddress source = stream ? local : other;
        InetSocketAddress destination = stream ? other : local;
        message.set(BE_SHORT, id, (short) source.getPort());
        message.set(BE_SHORT, id + LinuxAbi.INET_DIAG_SOCKID_DPORT_OFFSET, (short) destination.getPort());
        writeAddress(message, id + LinuxAbi.INET_DIAG_SOCKID_SRC_OFFSET, family, source.getAddress());
        writeAddress(message, id + LinuxAbi.INET_DIAG_SOCKID_DST_OFFSET, family, destination.getAddress());
        message.set(JAVA_INT, id + LinuxAbi.INET_DIAG_SOCKID_COOKIE_OFFSET, -1); // INET_DIAG_NOCOOKIE
        message.set(JAVA_INT, id + LinuxAbi.INET_DIAG_SOCKID_COOKIE_OFFSET + 4, -1);
    }

    /// An address in the form the family's lookup compares: 4 bytes for AF_INET (an IPv6
    /// address cannot be asked there: the field stays zero, which only costs a miss), 16 for
    /// AF_INET6 (an IPv4 address as `::ffff:a.b.c.d`, as a dual-stack socket stores it).
    private static void writeAddress(MemorySegment message, long offset, int family, InetAddress address) {
        byte[] bytes = address.getAddress();
        if (family == LinuxAbi.AF_INET) {
            if (bytes.length == 4) {
                MemorySegment.copy(bytes, 0, message, JAVA_BYTE, offset, 4);
            }
        } else if (address instanceof Inet6Address) {
            MemorySegment.copy(bytes, 0, message, JAVA_BYTE, offset, 16);
        } else if (!address.isAnyLocalAddress()) { // the IPv4 wildcard is the IPv6 wildcard here
            message.set(JAVA_BYTE, offset + 10, (byte) 0xff);
            message.set(JAVA_BYTE, offset + 11, (byte) 0xff);
            MemorySegment.copy(bytes, 0, message, JAVA_BYTE, offset + 12, 4);
        }
    }

    /// The inode in a reply of `length` bytes to request `sequence`: positive for a socket, -1
    /// for an error reply (`ENOENT`: no such socket) or anything unexpected.
    static long decodeInode(MemorySegment reply, long length, int sequence) {
        if (length < LinuxAbi.NLMSGHDR_SIZE) {
            return -1;
        }
        int messageLength = reply.get(JAVA_INT, 0);
        int type = Short.toUnsignedInt(reply.get(JAVA_SHORT, 4));
        int replySequence = reply.get(JAVA_INT, 8);
        if (messageLength > length || replySequence != sequence || type != LinuxAbi.SOCK_DIAG_BY_FAMILY
                || messageLength < LinuxAbi.NLMSGHDR_SIZE + LinuxAbi.INET_DIAG_MSG_SIZE) {
            return -1; // NLMSG_ERROR (e.g. -ENOENT), a stale reply, or a short message
        }
        return Integer.toUnsignedLong(reply.get(JAVA_INT, LinuxAbi.NLMSGHDR_SIZE + LinuxAbi.INET_DIAG_MSG_INODE_OFFSET));
    }
}
