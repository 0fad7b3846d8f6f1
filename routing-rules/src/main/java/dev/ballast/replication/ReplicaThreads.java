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
 */
public record ReplicaThreads(NodeAddress master, IoState io, boolean sqlRunning, Position received, Position applied,
                             int lastIoErrno, String lastIoError, int lastSqlErrno, String lastSqlError,
                             long secondsBehind) {

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
