package io.quaver.benchmarks;

import com.google.common.util.concurrent.RateLimiter;
import io.github.bucket4j.Bucket;
import io.quaver.FlowMode;
import io.quaver.OutgoingRate;
import io.quaver.QosFlow;
import io.quaver.QosOptions;
import io.quaver.QosSubsystem;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import io.quaver.internal.shaping.GcraShaper;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/// The cost of one pacing decision (goal G13): Quaver's GCRA `reserve` and `tryConsume`, Guava
/// `RateLimiter.tryAcquire` and Bucket4j `tryConsume`, each with its clock read, at a rate high
/// enough that nobody ever waits; run with 1 and 2 threads sharing one limiter. Against them: a
/// raw connected `DatagramChannel.write` of 1,200 bytes on loopback, and the same through
/// `QosFlow.send` with no rate and with a (never binding) rate, which is the send path's whole
/// per-datagram overhead.
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PacingDecisionBenchmark {

    /// Limiters shared by all benchmark threads (contention with 2 threads).
    @State(Scope.Benchmark)
    public static class Limiters {
        GcraShaper gcra;
        RateLimiter guava;
        Bucket bucket;

        @Setup
        public void setUp() {
            gcra = new GcraShaper(1_000_000_000_000L, 1_000_000, System.nanoTime()); // 1 Tbit/s: never waits
            guava = RateLimiter.create(1e12);
            bucket = Bucket.builder().addLimit(l -> l.capacity(1_000_000_000L).refillGreedy(1_000_000_000L,
                    Duration.ofSeconds(1))).build();
        }
    }

    /// A connected UDP socket per thread to a loopback port nobody reads (the kernel drops at
    /// the receiver's buffer; the send cost is the same).
    @State(Scope.Thread)
    public static class Socket {
        DatagramChannel sink;
        DatagramChannel tx;
        ByteBuffer payload = ByteBuffer.allocateDirect(1200);
        QosSubsystem qos;
        QosFlow unshaped;
        QosFlow paced;
        DatagramChannel tx2;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            sink = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            tx = DatagramChannel.open().connect(sink.getLocalAddress());
            tx2 = DatagramChannel.open().connect(sink.getLocalAddress());
            qos = QosSubsystem.open(QosOptions.defaults().withKernelShaping(false));
            unshaped = qos.addFlow(tx, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
            paced = qos.addFlow(tx2, null, TrafficType.BEST_EFFORT, FlowMode.NON_ADAPTIVE);
            paced.setOutgoingRate(OutgoingRate.of(1_000_000_000_000L, Shaping.SHAPE_ONLY));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            qos.close();
            tx.close();
            tx2.close();
            sink.close();
        }
    }

    @Benchmark
    public long quaverReserve(Limiters l) {
        return l.gcra.reserve(System.nanoTime(), 1228);
    }

    @Benchmark
    public boolean quaverTryConsume(Limiters l) {
        return l.gcra.tryConsume(System.nanoTime(), 1228);
    }

    @Benchmark
    public boolean guavaTryAcquire(Limiters l) {
        return l.guava.tryAcquire(1228);
    }

    @Benchmark
    public boolean bucket4jTryConsume(Limiters l) {
        return l.bucket.tryConsume(1228);
    }

    @Benchmark
    public int rawSend(Socket s) throws IOException {
        s.payload.clear();
        return s.tx.write(s.payload);
    }

    @Benchmark
    public int flowSendUnshaped(Socket s) {
        s.payload.clear();
        return s.unshaped.send(s.payload);
    }

    @Benchmark
    public int flowSendPaced(Socket s) {
        s.payload.clear();
        return s.paced.send(s.payload);
    }
}
