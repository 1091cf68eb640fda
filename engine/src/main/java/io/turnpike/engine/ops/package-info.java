/**
 * Operations (docs/operations.md): the PID file, the CLI commands that signal a running gateway ({@code stop},
 * {@code quit}, {@code reload}, {@code test}), SIGHUP re-reading config.yaml ({@link io.turnpike.engine.ops.ConfigReloader}
 * with {@link io.turnpike.engine.ops.ConfigChanges} saying which changed keys apply live and which need a restart),
 * and APISIX's control API ({@link io.turnpike.engine.ops.ControlApiServer}).
 *
 * <p>Threads: none of this runs on an event loop. The control API has its own thread ({@code turnpike-control});
 * a reload runs on the thread that asks for it (the JVM's signal thread for SIGHUP, {@code turnpike-control} for
 * {@code PUT /v1/plugins/reload}) under the reloader's lock.
 */
package io.turnpike.engine.ops;
