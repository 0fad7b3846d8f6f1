/** Control plane (probes, analysis, recovery, switchover). Not built yet: see the failover issue. */
package dev.ballast.monitor;
