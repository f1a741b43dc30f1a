package io.quaver;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/// The one table that maps traffic types to marks (decisions.md §2 item 4), and the
/// non-conformant marks used for traffic beyond a flow's rate. An administrator may override
/// it through the subsystem's options (embedded) or the daemon's policy file.
public record MarkingPolicy(Map<TrafficType, Marks> byType, Marks nonConformant) {

    /// qWAVE's documented table: BestEffort none; Background 0x08/2; ExcellentEffort and
    /// AudioVideo 0x28/5; Voice and Control 0x38/7. Non-conformant traffic: DSCP 0, 802.1p 0.
    public static final MarkingPolicy QWAVE_DEFAULT = new MarkingPolicy(Map.of(
            TrafficType.BEST_EFFORT, new Marks(0, 0),
            TrafficType.BACKGROUND, new Marks(0x08, 2),
            TrafficType.EXCELLENT_EFFORT, new Marks(0x28, 5),
            TrafficType.AUDIO_VIDEO, new Marks(0x28, 5),
            TrafficType.VOICE, new Marks(0x38, 7),
            TrafficType.CONTROL, new Marks(0x38, 7)), Marks.NONE);

    public MarkingPolicy {
        Objects.requireNonNull(byType, "byType");
        Objects.requireNonNull(nonConformant, "nonConformant");
        EnumMap<TrafficType, Marks> copy = new EnumMap<>(TrafficType.class);
        copy.putAll(byType);
        for (TrafficType t : TrafficType.values()) {
            if (!copy.containsKey(t)) {
                throw new QosException(QosError.INVALID_PARAMETER, "marking policy has no marks for " + t);
            }
        }
        byType = Map.copyOf(copy);
    }

    /// The marks of a traffic type.
    public Marks marks(TrafficType type) {
        return byType.get(type);
    }

    /// A copy with one traffic type's marks replaced.
    public MarkingPolicy with(TrafficType type, Marks marks) {
        EnumMap<TrafficType, Marks> copy = new EnumMap<>(byType);
        copy.put(type, marks);
        return new MarkingPolicy(copy, nonConformant);
    }
}
