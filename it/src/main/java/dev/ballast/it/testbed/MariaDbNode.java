package dev.ballast.it.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One {@code mariadbd} process on {@code 127.0.0.1}: its own data directory (a copy of the template), a free
 * loopback port and a {@code server_id}. Nodes are made by {@link TestBed}.
 *
 * <p>Every node runs with {@code --no-defaults} and: GTID strict mode, {@code log_bin} + {@code log_slave_updates},
 * {@code binlog_format=ROW}, semi-sync with wait point {@code AFTER_SYNC} and a master timeout of
 * {@value #SEMI_SYNC_MASTER_TIMEOUT_MS} ms, {@code slave_net_timeout} = {@value #SLAVE_NET_TIMEOUT_SECONDS} s,
 * {@code skip_name_resolve}, no SSL, no performance schema and small buffers (32 MB buffer pool). The role decides
 * the rest:
 * <ul>
 *   <li>master: {@code read_only=OFF}, {@code rpl_semi_sync_master_enabled=ON} (OFF when the group has no replica,
 *       as every commit would wait the full timeout), {@code rpl_semi_sync_slave_enabled=OFF};</li>
 *   <li>replica: {@code read_only=ON}, {@code rpl_semi_sync_master_enabled=OFF} (ON would stall its SQL thread for
 *       the timeout after each start), {@code rpl_semi_sync_slave_enabled=ON};</li>
 *   <li>standalone: {@code read_only=OFF}, semi-sync off; binlog on all the same.</li>
 * </ul>
 * These start flags play the part of a {@code my.cnf}: {@link #start()} and {@link #restart()} always use them, so
 * a former master comes back writable (see {@link #restart()}). Runtime changes ({@code SET GLOBAL}, promotions) are
 * lost on restart, exactly as on a real server.
 *
 * <p>Durability is set for process crashes, not power cuts: {@code innodb_flush_log_at_trx_commit=2} and
 * {@code sync_binlog=0} write at every commit but leave the fsync to the OS, so {@code kill -9} loses nothing
 * committed.
 *
 * <p>JDBC goes through Connector/J with {@code connectTimeout} and {@code socketTimeout} always set: a
 * SIGSTOPped server accepts TCP connections through the kernel backlog but never sends its handshake.
 */
public final class MariaDbNode {

    /** The role a node was started with. */
    public enum Role { MASTER, REPLICA, STANDALONE }

    /**
     * {@code rpl_semi_sync_master_timeout}: how long a master's commit waits for a replica's ack before it gives
     * up and continues asynchronously. Short, so a test that freezes the replicas pays 2 s once, not 10.
     */
    public static final int SEMI_SYNC_MASTER_TIMEOUT_MS = 2000;

    /**
     * {@code slave_net_timeout}: a replica notices a hung (not crashed) master only after this long without data
     * (heartbeats come every half of it); a crashed master is noticed at once (connection refused).
     */
    public static final int SLAVE_NET_TIMEOUT_SECONDS = 5;

    /**
     * {@code MASTER_HEARTBEAT_PERIOD} of every replica the bed points, in ms: the failover monitor's default
     * ({@code failover.heartbeatPeriodMs}), so that a replica of a hung master falls silent within a few periods and
     * the monitor tells it from a master that only refuses connections. Without it MariaDB uses half of
     * {@code slave_net_timeout}.
     */
    public static final int HEARTBEAT_PERIOD_MS = 500;

    /** Connector/J {@code connectTimeout} of {@link #jdbcUrl(String)}, in ms. */
    public static final int CONNECT_TIMEOUT_MS = 2000;

    /** Connector/J {@code socketTimeout} of {@link #jdbcUrl(String)}, in ms. */
    public static final int SOCKET_TIMEOUT_MS = 30_000;

    static final String PID_FILE = "mariadbd.pid";
    static final String HOST = "127.0.0.1";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Set<Integer> portsHandedOut = ConcurrentHashMap.newKeySet();

    /** What differs between the roles at start. */
    record Flags(boolean readOnly, boolean semiSyncMaster, boolean semiSyncSlave, boolean skipSlaveStart) {
    }

    private volatile MariaDbBinaries binaries;
    private final String name;
    private final Role role;
    private final int serverId;
    private final Path dataDir;
    private final Flags startFlags;
    private final Runnable killAtExit = this::killQuietly;

    private volatile int port;
    private volatile Process process;
    private volatile boolean hung;
    private volatile boolean everStarted;

    MariaDbNode(MariaDbBinaries binaries, Path dataDir, String name, Role role, int serverId, boolean semiSyncMaster) {
        this.binaries = binaries;
        this.dataDir = dataDir;
        this.name = name;
        this.role = role;
        this.serverId = serverId;
        this.startFlags = switch (role) {
            case MASTER -> new Flags(false, semiSyncMaster, false, false);
            case REPLICA -> new Flags(true, false, true, false);
            case STANDALONE -> new Flags(false, false, false, false);
        };
        Template.copyTo(binaries, dataDir);
    }

    // ---- identity -------------------------------------------------------------------------------

    /** A name for messages, e.g. {@code g0-replica1}. */
    public String name() {
        return name;
    }

    /** The role this node was started with (not what it is now after a failover). */
    public Role role() {
        return role;
    }

    /** Always {@code 127.0.0.1}. */
    public String host() {
        return HOST;
    }

    /** The TCP port; chosen at first start and kept across restarts. */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:port}. */
    public String address() {
        return HOST + ":" + port;
    }

    public int serverId() {
        return serverId;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The server's error log ({@code --log-error}); starts, crashes and replication errors are written here. */
    public Path errorLog() {
        return dataDir.resolve("error.log");
    }

    /** The PID of the running process, or empty. */
    public OptionalLong pid() {
        Process p = process;
        return p == null ? OptionalLong.empty() : OptionalLong.of(p.pid());
    }

    /** True while the process exists (also while it is hung). */
    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive() && !Os.isDead(p.pid());
    }

    /** True between {@link #hang()} and {@link #resume()}. */
    public boolean isHung() {
        return hung;
    }

    // ---- JDBC -----------------------------------------------------------------------------------

    /**
     * {@code jdbc:mysql://127.0.0.1:port/database} with {@code connectTimeout} {@value #CONNECT_TIMEOUT_MS} ms,
     * {@code socketTimeout} {@value #SOCKET_TIMEOUT_MS} ms and SSL off. {@code database} may be {@code ""}.
     */
    public String jdbcUrl(String database) {
        return url(database, CONNECT_TIMEOUT_MS, SOCKET_TIMEOUT_MS);
    }

    private String url(String database, int connectTimeoutMs, int socketTimeoutMs) {
        return "jdbc:mysql://" + HOST + ":" + port + "/" + database + "?connectTimeout=" + connectTimeoutMs
                + "&socketTimeout=" + socketTimeoutMs + "&sslMode=DISABLED";
    }

    /** A connection as the application user ({@link TestBedUsers#APP_USER}), which {@code read_only} stops. */
    public Connection connect(String database) throws SQLException {
        return connect(database, TestBedUsers.APP_USER, TestBedUsers.APP_PASSWORD);
    }

    /** A connection as any user, to {@link #jdbcUrl(String)}. */
    public Connection connect(String database, String user, String password) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), user, password);
    }

    /**
     * Runs statements as the admin user, in order, in autocommit. Admin has {@code READ_ONLY ADMIN}: a write on a
     * replica goes through and creates an errant GTID. Use it for replication control and set-up on masters.
     *
     * @throws IllegalStateException naming the node and the statement that failed
     */
    public void execute(String... statements) {
        try (Connection c = adminConnection(SOCKET_TIMEOUT_MS); Statement s = c.createStatement()) {
            for (String sql : statements) {
                try {
                    s.execute(sql);
                } catch (SQLException e) {
                    throw failure("'" + sql + "' failed: " + e.getMessage() + " (error " + e.getErrorCode() + ")", e);
                }
            }
        } catch (SQLException e) {
            throw failure("cannot connect as " + TestBedUsers.ADMIN_USER + ": " + e.getMessage(), e);
        }
    }

    /** Runs one query as the admin user; each row maps column label to value as a string ({@code null} for NULL). */
    public List<Map<String, String>> query(String sql) {
        try (Connection c = adminConnection(SOCKET_TIMEOUT_MS); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery(sql)) {
                return rows(rs);
            } catch (SQLException e) {
                throw failure("'" + sql + "' failed: " + e.getMessage() + " (error " + e.getErrorCode() + ")", e);
            }
        } catch (SQLException e) {
            throw failure("cannot connect as " + TestBedUsers.ADMIN_USER + ": " + e.getMessage(), e);
        }
    }

    private Connection adminConnection(int socketTimeoutMs) throws SQLException {
        return DriverManager.getConnection(url("", CONNECT_TIMEOUT_MS, socketTimeoutMs), TestBedUsers.ADMIN_USER,
                TestBedUsers.ADMIN_PASSWORD);
    }

    private static List<Map<String, String>> rows(ResultSet rs) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        List<Map<String, String>> rows = new ArrayList<>();
        while (rs.next()) {
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                row.put(meta.getColumnLabel(i), rs.getString(i));
            }
            rows.add(Collections.unmodifiableMap(row));
        }
        return List.copyOf(rows);
    }

    // ---- state ----------------------------------------------------------------------------------

    /**
     * Reads the node's replication state as the monitor user (connect timeout 1 s, read timeout 3 s). Never
     * throws: a node that is not running, hung or not answering is {@linkplain NodeState#reachable() unreachable}.
     */
    public NodeState state() {
        if (!isRunning() || hung) {
            return NodeState.unreachable(serverId);
        }
        try (Connection c = DriverManager.getConnection(url("", 1000, 3000), TestBedUsers.MONITOR_USER, TestBedUsers.MONITOR_PASSWORD);
             Statement s = c.createStatement()) {
            boolean readOnly;
            int id;
            String binlogPos;
            String slavePos;
            try (ResultSet rs = s.executeQuery("SELECT @@read_only, @@server_id, @@gtid_binlog_pos, @@gtid_slave_pos")) {
                rs.next();
                readOnly = rs.getBoolean(1);
                id = rs.getInt(2);
                binlogPos = nonNull(rs.getString(3));
                slavePos = nonNull(rs.getString(4));
            }
            try (ResultSet rs = s.executeQuery("SHOW SLAVE STATUS")) {
                if (!rs.next()) {
                    return new NodeState(true, readOnly, id, binlogPos, slavePos, "", "", "", OptionalLong.empty(), 0, "", "");
                }
                long behind = rs.getLong("Seconds_Behind_Master");
                OptionalLong secondsBehind = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(behind);
                return new NodeState(true, readOnly, id, binlogPos, slavePos, nonNull(rs.getString("Gtid_IO_Pos")),
                        nonNull(rs.getString("Slave_IO_Running")), nonNull(rs.getString("Slave_SQL_Running")), secondsBehind,
                        rs.getInt("Master_Port"), nonNull(rs.getString("Last_IO_Error")), nonNull(rs.getString("Last_SQL_Error")));
            }
        } catch (SQLException e) {
            return NodeState.unreachable(serverId);
        }
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    /** {@code @@gtid_binlog_pos}, as the admin user. */
    public String gtidBinlogPos() {
        return nonNull(query("SELECT @@gtid_binlog_pos AS pos").get(0).get("pos"));
    }

    /**
     * Waits until this replica has applied {@code gtidPos} ({@code MASTER_GTID_WAIT}).
     *
     * @throws IllegalStateException when it has not within {@code timeout}, with the replication state
     */
    public void awaitApplied(String gtidPos, Duration timeout) {
        long seconds = Math.max(1, timeout.toSeconds());
        int socketTimeout = (int) Math.min(Integer.MAX_VALUE, (seconds + 10) * 1000);
        String result;
        try (Connection c = adminConnection(socketTimeout);
             PreparedStatement ps = c.prepareStatement("SELECT MASTER_GTID_WAIT(?, ?)")) {
            ps.setString(1, gtidPos);
            ps.setLong(2, seconds);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                result = rs.getString(1);
            }
        } catch (SQLException e) {
            throw failure("MASTER_GTID_WAIT('" + gtidPos + "', " + seconds + ") failed: " + e.getMessage(), e);
        }
        if (!"0".equals(result)) {
            throw failure("has not applied GTID position '" + gtidPos + "' within " + seconds + " s (MASTER_GTID_WAIT="
                    + result + "); now " + state() + "; see " + errorLog(), null);
        }
    }

    // ---- replication control --------------------------------------------------------------------

    /**
     * Points this node at {@code master} by GTID: {@code STOP SLAVE} (if configured), then {@code CHANGE MASTER TO}
     * with the replication user, {@code MASTER_USE_GTID=slave_pos}, {@code MASTER_CONNECT_RETRY=1} (the default
     * 60 s would leave a replica of a not-yet-up master waiting a minute) and {@code MASTER_HEARTBEAT_PERIOD}
     * {@value #HEARTBEAT_PERIOD_MS} ms, as the failover monitor sets it. Replication stays stopped: call
     * {@link #startReplication()}.
     */
    public void changeMasterTo(MariaDbNode master) {
        changeMaster(master, false);
    }

    private void changeMaster(MariaDbNode master, boolean demote) {
        if (master == this) {
            throw failure("cannot replicate from itself", null);
        }
        if (!query("SHOW SLAVE STATUS").isEmpty()) {
            execute("STOP SLAVE");
        }
        execute("CHANGE MASTER TO MASTER_HOST='" + HOST + "', MASTER_PORT=" + master.port()
                + ", MASTER_USER='" + TestBedUsers.REPL_USER + "', MASTER_PASSWORD='" + TestBedUsers.REPL_PASSWORD
                + "', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=" + HEARTBEAT_PERIOD_MS / 1000.0
                + (demote ? ", MASTER_DEMOTE_TO_SLAVE=1" : ""));
    }

    /** {@code START SLAVE}. */
    public void startReplication() {
        execute("START SLAVE");
    }

    /** {@code STOP SLAVE} (both threads). */
    public void stopReplication() {
        execute("STOP SLAVE");
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    /**
     * Starts the process with its start flags (see the class comment) and waits until it accepts connections.
     * Does nothing if it is running.
     *
     * @throws IllegalStateException if it does not come up within 60 s, with the tail of its error log
     */
    public synchronized void start() {
        if (!isRunning()) {
            startWith(startFlags);
        }
    }

    /**
     * Stops the node if it runs (cleanly) and starts it again with its <em>start flags</em>, like a server that
     * restarts from its {@code my.cnf}. For a former master while another node has been promoted this is the
     * <b>unsafe</b> restart: it comes back writable with semi-sync master on, a split brain. A replica resumes
     * replication from the master it had. Use {@link #restartAsReplicaOf} for the safe way back.
     */
    public synchronized void restart() {
        stop();
        startWith(startFlags);
    }

    /**
     * An in-place server upgrade (or downgrade): stops the node cleanly if it runs (SIGTERM by PID, waiting up to
     * 60 s), then starts {@code other}'s {@code mariadbd} on the same data directory, port, {@code server_id} and
     * start flags, and waits until it accepts connections. A replica resumes replication from the master it had
     * (its {@code master.info} is in the data directory). The 10.11 start flags are all accepted by 11.4.5 as they
     * are. Nothing in the data directory is changed: bring the system tables up to date with
     * {@link SystemTablesUpgrade#run(MariaDbNode)}. Later {@link #restart()}s keep {@code other}.
     *
     * @throws IllegalStateException if the node does not stop, or the new server does not come up within 60 s
     */
    public synchronized void restartWith(MariaDbBinaries other) {
        stop();
        binaries = other;
        startWith(startFlags);
    }

    /**
     * What an install step does to a stopped node: its next start runs {@code other}'s {@code mariadbd} on the same data
     * directory, port and {@code server_id}.
     *
     * @throws IllegalStateException when the node runs (stop it first, as an operator's install would need)
     */
    public synchronized void install(MariaDbBinaries other) {
        if (isRunning()) {
            throw failure("runs: stop it before installing " + other.versionNumber(), null);
        }
        binaries = other;
    }

    /**
     * Starts the node (not running) as a replica, whatever role it was created with: {@code read_only=ON}, semi-sync
     * replica side on, master side off, replication started from its {@code master.info} (a former master that a
     * switchover made a replica restarts as what it now is).
     */
    public synchronized void startAsReplica() {
        if (!isRunning()) {
            startWith(new Flags(true, false, true, false));
        }
    }

    /** The binaries this node runs (or last ran, or will run). */
    public MariaDbBinaries binaries() {
        return binaries;
    }

    /** Root-equivalent connection (the bed's admin user) for the test bed's own steps. */
    Connection adminConnection() throws SQLException {
        return adminConnection(SOCKET_TIMEOUT_MS);
    }

    /**
     * Stops the node if it runs (cleanly) and starts it as a read-only replica of {@code master}: {@code read_only=ON},
     * {@code rpl_semi_sync_master_enabled=OFF}, {@code rpl_semi_sync_slave_enabled=ON}, then {@code CHANGE MASTER TO}
     * (as {@link #changeMasterTo}) with {@code MASTER_DEMOTE_TO_SLAVE=1}, and {@code START SLAVE}. The demotion copies
     * the node's own binlog position into {@code gtid_slave_pos}, so a former master asks only for what it lacks;
     * for a former replica the two positions are already the same. Does not wait for the catch-up: see
     * {@link #awaitApplied}.
     */
    public synchronized void restartAsReplicaOf(MariaDbNode master) {
        stop();
        startWith(new Flags(true, false, true, true));
        changeMaster(master, true);
        startReplication();
    }

    /**
     * Clean shutdown (SIGTERM; a hung node is resumed first), waiting up to 60 s. Does nothing if not running.
     *
     * @throws IllegalStateException if it did not stop in time (it is then killed)
     */
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        if (p.isAlive() && !Os.isDead(p.pid())) {
            if (hung) {
                resume();
            }
            p.destroy();
            if (!awaitDeath(p, STOP_TIMEOUT)) {
                crash();
                throw failure("did not shut down within " + STOP_TIMEOUT.toSeconds() + " s; killed it; see " + errorLog(), null);
            }
        }
        exited();
    }

    /** {@code kill -9} by PID and waits until the process is gone (a zombie counts as gone). No-op if not running. */
    public synchronized void crash() {
        Process p = process;
        if (p == null) {
            return;
        }
        p.destroyForcibly(); // SIGKILL to this PID; also ends a SIGSTOPped process
        if (!awaitDeath(p, Duration.ofSeconds(10))) {
            throw failure("still alive 10 s after SIGKILL (state " + Os.state(p.pid()) + ")", null);
        }
        exited();
    }

    /**
     * Freezes the process (SIGSTOP). Its port stays open: connections are accepted by the kernel but never
     * answered; its replicas stop receiving heartbeats at once, but their receivers give up only after
     * {@value #SLAVE_NET_TIMEOUT_SECONDS} s ({@code slave_net_timeout}).
     */
    public synchronized void hang() {
        long pid = requireRunning("hang");
        Os.signal(pid, "STOP");
        hung = true;
        for (int i = 0; i < 200 && Os.state(pid) != 'T'; i++) {
            Janitor.sleep(10);
        }
        if (Os.state(pid) != 'T') {
            throw failure("not stopped 2 s after SIGSTOP (state " + Os.state(pid) + ")", null);
        }
    }

    /** Thaws a {@linkplain #hang() hung} process (SIGCONT). */
    public synchronized void resume() {
        long pid = requireRunning("resume");
        Os.signal(pid, "CONT");
        hung = false;
    }

    private long requireRunning(String what) {
        Process p = process;
        if (p == null || !isRunning()) {
            throw failure("cannot " + what + ": not running", null);
        }
        return p.pid();
    }

    private static boolean awaitDeath(Process p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (p.isAlive() && !Os.isDead(p.pid())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                p.waitFor(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + p.pid() + " to exit", e);
            }
        }
        return true;
    }

    private void exited() {
        Janitor.forget(killAtExit);
        process = null;
        hung = false;
    }

    /** For the shutdown hook and {@link TestBed#close()}: SIGKILL, wait briefly, never throw. */
    void killQuietly() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
            awaitDeath(p, Duration.ofSeconds(5));
            exited();
        }
    }

    private void startWith(Flags flags) {
        if (everStarted) {
            launchAndAwait(flags);
            return;
        }
        // first start: the port is only known to be free when it was probed, so another process may take it in
        // between; then try another one
        for (int attempt = 1; ; attempt++) {
            port = freePort();
            try {
                launchAndAwait(flags);
                everStarted = true;
                return;
            } catch (PortTaken e) {
                if (attempt == 5) {
                    throw failure("5 ports in a row were taken by the time mariadbd bound them; last error log:\n"
                            + Os.tail(errorLog(), 10), e);
                }
            }
        }
    }

    private static final class PortTaken extends RuntimeException {
        PortTaken() {
            super(null, null, false, false);
        }
    }

    private void launchAndAwait(Flags flags) {
        List<String> command = command(flags);
        long logOffset = fileSize(errorLog());
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dataDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("mariadbd.out").toFile())).start();
        } catch (IOException e) {
            throw failure("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        process = p;
        hung = false;
        Janitor.atExit(killAtExit);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            String log = readFrom(errorLog(), logOffset);
            if (log.contains("ready for connections")) {
                return;
            }
            if (!p.isAlive() || Os.isDead(p.pid())) {
                awaitDeath(p, Duration.ofSeconds(5));
                exited();
                if (log.contains("Bind on TCP/IP port") || log.contains("Address already in use")) {
                    throw new PortTaken();
                }
                throw startFailure("mariadbd exited" + (p.isAlive() ? "" : " with code " + p.exitValue())
                        + " before it was ready", command);
            }
            if (System.nanoTime() > deadline) {
                killQuietly();
                throw startFailure("mariadbd was not ready for connections within " + START_TIMEOUT.toSeconds()
                        + " s; killed it", command);
            }
            Janitor.sleep(20);
        }
    }

    private IllegalStateException startFailure(String what, List<String> command) {
        return failure(what + "; error log " + errorLog() + " ends with:\n" + Os.tail(errorLog(), 25)
                + "\nstdout/stderr " + dataDir.resolve("mariadbd.out") + " ends with:\n" + Os.tail(dataDir.resolve("mariadbd.out"), 10)
                + "\ncommand: " + String.join(" ", command), null);
    }

    private List<String> command(Flags flags) {
        List<String> c = new ArrayList<>();
        c.add(binaries.mariadbd().toString());
        c.add("--no-defaults"); // must come first
        binaries.baseDir().ifPresent(base -> c.add("--basedir=" + base));
        c.add("--datadir=" + dataDir);
        c.add("--port=" + port);
        c.add("--bind-address=" + HOST);
        c.add("--socket=" + dataDir.resolve("mariadbd.sock"));
        c.add("--pid-file=" + dataDir.resolve(PID_FILE));
        c.add("--log-error=" + errorLog());
        c.add("--server-id=" + serverId);
        if (Os.runningAsRoot()) {
            c.add("--user=root");
        }
        c.addAll(List.of(
                "--log-bin=binlog", "--relay-log=relay-bin", "--log-slave-updates=ON", "--binlog-format=ROW",
                "--gtid-strict-mode=ON",
                "--rpl-semi-sync-master-enabled=" + onOff(flags.semiSyncMaster()),
                "--rpl-semi-sync-slave-enabled=" + onOff(flags.semiSyncSlave()),
                "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
                "--rpl-semi-sync-master-timeout=" + SEMI_SYNC_MASTER_TIMEOUT_MS,
                "--read-only=" + onOff(flags.readOnly()),
                "--slave-net-timeout=" + SLAVE_NET_TIMEOUT_SECONDS,
                "--skip-name-resolve", "--skip-ssl", "--performance-schema=OFF",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
                "--innodb-buffer-pool-size=32M", "--innodb-log-buffer-size=4M",
                "--innodb-temp-data-file-path=ibtmp1:4M:autoextend",
                "--innodb-read-io-threads=1", "--innodb-write-io-threads=2",
                "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0",
                "--key-buffer-size=1M", "--aria-pagecache-buffer-size=8M", "--max-connections=200",
                // A transaction over two groups can deadlock across servers, which no server detects: the lock wait
                // timeout ends it (error 1205), and must come before the client's socket timeout (30 s).
                "--innodb-lock-wait-timeout=5"));
        c.addAll(Template.INNODB_FILES);
        if (flags.skipSlaveStart()) {
            c.add("--skip-slave-start");
            // A crashed master coming back as replica: with semi-sync slave on, crash recovery rolls back the
            // transactions it had binlogged but no replica acknowledged (MDEV-21117), instead of committing them as
            // transactions nobody else has (errant).
            c.add("--init-rpl-role=SLAVE");
        }
        return c;
    }

    private static String onOff(boolean on) {
        return on ? "ON" : "OFF";
    }

    private static long fileSize(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static String readFrom(Path file, long offset) {
        if (!Files.exists(file)) {
            return "";
        }
        try (InputStream in = Files.newInputStream(file)) {
            in.skipNBytes(Math.min(offset, Files.size(file)));
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() {
        for (int i = 0; i < 50; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                int p = s.getLocalPort();
                if (portsHandedOut.add(p)) {
                    return p;
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot find a free port on " + HOST + ": " + e.getMessage(), e);
            }
        }
        throw new IllegalStateException("cannot find a free port on " + HOST + " that this JVM has not used yet");
    }

    IllegalStateException failure(String what, Throwable cause) {
        return new IllegalStateException("[testbed node=" + this + "] " + what, cause);
    }

    /** {@code g0-replica1 127.0.0.1:34567 server_id=102}. */
    @Override
    public String toString() {
        return name + " " + address() + " server_id=" + serverId;
    }
}
