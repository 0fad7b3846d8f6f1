/** The monitor's data: probe results, problems, plans. Plain values; the analysis and planning are pure functions of them. */
package dev.ballast.failover.model;
