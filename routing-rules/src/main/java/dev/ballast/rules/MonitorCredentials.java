package dev.ballast.rules;

/**
 * An optional user with replication-monitoring rights (MariaDB: SLAVE MONITOR; MySQL: REPLICATION CLIENT).
 * With it, probes also see whether replication threads run; without it, lag is measured from GTID positions only.
 */
public record MonitorCredentials(String user, String password) {

    @Override
    public String toString() {
        return "MonitorCredentials[user=" + user + ", password=***]";
    }
}
