/**
 * The monitor's own data: problems, plans, verdicts, promotion rules. Plain values; the analysis and planning are pure
 * functions of them and of the shared replication model ({@code dev.ballast.replication}: probes, positions, topology).
 */
package dev.ballast.failover.model;
