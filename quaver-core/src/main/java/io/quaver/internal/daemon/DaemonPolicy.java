package io.quaver.internal.daemon;

import io.quaver.MarkingPolicy;
import io.quaver.Marks;
import io.quaver.QosError;
import io.quaver.QosException;
import io.quaver.TrafficType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/// The daemon's host-wide policy, from a file of `key = value` lines (`#` starts a comment):
///
/// ```
/// marks.audio_video = 46/5        # DSCP/802.1p for a traffic type
/// marks.non_conformant = 0/0      # datagrams beyond a flow's rate (USE_NON_CONFORMANT_MARKINGS)
/// off-link-experiments = false    # probe destinations beyond the local link
/// privileged-users = root, media  # users whose handles are privileged (peer credentials)
/// privileged-groups = netadmin    # groups whose handles are privileged
/// tracking-grace-seconds = 60     # tracking kept after the last handle that started it
/// ```
///
/// Types not named keep qWAVE's marks. Unknown keys, bad values and repeated keys are errors
/// naming the file and line.
///
/// @param marks              the traffic-type → marks table every handle gets
/// @param offLinkExperiments whether probing experiments towards off-link destinations run
/// @param privilegedUsers    user names whose connections are privileged
/// @param privilegedGroups   group names whose connections are privileged
/// @param trackingGrace      the grace period of tracked clients
public record DaemonPolicy(MarkingPolicy marks, boolean offLinkExperiments, Set<String> privilegedUsers,
                           Set<String> privilegedGroups, Duration trackingGrace) {
    public DaemonPolicy {
        privilegedUsers = Set.copyOf(privilegedUsers);
        privilegedGroups = Set.copyOf(privilegedGroups);
    }

    /// qWAVE's marks, on-link experiments only, `root` privileged, 60 s grace.
    public static DaemonPolicy defaults() {
        return new DaemonPolicy(MarkingPolicy.QWAVE_DEFAULT, false, Set.of("root"), Set.of(), Duration.ofSeconds(60));
    }

    /// Whether a connection of this user and group is privileged.
    public boolean isPrivileged(String user, String group) {
        return privilegedUsers.contains(user) || (group != null && privilegedGroups.contains(group));
    }

    /// Reads a policy file.
    ///
    /// @throws QosException `INVALID_PARAMETER` naming the file and line of the first error, or
    ///         `NOT_FOUND` when the file cannot be read
    public static DaemonPolicy parse(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new QosException(QosError.NOT_FOUND, "cannot read policy file " + file + ": " + e.getMessage());
        }
        DaemonPolicy p = defaults();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + ":" + (i + 1) + ": ";
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw bad(where + "expected key = value, got '" + line + "'");
            }
            String key = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(eq + 1).strip();
            if (!seen.add(key)) {
                throw bad(where + "'" + key + "' is set twice");
            }
            p = p.with(key, value, where);
        }
        return p;
    }

    private DaemonPolicy with(String key, String value, String where) {
        if (key.startsWith("marks.")) {
            String name = key.substring("marks.".length());
            Marks m = parseMarks(value, where + key);
            if (name.equals("non_conformant")) {
                return new DaemonPolicy(new MarkingPolicy(marks.byType(), m), offLinkExperiments, privilegedUsers,
                        privilegedGroups, trackingGrace);
            }
            TrafficType type;
            try {
                type = TrafficType.valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw bad(where + "unknown traffic type '" + name + "' (best_effort, background, excellent_effort,"
                        + " audio_video, voice, control, non_conformant)");
            }
            return new DaemonPolicy(marks.with(type, m), offLinkExperiments, privilegedUsers, privilegedGroups,
                    trackingGrace);
        }
        return switch (key) {
            case "off-link-experiments" -> new DaemonPolicy(marks, parseBoolean(value, where + key), privilegedUsers,
                    privilegedGroups, trackingGrace);
            case "privileged-users" -> new DaemonPolicy(marks, offLinkExperiments, names(value), privilegedGroups,
                    trackingGrace);
            case "privileged-groups" -> new DaemonPolicy(marks, offLinkExperiments, privilegedUsers, names(value),
                    trackingGrace);
            case "tracking-grace-seconds" -> new DaemonPolicy(marks, offLinkExperiments, privilegedUsers,
                    privilegedGroups, Duration.ofSeconds(parseLong(value, 0, 86_400, where + key)));
            default -> throw bad(where + "unknown key '" + key + "' (marks.TYPE, off-link-experiments,"
                    + " privileged-users, privileged-groups, tracking-grace-seconds)");
        };
    }

    private static Marks parseMarks(String value, String what) {
        String[] parts = value.split("/", -1);
        if (parts.length > 2) {
            throw bad(what + ": expected DSCP/802.1p (e.g. 46/6), got '" + value + "'");
        }
        int dscp = (int) parseLong(parts[0].strip(), 0, 63, what + " DSCP");
        int up = parts.length == 2 ? (int) parseLong(parts[1].strip(), 0, 7, what + " 802.1p priority") : 0;
        return new Marks(dscp, up);
    }

    private static boolean parseBoolean(String value, String what) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw bad(what + ": expected true or false, got '" + value + "'");
        };
    }

    private static long parseLong(String value, long min, long max, String what) {
        try {
            long v = Long.parseLong(value);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw bad(what + ": expected a number " + min + ".." + max + ", got '" + value + "'");
    }

    private static Set<String> names(String value) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : value.split(",")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return out;
    }

    private static QosException bad(String message) {
        return new QosException(QosError.INVALID_PARAMETER, message);
    }
}
