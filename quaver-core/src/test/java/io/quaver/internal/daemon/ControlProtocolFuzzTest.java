package io.quaver.internal.daemon;

import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosFlow;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/// The control protocol's decoders and the daemon under random and mutated frames (seeded, so
/// a failure replays): decoders fail only with [Wire.Malformed], the daemon answers every
/// well-framed request (OK or ERROR), hangs up on a bad frame length, and keeps serving.
class ControlProtocolFuzzTest {
    private static final long SEED = 0x5156_2177L;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;
    private DaemonFixture fx;

    @BeforeEach
    void setUp() {
        fx = new DaemonFixture(dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    /// Valid request frames to mutate (bodies only; the type is kept or replaced).
    private static List<Wire.Writer> templates(InetSocketAddress dest) {
        Wire.Writer rate = new Wire.Writer().i32(1);
        ControlProtocol.rate(rate, OutgoingRate.of(1_000_000, Shaping.SHAPE_AND_MARK));
        return List.of(
                new Wire.Writer().i32(1).bool(false).addr(dest).u8(3).u8(0),
                new Wire.Writer().i32(1).bool(false).addr(dest).u8(4).u8(1),
                new Wire.Writer().i32(1).i32(2).bool(false).addr(dest),
                new Wire.Writer().i32(1).i32(-1),
                new Wire.Writer().i32(1).u8(4),
                new Wire.Writer().i32(1).u8(46),
                rate,
                new Wire.Writer().i32(1).bool(false),
                new Wire.Writer().i32(1).u8(0).i64(0),
                new Wire.Writer().i32(1).u8(2).i64(5_000_000),
                new Wire.Writer().i32(3),
                new Wire.Writer().i32(1),
                new Wire.Writer(),
                new Wire.Writer().addr(new InetSocketAddress(LOOPBACK, 0)),
                new Wire.Writer().i32(1).i64(125_000));
    }

    private static byte[] mutate(byte[] in, Random rnd) {
        byte[] b = in;
        int edits = 1 + rnd.nextInt(3);
        for (int i = 0; i < edits; i++) {
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    if (b.length > 0) {
                        b = b.clone();
                        b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                }
                case 1 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1)); // truncate
                case 2 -> {
                    byte[] longer = Arrays.copyOf(b, b.length + 1 + rnd.nextInt(8));
                    for (int j = b.length; j < longer.length; j++) {
                        longer[j] = (byte) rnd.nextInt(256);
                    }
                    b = longer;
                }
                default -> {
                    if (b.length > 0) {
                        b = b.clone();
                        b[rnd.nextInt(b.length)] = (byte) (rnd.nextBoolean() ? 0xFF : 0x00);
                    }
                }
            }
        }
        return b;
    }

    private static Wire.Writer raw(byte[] bytes) {
        Wire.Writer w = new Wire.Writer();
        for (byte x : bytes) {
            w.u8(x);
        }
        return w;
    }

    private static byte[] frameBytes(int type, int id, byte[] body) {
        ByteBuffer f = ControlProtocol.frame(type, id, raw(body));
        byte[] out = new byte[f.remaining()];
        f.get(out);
        return out;
    }

    /// Every body decoder on a body: only `Malformed` may come out.
    private static int decodeAll(ControlProtocol.Frame f) {
        int decoded = 0;
        List<DaemonClient.Decoder<?>> decoders = List.of(ControlProtocol::flowInfo, ControlProtocol::flowRow,
                ControlProtocol::policy, ControlProtocol::metrics, ControlProtocol::fundamentals,
                ControlProtocol::rate, ControlProtocol::flowMarks, ControlProtocol::marks,
                DaemonClient::remoteError, Wire.Reader::addr, Wire.Reader::str, r -> r.enumOf(TrafficType.class));
        for (DaemonClient.Decoder<?> d : decoders) {
            try {
                Wire.Reader r = f.reader();
                d.decode(r);
                r.end();
                decoded++;
            } catch (Wire.Malformed expected) {
                // rejected cleanly
            }
        }
        return decoded;
    }

    @Test
    void theDecodersRejectRandomAndMutatedInputOnlyWithMalformed() throws Exception {
        Random rnd = new Random(SEED);
        List<byte[]> valid = new ArrayList<>();
        for (Wire.Writer w : templates(new InetSocketAddress(LOOPBACK, 5004))) {
            valid.add(frameBytes(ControlProtocol.ADD_FLOW, 1, w.bytes()));
        }
        Wire.Writer info = new Wire.Writer();
        ControlProtocol.policy(info, io.quaver.MarkingPolicy.QWAVE_DEFAULT);
        valid.add(frameBytes(ControlProtocol.OK, 2, info.bytes()));
        int frames = 0;
        int malformed = 0;
        int decodedBodies = 0;
        for (int i = 0; i < 4000; i++) {
            byte[] input;
            if (i % 3 == 0) {
                input = new byte[rnd.nextInt(80)];
                rnd.nextBytes(input);
            } else {
                input = mutate(valid.get(rnd.nextInt(valid.size())), rnd);
            }
            ReadableByteChannel ch = Channels.newChannel(new ByteArrayInputStream(input));
            try {
                while (true) {
                    ControlProtocol.Frame f = ControlProtocol.read(ch);
                    frames++;
                    assertThat(f.body().remaining()).isLessThanOrEqualTo(ControlProtocol.MAX_FRAME_BYTES);
                    decodedBodies += decodeAll(f);
                }
            } catch (EOFException end) {
                // the input ended
            } catch (Wire.Malformed e) {
                malformed++;
            }
        }
        assertThat(frames).as("frames that decoded").isPositive();
        assertThat(malformed).as("inputs rejected by length").isPositive();
        assertThat(decodedBodies).as("bodies some decoder accepted").isPositive();
    }

    @Test
    void theDaemonAnswersEveryFuzzedRequestAndKeepsServing() throws Exception {
        fx.start();
        fx.confineProbers();
        DatagramChannel receiver = fx.later(DatagramChannel.open().bind(new InetSocketAddress(LOOPBACK, 0)));
        InetSocketAddress dest = (InetSocketAddress) receiver.getLocalAddress();
        List<Wire.Writer> templates = templates(dest);
        Random rnd = new Random(SEED);
        int sent = 0;
        for (int conn = 0; conn < 4; conn++) {
            try (SocketChannel ch = SocketChannel.open(java.net.UnixDomainSocketAddress.of(fx.socket))) {
                DaemonFixture.send(ch, ControlProtocol.HELLO, 0, DaemonFixture.hello(ControlProtocol.VERSION));
                assertThat(DaemonFixture.read(ch).type()).isEqualTo(ControlProtocol.OK);
                Set<Integer> answered = ConcurrentHashMap.newKeySet();
                Thread drain = Thread.ofVirtual().start(() -> {
                    try {
                        while (true) {
                            ControlProtocol.Frame f = ControlProtocol.read(ch);
                            if (f.type() == ControlProtocol.OK || f.type() == ControlProtocol.ERROR) {
                                answered.add(f.requestId());
                            }
                        }
                    } catch (Exception end) {
                        // the daemon hung up
                    }
                });
                int n = 750;
                for (int id = 1; id <= n; id++) {
                    int type = 2 + rnd.nextInt(ControlProtocol.GET_MARKS - 1); // the request types after HELLO
                    byte[] body;
                    if (rnd.nextInt(4) == 0) {
                        body = new byte[rnd.nextInt(40)];
                        rnd.nextBytes(body);
                        if (rnd.nextInt(8) == 0) {
                            type = rnd.nextInt(256);
                        }
                    } else {
                        body = mutate(templates.get(rnd.nextInt(templates.size())).bytes(), rnd);
                    }
                    ControlProtocol.write(ch, ControlProtocol.frame(type, id, raw(body)));
                    sent++;
                }
                if (conn == 3) {
                    ByteBuffer bad = ByteBuffer.allocate(9).putInt(ControlProtocol.MAX_FRAME_BYTES + 1)
                            .put((byte) ControlProtocol.METRICS).putInt(n + 1).flip();
                    ControlProtocol.write(ch, bad); // a length out of bounds: the daemon hangs up
                } else {
                    ch.shutdownOutput();
                }
                drain.join();
                for (int id = 1; id <= n; id++) {
                    assertThat(answered).as("request " + id + " of connection " + conn).contains(id);
                }
            }
        }
        assertThat(sent).isEqualTo(3000);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while ((fx.daemon.connectionCount() > 0 || fx.daemon.hostEngine().liveFlowCount() > 0)
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(fx.daemon.hostEngine().liveFlowCount()).isZero();
        DatagramChannel ch = fx.later(DatagramChannel.open());
        ch.connect(dest);
        QosFlow flow = fx.handle().addFlow(ch, null, TrafficType.VOICE, FlowMode.NON_ADAPTIVE);
        assertThat(flow.info().trafficType()).isEqualTo(TrafficType.VOICE);
        assertThat(fx.daemon.metrics().flowsActive()).isEqualTo(1);
    }
}
