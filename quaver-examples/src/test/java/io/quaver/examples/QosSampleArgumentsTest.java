package io.quaver.examples;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// The example's command line: `DESTINATION[:PORT] RATE_BPS [SECONDS]`.
class QosSampleArgumentsTest {
    @Test
    void destinationsWithAndWithoutPorts() {
        QosSample.Settings s = QosSample.parse(new String[] {"198.18.1.2", "3000000"});
        assertThat(s.destination()).isEqualTo(new InetSocketAddress(InetAddress.ofLiteral("198.18.1.2"), QosSample.PORT));
        assertThat(s.rateBps()).isEqualTo(3_000_000);
        assertThat(s.duration()).isEqualTo(Duration.ofSeconds(60));
        s = QosSample.parse(new String[] {"198.18.1.2:5004", "64000", "5"});
        assertThat(s.destination().getPort()).isEqualTo(5004);
        assertThat(s.duration()).isEqualTo(Duration.ofSeconds(5));
        s = QosSample.parse(new String[] {"[fd00:5156:0:1::2]:6000", "1000000"});
        assertThat(s.destination()).isEqualTo(new InetSocketAddress(InetAddress.ofLiteral("fd00:5156:0:1::2"), 6000));
        s = QosSample.parse(new String[] {"::1", "1000000"});
        assertThat(s.destination()).isEqualTo(new InetSocketAddress(InetAddress.ofLiteral("::1"), QosSample.PORT));
    }

    @Test
    void badArgumentsAreRejected() {
        assertThatThrownBy(() -> QosSample.parse(new String[] {"198.18.1.2"})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> QosSample.parse(new String[] {"example.org", "1000"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("IP address");
        assertThatThrownBy(() -> QosSample.parse(new String[] {"198.18.1.2", "fast"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bits/s");
        assertThatThrownBy(() -> QosSample.parse(new String[] {"198.18.1.2", "0"}))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
