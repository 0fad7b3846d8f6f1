package dev.ballast.upgrade;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The "CLI" that {@code RunnerKillTest} kills with SIGKILL: runs operation {@code args[2]} of cluster path
 * {@code args[1]} on ZooKeeper {@code args[0]} with {@link FileAction} in {@code args[3]}, hanging after acting on
 * node {@code args[4]}. A 3 s session, so that its group lock goes soon after the kill.
 */
public final class CrashingRunner {

    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(args[0]).sessionTimeoutMs(3_000)
                .connectionTimeoutMs(3_000).retryPolicy(new RetryOneTime(200)).build();
        client.start();
        client.blockUntilConnected(10, TimeUnit.SECONDS);
        Runner runner = new Runner(new OperationStore(client, args[1]),
                Map.of("touch", new FileAction(Path.of(args[3]), args[4])), 10_000, Progress.plain(System.out));
        runner.run(args[2]);
    }
}
