package dev.ballast.it.testbed;

import java.util.OptionalLong;

/**
 * What one node says about itself, read as the monitor user ({@code SELECT @@read_only, ...} and
 * {@code SHOW SLAVE STATUS}). Strings are never null: an absent value is {@code ""}.
 *
 * @param reachable           false when the process is not running or does not answer within about 3 s
 *                            (crashed, stopped, hung); every other field except {@code serverId} is then empty
 * @param readOnly            {@code @@read_only}
 * @param serverId            {@code @@server_id} (the configured one when unreachable)
 * @param gtidBinlogPos       {@code @@gtid_binlog_pos}: last GTID per domain in this node's own binlog
 * @param gtidSlavePos        {@code @@gtid_slave_pos}: last GTID per domain applied by the SQL thread
 * @param gtidIoPos           {@code Gtid_IO_Pos}: last GTID per domain received by the IO thread
 * @param ioRunning           {@code Slave_IO_Running}: {@code Yes}, {@code No} or {@code Connecting}; {@code ""} when
 *                            no master is configured
 * @param sqlRunning          {@code Slave_SQL_Running}: {@code Yes} or {@code No}; {@code ""} when no master is configured
 * @param secondsBehindMaster {@code Seconds_Behind_Master}; empty when NULL (threads stopped) or not a replica
 * @param masterPort          {@code Master_Port}, 0 when no master is configured
 * @param lastIoError         {@code Last_IO_Error}
 * @param lastSqlError        {@code Last_SQL_Error}
 */
public record NodeState(boolean reachable, boolean readOnly, int serverId, String gtidBinlogPos, String gtidSlavePos,
                        String gtidIoPos, String ioRunning, String sqlRunning, OptionalLong secondsBehindMaster,
                        int masterPort, String lastIoError, String lastSqlError) {

    static NodeState unreachable(int serverId) {
        return new NodeState(false, false, serverId, "", "", "", "", "", OptionalLong.empty(), 0, "", "");
    }

    /** True when a master is configured ({@code SHOW SLAVE STATUS} has a row). */
    public boolean isReplica() {
        return !ioRunning.isEmpty();
    }

    /** True when both replication threads run: IO {@code Yes} (not {@code Connecting}) and SQL {@code Yes}. */
    public boolean replicating() {
        return "Yes".equals(ioRunning) && "Yes".equals(sqlRunning);
    }
}
