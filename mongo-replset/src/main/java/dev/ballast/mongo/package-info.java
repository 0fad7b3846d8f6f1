/** MongoDB replica sets. Not built yet. */
package dev.ballast.mongo;
