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
}
