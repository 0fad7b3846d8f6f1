package dev.ballast.jdbc.internal;

import org.apache.shardingsphere.infra.algorithm.loadbalancer.core.LoadBalanceAlgorithm;

import java.util.List;
import java.util.Properties;

/** ShardingSphere's read load balancer SPI (type {@value #TYPE}), delegating to a {@link ReadRouter}. */
public final class BallastLoadBalancer implements LoadBalanceAlgorithm {

    public static final String TYPE = "BALLAST";
    public static final String ROUTER = "router";

    private ReadRouter router;

    @Override
    public void init(Properties props) {
        router = ReadRouter.byId(props.getProperty(ROUTER));
    }

    @Override
    public String getTargetName(String groupName, List<String> availableTargetNames) {
        return router.choose(groupName, availableTargetNames);
    }

    @Override
    public String getType() {
        return TYPE;
    }
}
