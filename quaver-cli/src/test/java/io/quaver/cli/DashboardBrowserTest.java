package io.quaver.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/// End to end: the demo serves its dashboard, headless Chromium loads it, the charts update with
/// real values, the flow row shows AUDIO_VIDEO and its marks, and a screenshot is saved to
/// `target/dashboard.png`.
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class DashboardBrowserTest {
    private static final Path SCREENSHOT = Path.of("target", "dashboard.png");
    /// The page's view of the first flow, as one JSON value.
    private static final String READ = """
            (() => {
              const d = window.quaverDashboard, card = document.querySelector('section.flow');
              if (!d || !card) return { updates: d ? d.updates : 0 };
              const rates = card.querySelector('canvas[data-chart="rates"]');
              const rtt = card.querySelector('canvas[data-chart="rtt"]');
              const f = d.state.flows[0];
              return { updates: d.updates, errors: d.errors,
                       ratePoints: +rates.getAttribute('data-points'), rttPoints: +rtt.getAttribute('data-points'),
                       rateMax: +rates.getAttribute('data-max'), trafficType: card.getAttribute('data-traffic-type'),
                       dscp: +card.getAttribute('data-dscp'), text: card.innerText,
                       actualBps: f.actualBps, bottleneckBps: f.bottleneckBps, rttUs: f.rttUs,
                       episodes: f.episodes.length };
            })()""";

    private static JsonNode awaitRead(HeadlessChromium browser, String what, Duration timeout,
                                      java.util.function.Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode v = browser.evaluate(READ);
        while (!done.test(v)) {
            assertThat(System.nanoTime() - deadline).as(what + "; last read: " + v).isNegative();
            Thread.sleep(250);
            v = browser.evaluate(READ);
        }
        return v;
    }

    @Test
    void chartsUpdateInARealBrowser() throws Exception {
        Path chromium = HeadlessChromium.executable().orElse(null);
        Assumptions.assumeTrue(chromium != null, "Chromium is not installed (Debian: apt-get install chromium;"
                + " .ci/run installs it)");
        AdaptiveDemo demo = new AdaptiveDemo(new AdaptiveDemo.Settings(Duration.ofSeconds(24), true, 0, System.out));
        CompletableFuture<AdaptiveDemo.Result> run = CompletableFuture.supplyAsync(() -> {
            try {
                return demo.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, r -> Thread.ofPlatform().name("quaver-test-demo").start(r));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (demo.dashboardUrl() == null && !run.isDone()) {
                assertThat(System.nanoTime() - deadline).as("the dashboard starts").isNegative();
                Thread.sleep(20);
            }
            String url = demo.dashboardUrl();
            assertThat(url).startsWith("http://127.0.0.1:");
            try (HeadlessChromium browser = new HeadlessChromium(chromium)) {
                browser.navigate(url);
                // admitted: marked AUDIO_VIDEO (DSCP 40), real values on the charts
                JsonNode a = awaitRead(browser, "the flow is admitted and measured", Duration.ofSeconds(30),
                        v -> v.path("dscp").asInt() == 40 && v.path("actualBps").asLong() > 0
                                && v.path("ratePoints").asInt() > 0);
                assertThat(a.get("trafficType").asText()).isEqualTo("AUDIO_VIDEO");
                assertThat(a.get("text").asText()).contains("AUDIO_VIDEO", "DSCP 40", "802.1p");
                assertThat(a.get("bottleneckBps").asLong()).isPositive();
                assertThat(a.get("rttUs").asLong()).isPositive();
                assertThat(a.get("rateMax").asDouble()).isPositive();
                assertThat(a.get("rttPoints").asInt()).isPositive();
                JsonNode b = awaitRead(browser, "the charts grow", Duration.ofSeconds(20),
                        v -> v.path("ratePoints").asInt() > a.get("ratePoints").asInt() + 4
                                && v.path("rttPoints").asInt() > a.get("rttPoints").asInt());
                assertThat(b.get("updates").asInt()).isGreaterThan(a.get("updates").asInt());
                // the induced congestion episode is shaded on the timeline
                JsonNode c = awaitRead(browser, "a congestion episode shows", Duration.ofSeconds(25),
                        v -> v.path("episodes").asInt() > 0 || !browser.isAlive());
                assertThat(c.get("episodes").asInt()).isPositive();
                Thread.sleep(1500); // one more poll, so the screenshot shows the episode drawn
                browser.screenshot(SCREENSHOT);
                assertThat(Files.size(SCREENSHOT)).isGreaterThan(10_000);
                byte[] magic = new byte[8];
                try (var in = Files.newInputStream(SCREENSHOT)) {
                    assertThat(in.read(magic)).isEqualTo(8);
                }
                assertThat(magic).startsWith(0x89, 'P', 'N', 'G');
                assertThat(c.get("errors").asInt()).isZero();
            }
        } finally {
            demo.stop();
            AdaptiveDemo.Result r = run.get(60, TimeUnit.SECONDS);
            assertThat(r.failure()).isNull();
        }
    }
}
