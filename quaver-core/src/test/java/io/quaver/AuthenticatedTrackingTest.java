package io.quaver;

import io.quaver.internal.Engine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// Optional handshake authentication end to end: a sink with a secret tracks only initiators
/// with the same secret; everything else fails tracking with 1232 (the sink does not answer)
/// and is counted by the sink. Without a secret on the sink, plain and authenticated
/// initiators both work.
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthenticatedTrackingTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final SharedSecret SECRET = SharedSecret.of("a-secret-of-the-test-bed".getBytes(
            StandardCharsets.US_ASCII));
    private static final SharedSecret WRONG = SharedSecret.of("not-the-secret-of-the-bed".getBytes(
            StandardCharsets.US_ASCII));
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
        assertThat(TrackingTest.eventually(() -> Engine.embedded().tracking().entryCount() == 0)).isTrue();
    }

    private <T extends AutoCloseable> T later(T c) {
        closeables.add(c);
        return c;
    }

    private QosSink sink(SharedSecret secret) {
        return later(QosSink.start(SinkOptions.defaults().withBindAddress(LOOPBACK).withPort(0).withSecret(secret)));
    }

    private QosSubsystem handle(int sinkPort, SharedSecret secret) {
        return later(QosSubsystem.open(QosOptions.defaults().withPrivileged(false).withSinkPort(sinkPort)
                .withTrackingGracePeriod(Duration.ZERO).withProbeSecret(secret)));
    }

    private static InetSocketAddress client() {
        return new InetSocketAddress(LOOPBACK, 0);
    }

    @Test
    void theSameSecretOnBothSidesTracks() {
        QosSink sink = sink(SECRET);
        QosSubsystem qos = handle(sink.port(), SECRET);
        qos.startTrackingClient(client());
        assertThat(Engine.embedded().tracking().trackedCount()).isEqualTo(1);
        assertThat(sink.stats().authFailures()).isZero();
        qos.stopTrackingClient(client());
    }

    @Test
    void noSecretOrAWrongOneFailsWith1232AndIsCountedBySink() {
        QosSink sink = sink(SECRET);
        for (SharedSecret initiatorSecret : new SharedSecret[] {null, WRONG}) {
            QosSubsystem qos = handle(sink.port(), initiatorSecret);
            long before = sink.stats().authFailures();
            assertThatThrownBy(() -> qos.startTrackingClient(client())).isInstanceOfSatisfying(QosException.class,
                    e -> assertThat(e.error()).isEqualTo(QosError.HOST_UNREACHABLE));
            assertThat(sink.stats().authFailures()).as("secret " + initiatorSecret).isGreaterThan(before);
            assertThat(sink.stats().packetPairTrains()).isZero();
            assertThat(Engine.embedded().tracking().trackedCount()).isZero();
        }
    }

    @Test
    void aSinkWithoutSecretServesPlainAndAuthenticatedInitiators() {
        QosSink sink = sink(null);
        QosSubsystem authenticated = handle(sink.port(), SECRET);
        authenticated.startTrackingClient(client());
        authenticated.stopTrackingClient(client());
        QosSubsystem plain = handle(sink.port(), null);
        plain.startTrackingClient(client());
        plain.stopTrackingClient(client());
        assertThat(sink.stats().authFailures()).isZero();
    }
}
