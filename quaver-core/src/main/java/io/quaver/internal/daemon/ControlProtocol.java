package io.quaver.internal.daemon;

import io.quaver.Enforcement;
import io.quaver.FlowFundamentals;
import io.quaver.FlowInfo;
import io.quaver.FlowMode;
import io.quaver.FlowRateReason;
import io.quaver.MarkingPolicy;
import io.quaver.Marks;
import io.quaver.OutgoingRate;
import io.quaver.PacketPriority;
import io.quaver.QosException;
import io.quaver.QosMetrics;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.internal.Engine;

import java.io.EOFException;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.OptionalLong;

/// The daemon's control protocol (docs/daemon-protocol.md): length-prefixed frames over a
/// UNIX-domain stream socket. A frame is `u32 length` (of what follows, at most
/// [#MAX_FRAME_BYTES]), `u8 type`, `u32 request id`, then the body. Requests get exactly one
/// [#OK] or [#ERROR] with the same id; a notification request's outcome arrives later as
/// [#NOTIFIED] with the id of the request.
public final class ControlProtocol {
    /// The one version this build speaks; HELLO with any other is refused.
    public static final int VERSION = 1;
    /// The largest frame accepted (length field value).
    public static final int MAX_FRAME_BYTES = 1 << 20;

    static final int HELLO = 1;
    static final int ADD_FLOW = 2;
    static final int ADD_SOCKET = 3;
    static final int REMOVE = 4;
    static final int SET_TYPE = 5;
    static final int SET_DSCP = 6;
    static final int SET_RATE = 7;
    static final int FUNDAMENTALS = 8;
    static final int NOTIFY = 9;
    static final int CANCEL = 10;
    static final int DESCRIBE = 11;
    static final int ENUMERATE = 12;
    static final int START_TRACKING = 13;
    static final int STOP_TRACKING = 14;
    static final int METRICS = 15;
    /// The client's count of IP-level bytes sent through a flow's send path (the dashboard's
    /// actual rate); optional, answered `OK` with no body.
    static final int SENT = 16;
    /// The current marks of a flow (after [#MARKS_CHANGED]).
    static final int GET_MARKS = 17;
    static final int OK = 64;
    static final int ERROR = 65;
    static final int NOTIFIED = 66;
    /// Daemon to client, request id 0: a flow's marks changed on the daemon's initiative (a
    /// route-check result); the client asks for them with [#GET_MARKS].
    static final int MARKS_CHANGED = 67;

    private ControlProtocol() {
    }

    /// One decoded frame.
    record Frame(int type, int requestId, ByteBuffer body) {
        Wire.Reader reader() {
            return new Wire.Reader(body.duplicate());
        }
    }

    /// Reads one frame (blocking).
    ///
    /// @throws EOFException        at a clean end of stream between frames
    /// @throws Wire.Malformed      for a length out of bounds (the stream cannot be resynchronised)
    static Frame read(ReadableByteChannel ch) throws IOException, Wire.Malformed {
        ByteBuffer head = ByteBuffer.allocate(4);
        if (!fill(ch, head, true)) {
            throw new EOFException();
        }
        int length = head.flip().getInt();
        if (length < 5 || length > MAX_FRAME_BYTES) {
            throw new Wire.Malformed("frame length " + Integer.toUnsignedString(length) + " out of bounds 5.."
                    + MAX_FRAME_BYTES);
        }
        ByteBuffer rest = ByteBuffer.allocate(length);
        fill(ch, rest, false);
        rest.flip();
        int type = rest.get() & 0xFF;
        int id = rest.getInt();
        return new Frame(type, id, rest.slice());
    }

    private static boolean fill(ReadableByteChannel ch, ByteBuffer b, boolean eofAllowedAtStart) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b);
            if (n < 0) {
                if (eofAllowedAtStart && b.position() == 0) {
                    return false;
                }
                throw new EOFException("connection closed inside a frame");
            }
        }
        return true;
    }

    /// Encodes one frame.
    static ByteBuffer frame(int type, int requestId, Wire.Writer body) {
        int n = body == null ? 0 : body.length();
        ByteBuffer b = ByteBuffer.allocate(4 + 5 + n);
        b.putInt(5 + n).put((byte) type).putInt(requestId);
        if (body != null) {
            b.put(body.bytes());
        }
        return b.flip();
    }

    /// Writes a whole frame (the caller serialises writers).
    static void write(WritableByteChannel ch, ByteBuffer frame) throws IOException {
        while (frame.hasRemaining()) {
            ch.write(frame);
        }
    }

    // ------------------------------------------------------------------ values

    static void marks(Wire.Writer w, Marks m) {
        w.u8(m.dscp()).u8(m.userPriority());
    }

    static Marks marks(Wire.Reader r) throws Wire.Malformed {
        int dscp = r.u8();
        int up = r.u8();
        if (dscp > 63 || up > 7) {
            throw new Wire.Malformed("bad marks " + dscp + "/" + up);
        }
        return new Marks(dscp, up);
    }

    static void policy(Wire.Writer w, MarkingPolicy p) {
        for (TrafficType t : TrafficType.values()) {
            marks(w, p.marks(t));
        }
        marks(w, p.nonConformant());
    }

    static MarkingPolicy policy(Wire.Reader r) throws Wire.Malformed {
        EnumMap<TrafficType, Marks> map = new EnumMap<>(TrafficType.class);
        for (TrafficType t : TrafficType.values()) {
            map.put(t, marks(r));
        }
        return new MarkingPolicy(map, marks(r));
    }

    static void flowMarks(Wire.Writer w, Engine.FlowMarks m) {
        w.bool(m.marks() != null);
        marks(w, m.marks() == null ? Marks.NONE : m.marks());
        w.bool(m.l2Tagging());
    }

    static Engine.FlowMarks flowMarks(Wire.Reader r) throws Wire.Malformed {
        boolean present = r.bool();
        Marks m = marks(r);
        return new Engine.FlowMarks(present ? m : null, r.bool());
    }

    static void rate(Wire.Writer w, OutgoingRate rate) {
        w.bool(rate != null);
        if (rate != null) {
            w.i64(rate.bandwidthBps()).u8(rate.shaping().ordinal()).u8(rate.reason().ordinal());
        }
    }

    static OutgoingRate rate(Wire.Reader r) throws Wire.Malformed {
        if (!r.bool()) {
            return null;
        }
        long bps = r.i64();
        Shaping shaping = r.enumOf(Shaping.class);
        FlowRateReason reason = r.enumOf(FlowRateReason.class);
        try {
            return new OutgoingRate(bps, shaping, reason);
        } catch (QosException e) {
            throw new Wire.Malformed("bad rate: " + e.getMessage());
        }
    }

    static void flowInfo(Wire.Writer w, FlowInfo f) {
        w.i32(f.flowId()).u8(f.mode().ordinal()).u8(f.trafficType().ordinal()).i32(f.explicitDscp());
        PacketPriority p = f.applied();
        w.u8(p.conformantDscp()).u8(p.nonConformantDscp()).u8(p.conformantL2()).u8(p.nonConformantL2());
        rate(w, f.rate());
        w.u16(f.members().size());
        for (FlowInfo.Member m : f.members()) {
            w.str(m.protocol()).addr(m.local()).addr(m.destination()).bool(m.open());
        }
        w.u8(f.enforcement().ordinal());
    }

    static FlowInfo flowInfo(Wire.Reader r) throws Wire.Malformed {
        int id = r.i32();
        FlowMode mode = r.enumOf(FlowMode.class);
        TrafficType type = r.enumOf(TrafficType.class);
        int explicit = r.i32();
        PacketPriority p = new PacketPriority(r.u8(), r.u8(), r.u8(), r.u8());
        OutgoingRate rate = rate(r);
        int n = r.u16();
        List<FlowInfo.Member> members = new ArrayList<>(Math.min(n, 64));
        for (int i = 0; i < n; i++) {
            members.add(new FlowInfo.Member(r.str(), r.addr(), r.addr(), r.bool()));
        }
        Enforcement enforcement = r.enumOf(Enforcement.class);
        if (explicit < -1 || explicit > 63) {
            throw new Wire.Malformed("bad explicit DSCP " + explicit);
        }
        return new FlowInfo(id, mode, type, explicit, p, rate, members, enforcement);
    }

    static void flowRow(Wire.Writer w, DaemonFlow f) {
        flowInfo(w, f.info());
        w.i64(f.bottleneckBps()).i64(f.availableBps()).str(f.owner());
    }

    static DaemonFlow flowRow(Wire.Reader r) throws Wire.Malformed {
        return new DaemonFlow(flowInfo(r), r.i64(), r.i64(), r.str());
    }

    private static void optional(Wire.Writer w, OptionalLong v) {
        w.i64(v.orElse(-1));
    }

    private static OptionalLong optional(Wire.Reader r) throws Wire.Malformed {
        long v = r.i64();
        return v < 0 ? OptionalLong.empty() : OptionalLong.of(v);
    }

    static void fundamentals(Wire.Writer w, FlowFundamentals f) {
        optional(w, f.bottleneckBps());
        optional(w, f.availableBps());
        optional(w, f.rttUs());
        w.u8(f.source().ordinal());
        optional(w, f.burstAllowanceBytes());
        optional(w, f.burstAtLeastBytes());
    }

    static FlowFundamentals fundamentals(Wire.Reader r) throws Wire.Malformed {
        return new FlowFundamentals(optional(r), optional(r), optional(r), r.enumOf(FlowFundamentals.Source.class),
                optional(r), optional(r));
    }

    private static final RecordComponent[] METRIC_FIELDS = QosMetrics.class.getRecordComponents();

    static void metrics(Wire.Writer w, QosMetrics m) {
        w.u8(METRIC_FIELDS.length);
        for (RecordComponent c : METRIC_FIELDS) {
            try {
                w.i64((long) c.getAccessor().invoke(m));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static QosMetrics metrics(Wire.Reader r) throws Wire.Malformed {
        int n = r.u8();
        if (n != METRIC_FIELDS.length) {
            throw new Wire.Malformed("metrics of " + n + " values, expected " + METRIC_FIELDS.length);
        }
        Object[] values = new Object[n];
        for (int i = 0; i < n; i++) {
            values[i] = r.i64();
        }
        Class<?>[] types = new Class<?>[n];
        java.util.Arrays.fill(types, long.class);
        try {
            return QosMetrics.class.getDeclaredConstructor(types).newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
