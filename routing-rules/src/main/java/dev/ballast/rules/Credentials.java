package dev.ballast.rules;

/** The application user Ballast connects as. It should not hold READ_ONLY ADMIN (MariaDB) or SUPER. */
public record Credentials(String user, String password) {

    @Override
    public String toString() {
        return "Credentials[user=" + user + ", password=***]";
    }
}
