/**
 * Durable state of a node. {@link io.tern.broker.store.MessageStore} is the SPI the broker writes
 * through; {@link io.tern.broker.store.RocksDbStore} keeps it in RocksDB with one writer thread that
 * group-commits every pending {@link io.tern.broker.store.StoreBatch} in one synced write, and
 * {@link io.tern.broker.store.TransientStore} keeps nothing (a broker without a data directory).
 */
package io.tern.broker.store;
