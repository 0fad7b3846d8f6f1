/** Schema rollouts, rolling upgrades and the ballast admin CLI. Not built yet. */
package dev.ballast.upgrade;
