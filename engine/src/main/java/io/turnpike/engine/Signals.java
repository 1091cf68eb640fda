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
}
