package io.quaver.testkit;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/// Counters of the root qdisc of an interface, from `tc -s -j qdisc show`. Bytes are counted as the
/// qdisc counts them (L2 frames, see [Shaper]).
///
/// @param kind           qdisc kind (`tbf`, `htb`, `noqueue`…)
/// @param sentBytes      bytes dequeued to the device
/// @param sentPackets    packets dequeued to the device
/// @param droppedPackets packets dropped by the qdisc
/// @param overlimits     times the qdisc throttled
/// @param backlogBytes   bytes queued now
/// @param backlogPackets packets queued now
public record QdiscStats(String kind, long sentBytes, long sentPackets, long droppedPackets, long overlimits,
        long backlogBytes, long backlogPackets) {

    /// Parses the first (root) qdisc of `tc -s -j qdisc show dev X` output.
    static QdiscStats parseJson(String json) {
        String first = firstObject(json);
        return new QdiscStats(string(first, "kind"), number(first, "bytes"), number(first, "packets"),
                number(first, "drops"), number(first, "overlimits"), number(first, "backlog"), number(first, "qlen"));
    }

    /// The first top-level object of a JSON array (no strings in tc output contain braces).
    private static String firstObject(String json) {
        int start = json.indexOf('{');
        if (start < 0) {
            throw new IllegalArgumentException("no qdisc in tc output: " + json);
        }
        int depth = 0;
        for (int i = start; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return json.substring(start, i + 1);
            }
        }
        throw new IllegalArgumentException("truncated tc output: " + json);
    }

    private static long number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private static String string(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : "";
    }
}
