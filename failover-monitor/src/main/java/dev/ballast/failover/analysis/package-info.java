/**
 * Pure decisions of the failover monitor: {@link dev.ballast.failover.analysis.Analysis} names what is wrong with a
 * group from the monitors' probes, {@link dev.ballast.failover.analysis.Planner} picks the replica to promote. No I/O,
 * no threads, no clock: the time is a value in {@link dev.ballast.failover.analysis.AnalysisSettings}.
 */
package dev.ballast.failover.analysis;
