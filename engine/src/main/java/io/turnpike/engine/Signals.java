package io.turnpike.engine;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT start a graceful drain instead of the JVM's immediate exit (whose status would be 143), so a
 * supervisor sees exit 0 after a clean stop. SIGUSR1 reopens the log files.
 */
final class Signals {
    private Signals() {
    }

    static void onTermination(Runnable action) {
        Runnable once = new Runnable() {
            private boolean ran;

            @Override
            public synchronized void run() {
                if (!ran) {
                    ran = true;
                    action.run();
                }
            }
        };
        Signal.handle(new Signal("TERM"), s -> once.run());
        Signal.handle(new Signal("INT"), s -> once.run());
    }

    /** SIGUSR1: reopen the log files (logrotate's {@code postrotate}, as nginx's {@code kill -USR1}). */
    static void onReopen(Runnable action) {
        Signal.handle(new Signal("USR1"), s -> action.run());
    }

    /**
     * The first SIGTERM/SIGINT runs {@code graceful} (the drain), every later one {@code fast} (cut the drain short:
     * {@code turnpike stop} repeats SIGTERM). Both run on the JVM's signal thread and must return quickly.
     */
    static void onStop(Runnable graceful, Runnable fast) {
        Runnable handler = new Runnable() {
            private boolean draining;

            @Override
            public synchronized void run() {
                if (!draining) {
                    draining = true;
                    graceful.run();
                } else {
                    fast.run();
                }
            }
        };
        Signal.handle(new Signal("TERM"), s -> handler.run());
        Signal.handle(new Signal("INT"), s -> handler.run());
    }

    /**
     * SIGHUP runs {@code reload} (on a thread of its own, one at a time: the reload itself is serialized). False when
     * the process inherited SIGHUP as ignored ({@code nohup}): the JVM then keeps it ignored and installs nothing, so
     * {@code turnpike reload} cannot reach this process; the caller says so.
     */
    static boolean onHangup(Runnable reload) {
        return Signal.handle(new Signal("HUP"), s -> new Thread(reload, "turnpike-reload").start())
                != sun.misc.SignalHandler.SIG_IGN;
    }

    /** The warning printed when {@link #onHangup} could not install its handler. */
    static final String HUP_IGNORED = "turnpike: warning: SIGHUP is ignored in this process (started under nohup?):"
            + " `turnpike reload` and kill -HUP cannot reach it; start it without nohup (or under systemd)";
}
