package dev.ballast.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /metrics} in the Prometheus text format (version 0.0.4) on a JDK {@link HttpServer}: the proxy adds it to
 * its health server, the failover monitor runs one of its own ({@code failover.metrics}).
 */
public final class PrometheusEndpoint {

    /** The exposition's content type. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private PrometheusEndpoint() {
    }

    /** A Prometheus registry with the JVM's own meters (memory, threads, classes, CPU, uptime) bound to it. */
    public static PrometheusMeterRegistry newRegistry() {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Two of Micrometer's processor meters break Prometheus' naming rules (promtool check metrics): an abbreviated
        // unit (process_cpu_time_ns_total) and a "_count" suffix on a gauge (system_cpu_count). Usage ratios stay.
        r.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("system.cpu.count")));
        new JvmMemoryMetrics().bindTo(r);
        new JvmThreadMetrics().bindTo(r);
        new ClassLoaderMetrics().bindTo(r);
        new ProcessorMetrics().bindTo(r);
        new UptimeMetrics().bindTo(r);
        return r;
    }

    /** Answers {@code GET /metrics} on {@code server} with {@code registry}'s scrape; other methods get 405. */
    public static void serve(HttpServer server, PrometheusMeterRegistry registry) {
        server.createContext("/metrics", exchange -> {
            try (exchange) {
                if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                    exchange.getResponseHeaders().add("Allow", "GET, HEAD");
                    exchange.sendResponseHeaders(405, -1);
                    return;
                }
                byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", CONTENT_TYPE);
                if ("HEAD".equals(exchange.getRequestMethod())) {
                    exchange.sendResponseHeaders(200, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            } catch (IOException | RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(PrometheusEndpoint.class).debug("serving /metrics: {}", e.toString());
            }
        });
    }
}
