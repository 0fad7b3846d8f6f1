/**
 * The replication model that the driver and the monitor share, on the ground floor so that neither reaches into the
 * other: replication positions (MariaDB GTID positions, MySQL GTID sets), a group's topology (master, replicas, epoch),
 * what a probe saw of a server, the one {@link dev.ballast.replication.ServerDialect} per server family, and the JSON
 * of the documents kept in ZooKeeper ({@link dev.ballast.replication.Documents}, Jackson).
 */
package dev.ballast.replication;
