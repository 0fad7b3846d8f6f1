/**
 * MongoDB replica sets beside the MySQL groups: {@link dev.ballast.mongo.BallastMongo} builds a driver client from the
 * cluster config, {@link dev.ballast.mongo.MongoClientEvents} turns the driver's monitoring events into health and
 * metrics, {@link dev.ballast.mongo.ReplicaSetStatus} reads a set's state, {@link dev.ballast.mongo.MongoSwitchover}
 * moves the primary and {@link dev.ballast.mongo.MongoUpgradePlan} plans a rolling upgrade.
 */
package dev.ballast.mongo;
