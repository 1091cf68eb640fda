package io.turnpike.config.etcd.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Counts this JVM's established TCP connections to given remote ports, from the kernel's tables rather than from any
 * counter in our code: the socket inodes behind {@code /proc/self/fd}, matched against {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6} rows in state {@code 01} (ESTABLISHED). Linux only.
 */
public final class Sockets {

    private Sockets() {
    }

    /** Established connections from this process to any of {@code remotePorts}. */
    public static int establishedTo(Set<Integer> remotePorts) {
        Set<String> inodes = ownSocketInodes();
        int n = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Paths.get(table));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                if (f.length < 10 || !"01".equals(f[3])) {
                    continue;
                }
                int remotePort = Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16);
                if (remotePorts.contains(remotePort) && inodes.contains(f[9])) {
                    n++;
                }
            }
        }
        return n;
    }

    private static Set<String> ownSocketInodes() {
        Set<String> out = new HashSet<>();
        try (Stream<Path> fds = Files.list(Paths.get("/proc/self/fd"))) {
            fds.forEach(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        out.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException ignored) {
                    // fd closed meanwhile
                }
            });
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/fd (Linux only): " + e, e);
        }
        return out;
    }
}
