package io.quaver;

import io.quaver.internal.AdaptiveFlows;
import io.quaver.internal.Engine;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// A handle whose adaptive flows go to a peer on loopback behind a sink port no sink listens
/// on, private to the test class (its paths are its own); the path's congestion state and
/// estimates are driven through [AdaptiveFlows]' test seams, so nothing depends on timing.
abstract class AdaptiveSeamFixture {
    static final InetSocketAddress PEER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
    final AdaptiveFlows adaptive = Engine.embedded().adaptive();
    private final List<NetworkChannel> channels = new ArrayList<>();
    private final int sinkPort;
    QosSubsystem qos;

    /// @param sinkPort the sink port of this class's paths (unique per class)
    AdaptiveSeamFixture(int sinkPort) {
        this.sinkPort = sinkPort;
    }

    int sinkPort() {
        return sinkPort;
    }

    @BeforeEach
    void open() {
        qos = QosSubsystem.open(QosOptions.defaults().withPrivileged(false).withSinkPort(sinkPort));
    }

    @AfterEach
    void close() throws IOException {
        qos.close();
        for (NetworkChannel c : channels) {
            c.close();
        }
    }

    /// A UDP socket connected to `to`, closed after the test.
    DatagramChannel socket(InetSocketAddress to) throws IOException {
        DatagramChannel c = DatagramChannel.open();
        channels.add(c);
        c.connect(to);
        return c;
    }

    static void assertError(ThrowingCallable call, QosError error) {
        assertThatThrownBy(call).isInstanceOfSatisfying(QosException.class,
                e -> assertThat(e.error()).as(e.getMessage()).isEqualTo(error));
    }
}
