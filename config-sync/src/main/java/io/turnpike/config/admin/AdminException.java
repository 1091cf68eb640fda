package io.turnpike.config.admin;

/** Ends a request with {@code {"error_msg": message}} and the given status. */
final class AdminException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;

    AdminException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    AdminResponse response() {
        return AdminResponse.error(status, getMessage());
    }
}
