package dev.ballast.cli;

import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "proxy",
        description = "Runs the MySQL-protocol proxy until SIGTERM/SIGINT: listens on proxy.listen, answers GET /health "
                + "on proxy.health, follows the topology in ZooKeeper (or the config's, fixed). SIGTERM drains first: "
                + "/health answers 404, no new clients, connected ones are served until they leave or "
                + "proxy.drainTimeoutMs passes.")
final class ProxyCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        ClusterConfig c = config.load();
        CountDownLatch stop = new CountDownLatch(1);
        ProxyServer proxy = new ProxyServer(c);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            int cut = proxy.drainAndClose();
            System.err.println("ballast proxy stopped (" + cut + " client connections cut at proxy.drainTimeoutMs)");
            stop.countDown();
        }, "ballast-proxy-shutdown"));
        proxy.start();
        spec.commandLine().getOut().println("ballast proxy for cluster " + c.name() + " listening on "
                + c.proxy().listen().host() + ":" + proxy.port()
                + c.proxy().health().map(h -> ", health on http://" + h + "/health").orElse(""));
        spec.commandLine().getOut().flush();
        stop.await();
        return BallastCli.OK;
    }
}
