package dev.ballast.it.testbed;

/**
 * Starts 2 groups x (master + 2 replicas), prints each node, waits and stops everything. For manual checks:
 *
 * <pre>
 * mvn -q -o -pl it compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp it/target/classes:$(cat it/target/cp.txt) dev.ballast.it.testbed.TestBedMain 60
 * mariadb -h127.0.0.1 -P&lt;port&gt; -uballast_admin -padmin_pw
 * </pre>
 *
 * Argument: seconds to keep the servers up (default 0); Ctrl-C stops them too.
 */
public final class TestBedMain {

    private TestBedMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 0;
        long t0 = System.nanoTime();
        try (TestBed bed = TestBed.start(2, 2)) {
            System.out.printf("2 x (master + 2 replicas) replicating in %d ms, database '%s', directory %s%n",
                    (System.nanoTime() - t0) / 1_000_000, bed.database(), bed.directory());
            System.out.print(bed.describe());
            System.out.printf("users: admin %s/%s, app %s/%s, monitor %s/%s, replication %s/%s%n",
                    TestBedUsers.ADMIN_USER, TestBedUsers.ADMIN_PASSWORD, TestBedUsers.APP_USER, TestBedUsers.APP_PASSWORD,
                    TestBedUsers.MONITOR_USER, TestBedUsers.MONITOR_PASSWORD, TestBedUsers.REPL_USER, TestBedUsers.REPL_PASSWORD);
            if (seconds > 0) {
                System.out.printf("keeping them up for %d s%n", seconds);
                Thread.sleep(seconds * 1000);
            }
        }
        System.out.println("stopped");
    }
}
