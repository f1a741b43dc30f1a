package io.quaver.internal.platform;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/// The fast narrowing of [SocketFdFinder] for a bound channel: the kernel's socket tables
/// (`/proc/self/net/{tcp,tcp6,udp,udp6}`, this thread's network namespace) name the inodes of
/// the sockets with a given local port (and remote port), and `/proc/self/fd` is then searched
/// for those inodes with `readlink` alone, helped by an index of earlier listings (see
/// [#locate]).
///
/// This replaces the per-descriptor system calls (`SO_TYPE`, `getsockname`, `getpeername`) of
/// the full scan for every socket of the process by one read of the tables and a `readlink`
/// per descriptor at most. It proves nothing: it only chooses which sockets the finder examines
/// and then submits to the sentinel. A socket it misses (another namespace, a table that cannot
/// be read, a port that changed meanwhile) only sends the finder to its full scan.
final class ProcNetSockets {
    private static final System.Logger LOG = System.getLogger(ProcNetSockets.class.getName());
    private static final Path PROC_SELF_NET = Path.of("/proc/self/net");
    private static final File PROC_SELF_FD_DIR = new File("/proc/self/fd");
    private static final Path PROC_SELF_FD = PROC_SELF_FD_DIR.toPath();
    /// The column of the inode in every table (after `sl`, addresses, state, queues, timer,
    /// retransmits, uid and timeout).
    private static final int INODE_COLUMN = 9;

    private ProcNetSockets() {
    }

    /// The inodes of the sockets of `socketType` (`SOCK_STREAM`, `SOCK_DGRAM`, or 0 for both)
    /// whose local port is `localPort` and remote port is `remotePort` (0: not connected), in
    /// the IPv4 and IPv6 tables. Empty if none, or if the tables cannot be read.
    static Set<Long> inodes(int socketType, int localPort, int remotePort) {
        List<String> tables = switch (socketType) {
            case LinuxAbi.SOCK_STREAM -> List.of("tcp", "tcp6");
            case LinuxAbi.SOCK_DGRAM -> List.of("udp", "udp6");
            default -> List.of("tcp", "tcp6", "udp", "udp6");
        };
        Set<Long> inodes = new HashSet<>();
        for (String table : tables) {
            Path path = PROC_SELF_NET.resolve(table);
            try (BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.US_ASCII)) {
                reader.readLine(); // the header
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    long inode = inodeIfPorts(line, localPort, remotePort);
                    if (inode > 0) {
                        inodes.add(inode);
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.DEBUG, () -> "cannot read " + path + ": " + e);
            }
        }
        return inodes;
    }

    /// The inode of a table line whose local and remote ports are the ones given, or -1 (also
    /// for a line that cannot be parsed).
    static long inodeIfPorts(String line, int localPort, int remotePort) {
        int column = 0;
        int i = 0;
        int n = line.length();
        while (i < n) {
            while (i < n && line.charAt(i) == ' ') {
                i++;
            }
            int start = i;
            while (i < n && line.charAt(i) != ' ') {
                i++;
            }
            if (start == i) {
                break;
            }
            switch (column) {
                case 1, 2 -> {
                    int colon = line.lastIndexOf(':', i - 1);
                    if (colon < start) {
                        return -1;
                    }
                    int port;
                    try {
                        port = Integer.parseInt(line, colon + 1, i, 16);
                    } catch (NumberFormatException e) {
                        return -1;
                    }
                    if (port != (column == 1 ? localPort : remotePort)) {
                        return -1;
                    }
                }
                case INODE_COLUMN -> {
                    try {
                        return Long.parseLong(line, start, i, 10);
                    } catch (NumberFormatException e) {
                        return -1;
                    }
                }
                default -> {
                    // not needed
                }
            }
            column++;
        }
        return -1;
    }

    /// What `readlink` last said about each descriptor number seen in `/proc/self/fd` (the
    /// socket inode, or -1 for anything else), and the reverse for sockets. Only hints: fd
    /// numbers are reused, so every hint is checked with `readlink` before it is returned, and
    /// the finder verifies again on its duplicate. Guarded by the class lock.
    private static final Map<Integer, Long> INODE_BY_FD = new HashMap<>();
    private static final Map<Long, Integer> FD_BY_INODE = new HashMap<>();

    /// Where the sockets `inodes` are open in this process, each at one descriptor number (any,
    /// if several share the socket); sockets not open here are left out. Entries in `skip`
    /// (duplicates the finder holds) are never returned.
    ///
    /// The cost does not grow with the number of open descriptors in the usual case: first the
    /// index of earlier listings is consulted (one `readlink` per hint, to confirm it); then up
    /// to [#FREE_NUMBER_PROBES] numbers that were free when last seen are read, lowest first;
    /// then `/proc/self/fd` is listed (no system call per entry) and only numbers not seen
    /// before are read. Only when a socket is still missing, because its number was reused since it
    /// was last read, are all known numbers read again, newest first.
    static synchronized List<SocketFdFinder.Location> locate(Set<Long> inodes, Set<Integer> skip) {
        if (inodes.isEmpty()) {
            return List.of();
        }
        Set<Long> missing = new HashSet<>(inodes);
        List<SocketFdFinder.Location> found = new ArrayList<>();
        takeConfirmed(missing, skip, found);
        if (missing.isEmpty() || probeFreeNumbers(missing, skip, found)) {
            return found;
        }
        listings++;
        String[] names = PROC_SELF_FD_DIR.list();
        if (names == null) {
            return found;
        }
        int[] fds = new int[names.length];
        int count = 0;
        for (String name : names) {
            try {
                fds[count] = Integer.parseInt(name);
                count++;
            } catch (NumberFormatException e) {
                // not a descriptor
            }
        }
        Arrays.sort(fds, 0, count);
        forgetClosed(fds, count);
        for (int k = count - 1; k >= 0; k--) { // numbers never read before
            int fd = fds[k];
            if (!skip.contains(fd) && !INODE_BY_FD.containsKey(fd)) {
                read(fd);
            }
        }
        takeConfirmed(missing, skip, found);
        for (int k = count - 1; k >= 0 && !missing.isEmpty(); k--) { // reused numbers
            int fd = fds[k];
            if (!skip.contains(fd)) {
                long inode = read(fd);
                if (inode >= 0 && missing.remove(inode)) {
                    found.add(new SocketFdFinder.Location(fd, inode));
                }
            }
        }
        return found;
    }

    /// How many times [#locate] listed `/proc/self/fd` (for tests of the probing). Class lock.
    private static long listings;

    /// How many times [#locate] has listed `/proc/self/fd` so far.
    static synchronized long listings() {
        return listings;
    }

    /// How many descriptor numbers [#probeFreeNumbers] reads at most before listing.
    static final int FREE_NUMBER_PROBES = 16;

    /// Looks for the `missing` sockets at the numbers that were free when last seen, lowest
    /// first: the kernel gives a new descriptor the lowest free number, so a socket opened since
    /// the last listing is almost always among the first few. Reads at most
    /// [#FREE_NUMBER_PROBES] numbers (one `readlink` each), none if nothing is indexed yet.
    ///
    /// @return whether every missing socket was found
    private static boolean probeFreeNumbers(Set<Long> missing, Set<Integer> skip, List<SocketFdFinder.Location> found) {
        if (INODE_BY_FD.isEmpty()) {
            return false;
        }
        int probes = 0;
        for (int fd = 0; probes < FREE_NUMBER_PROBES && !missing.isEmpty(); fd++) {
            if (INODE_BY_FD.containsKey(fd) || skip.contains(fd)) {
                continue;
            }
            probes++;
            long inode = read(fd);
            if (inode >= 0 && missing.remove(inode)) {
                found.add(new SocketFdFinder.Location(fd, inode));
            }
        }
        return missing.isEmpty();
    }

    /// Forgets everything indexed (for measurements of the cold path).
    static synchronized void clearIndex() {
        INODE_BY_FD.clear();
        FD_BY_INODE.clear();
    }

    /// Moves from `missing` to `found` every inode whose indexed number `readlink` confirms.
    private static void takeConfirmed(Set<Long> missing, Set<Integer> skip, List<SocketFdFinder.Location> found) {
        for (Iterator<Long> it = missing.iterator(); it.hasNext(); ) {
            long inode = it.next();
            Integer fd = FD_BY_INODE.get(inode);
            if (fd != null && !skip.contains(fd) && read(fd) == inode) {
                found.add(new SocketFdFinder.Location(fd, inode));
                it.remove();
            }
        }
    }

    /// Reads `fd`'s link and records it; a number that is not open is forgotten rather than
    /// recorded (the listing's own directory descriptor, closed by the time it is read, must stay
    /// a free number for [#probeFreeNumbers]).
    ///
    /// @return the socket inode, or -1 (not a socket, or not open)
    private static long read(int fd) {
        Path link = PROC_SELF_FD.resolve(Integer.toString(fd));
        long inode = SocketFdFinder.socketInode(link);
        Long previous;
        if (inode < 0 && !Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
            previous = INODE_BY_FD.remove(fd);
        } else {
            previous = INODE_BY_FD.put(fd, inode);
        }
        if (previous != null && previous >= 0 && previous != inode) {
            FD_BY_INODE.remove(previous, fd);
        }
        if (inode >= 0) {
            FD_BY_INODE.put(inode, fd);
        }
        return inode;
    }

    /// Drops the numbers that are not in the sorted listing `fds[0..count)`.
    private static void forgetClosed(int[] fds, int count) {
        for (Iterator<Map.Entry<Integer, Long>> it = INODE_BY_FD.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Integer, Long> entry = it.next();
            if (Arrays.binarySearch(fds, 0, count, entry.getKey()) < 0) {
                if (entry.getValue() >= 0) {
                    FD_BY_INODE.remove(entry.getValue(), entry.getKey());
                }
                it.remove();
            }
        }
    }
}
