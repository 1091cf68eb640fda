/**
 * The immutable routing snapshot: compiled off the request path ({@link io.turnpike.engine.snapshot.SnapshotCompiler}),
 * published to every loop with a barrier ({@link io.turnpike.engine.snapshot.SnapshotPublisher}), pinned by each
 * request when its head is decoded. See docs/snapshot.md.
 */
package io.turnpike.engine.snapshot;
