package dev.ballast.replication;

import dev.ballast.rules.NodeAddress;

/**
 * A replica's view of its master ({@code SHOW SLAVE STATUS} / {@code SHOW REPLICA STATUS}).
 *
 * @param master        the master it is pointed at ({@code Master_Host:Master_Port})
 * @param io            the receiver thread
 * @param sqlRunning    the applier thread runs
 * @param received      what it has received (MariaDB {@code Gtid_IO_Pos}; MySQL {@code Retrieved_Gtid_Set} united with
 *                      {@code Executed_Gtid_Set})
 * @param applied       what it has applied (MariaDB {@code @@gtid_slave_pos}; MySQL {@code Executed_Gtid_Set})
 * @param lastIoErrno   {@code Last_IO_Errno}, 0 when none
 * @param lastIoError   {@code Last_IO_Error}
 * @param lastSqlErrno  {@code Last_SQL_Errno}, 0 when none
 * @param lastSqlError  {@code Last_SQL_Error}
 * @param secondsBehind {@code Seconds_Behind_Master}, -1 when NULL
 * @param heartbeatPeriodMs its heartbeat period (MariaDB {@code Slave_heartbeat_period}, MySQL
 *                      {@code HEARTBEAT_INTERVAL}) in ms, -1 when unknown; 0 means heartbeats are off
 * @param receiveMark   what it has received so far, heartbeats included, as one opaque text that changes whenever
 *                      anything arrives from the master (MariaDB: {@code Master_Log_File}, {@code Read_Master_Log_Pos},
 *                      {@code Gtid_IO_Pos}, {@code Slave_received_heartbeats}); empty when the server does not tell
 * @param silentMs      how long, at the time of the probe, it had received nothing from its master (heartbeats
 *                      included), in ms; -1 when unknown. The server does not report this: the monitor that probed it
 *                      derives it from {@code receiveMark} across its probes ({@code ReceiveClock})
 */
public record ReplicaThreads(NodeAddress master, IoState io, boolean sqlRunning, Position received, Position applied,
                             int lastIoErrno, String lastIoError, int lastSqlErrno, String lastSqlError,
                             long secondsBehind, long heartbeatPeriodMs, String receiveMark, long silentMs) {

    public ReplicaThreads {
        receiveMark = receiveMark == null ? "" : receiveMark;
    }

    /** Without what was received when (heartbeat period, receive mark and silence unknown). */
    public ReplicaThreads(NodeAddress master, IoState io, boolean sqlRunning, Position received, Position applied,
                          int lastIoErrno, String lastIoError, int lastSqlErrno, String lastSqlError, long secondsBehind) {
        this(master, io, sqlRunning, received, applied, lastIoErrno, lastIoError, lastSqlErrno, lastSqlError,
                secondsBehind, -1, "", -1);
    }

    /** The same view with the silence a monitor derived for it. */
    public ReplicaThreads withSilentMs(long ms) {
        return new ReplicaThreads(master, io, sqlRunning, received, applied, lastIoErrno, lastIoError, lastSqlErrno,
                lastSqlError, secondsBehind, heartbeatPeriodMs, receiveMark, ms);
    }

    /**
     * Whether it is still hearing from {@code master}: its receiver is connected to it and has received something
     * (heartbeats count) within {@code periods} of its own heartbeat periods. When the silence or the period is unknown
     * a connected receiver counts as hearing: only evidence of silence cuts a replica off.
     */
    public boolean hears(NodeAddress from, int periods) {
        if (!master.equals(from) || io != IoState.YES) {
            return false;
        }
        if (silentMs < 0 || heartbeatPeriodMs <= 0) {
            return true;
        }
        return silentMs < heartbeatPeriodMs * periods;
    }

    /** {@code Slave_IO_Running}: {@code Yes}, {@code Connecting} (trying, e.g. the master is gone), {@code No}. */
    public enum IoState {
        YES, CONNECTING, NO;

        public static IoState parse(String text) {
            if (text == null) {
                return NO;
            }
            return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "yes" -> YES;
                case "connecting" -> CONNECTING;
                default -> NO;
            };
        }
    }

    /** Both threads run and the receiver is connected. */
    public boolean healthy() {
        return io == IoState.YES && sqlRunning;
    }
}
