/**
 * Configuration sources and the listener they deliver to. A source validates and compiles on its own thread and
 * delivers whole {@link io.turnpike.config.model.ConfigSet}s; the engine only ever sees valid configuration.
 */
package io.turnpike.config.source;
