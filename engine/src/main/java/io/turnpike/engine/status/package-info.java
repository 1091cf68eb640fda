/**
 * The status listener ({@code /status}, {@code /status/ready}); runs on its own thread, never on an event loop.
 */
package io.turnpike.engine.status;
