package dev.ballast.it.proxy;

import dev.ballast.failover.Monitor;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.failover.FailoverBed;
import dev.ballast.it.failover.WriteLoad;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.replication.GroupTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mariadb.jdbc.MariaDbDataSource;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Clients of the proxy across a failover: they keep working on the new master, and no acknowledged insert is lost. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ProxyFailoverTest {

    FailoverBed bed;
    ProxyServer proxy;
    WriteLoad load;

    @AfterEach
    void stop() throws Exception {
        if (load != null) {
            load.stop();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void proxyClientsFollowAFailover() throws Exception {
        bed = FailoverBed.start("proxyfail", 2, "tables:\n  t_ack:\n    group: g0\n"
                + ClusterYaml.proxySection("app2", "pw2", false));
        Monitor monitor = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), monitor::acting);
        proxy = new ProxyServer(bed.config()).start();
        MariaDbDataSource clients = new MariaDbDataSource("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + bed.bed().database()
                + "?user=app2&password=pw2&useServerPrepStmts=true");
        try (Connection c = clients.getConnection(); Statement s = c.createStatement()) {
            s.execute(WriteLoad.CREATE_TABLE);
        }
        load = WriteLoad.start(clients, 4, 120);
        FailoverBed.await("writes", Duration.ofSeconds(30), () -> load.acked().size() > 100);
        GroupTopology before = bed.topology();
        MariaDbNode master = bed.node(before.master());
        long killedAt = System.nanoTime();
        master.crash();
        long deadAt = System.nanoTime(); // the dying master may acknowledge inserts sent before this
        FailoverBed.await("a write through the proxy after the kill", Duration.ofSeconds(20), () -> load.firstSuccessAfter(deadAt) > 0);
        long ms = (load.firstSuccessAfter(deadAt) - killedAt) / 1_000_000L;
        long after = load.acked().size();
        FailoverBed.await("more writes", Duration.ofSeconds(20), () -> load.acked().size() > after + 200);
        load.stop();
        assertEquals(before.epoch() + 1, bed.topology().epoch());
        Set<Long> lost;
        try (Connection c = bed.master().connect(bed.bed().database())) {
            lost = load.missingOn(c);
        }
        assertEquals(Set.of(), lost, "acknowledged inserts lost");
        assertTrue(ms < 5_000, "first write through the proxy " + ms + " ms after the kill");
        System.out.printf("PROXY FAILOVER: first acknowledged insert through the proxy %d ms after kill -9 of the master; "
                + "%d acknowledged, 0 lost, %d failed in flight%n", ms, load.acked().size(), load.failures().size());
    }

    /**
     * Without a monitor a dead master is not replaced, but with ZooKeeper one could be: {@code /health} stays 200 (saying
     * the master is unreachable) while writes are held for a failover, {@code failover.writeHoldMs}, then answers 503.
     * Every proxy sees the same dead master, so a load balancer taking them all out at once would only cut their clients.
     */
    @Test
    void healthStaysOkWhileWritesAreHeldForAFailoverAndFailsAfter() throws Exception {
        int healthPort;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            healthPort = free.getLocalPort();
        }
        bed = FailoverBed.start("proxyhealth", 1, "tables:\n  t_ack:\n    group: g0\n"
                + ClusterYaml.proxySection("app3", "pw3", false, "health: 127.0.0.1:" + healthPort));
        long holdMs = 2_000;
        proxy = new ProxyServer(bed.config("  writeHoldMs: " + holdMs)).start();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.URI uri = java.net.URI.create("http://127.0.0.1:" + proxy.healthPort() + "/health");
        assertEquals(200, http.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
        bed.master().crash();
        long firstUnreachable = 0;
        long firstFail = 0;
        String held = null;
        String failed = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (firstFail == 0 && System.nanoTime() < deadline) {
            java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200 && r.body().contains("UNREACHABLE") && firstUnreachable == 0) {
                firstUnreachable = System.nanoTime();
                held = r.body();
            } else if (r.statusCode() == 503) {
                firstFail = System.nanoTime();
                failed = r.body();
            } else {
                assertEquals(200, r.statusCode(), r.body());
            }
            Thread.sleep(50);
        }
        assertTrue(firstUnreachable != 0, "no 200 naming the unreachable master before 503: " + failed);
        assertTrue(held.startsWith("OK") && held.contains("writes are held"), held);
        assertTrue(firstFail != 0, "no 503 within 20 s of the master's death");
        assertTrue(failed.startsWith("FAIL") && failed.contains("UNREACHABLE"), failed);
        long heldMs = (firstFail - firstUnreachable) / 1_000_000L;
        assertTrue(heldMs >= holdMs - 100 && heldMs < holdMs + 2_000, "503 came " + heldMs + " ms after the first unreachable");
        System.out.printf("PROXY HEALTH: 200 for %d ms after the master was first seen unreachable, then 503:%n%s", heldMs, failed);
    }
}
