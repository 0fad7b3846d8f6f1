package dev.ballast.jdbc.internal;

import dev.ballast.jdbc.fastpath.RouteTemplate;
import dev.ballast.rules.ClusterConfig;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Route templates by SQL text, analysed once. Bounded: past {@value #MAX} texts, new ones are analysed each time. */
public final class Templates {

    static final int MAX = 10_000;

    private final ClusterConfig config;
    private final ConcurrentHashMap<String, Optional<RouteTemplate>> cache = new ConcurrentHashMap<>();

    Templates(ClusterConfig config) {
        this.config = config;
    }

    /** The template of {@code sql}, or null when it must go through ShardingSphere. */
    public RouteTemplate of(String sql) {
        if (!config.fastPath()) {
            return null;
        }
        Optional<RouteTemplate> template = cache.get(sql);
        if (template == null) {
            // a hinted statement goes to the master through ShardingSphere, whatever the template would say
            template = SqlHints.hasMasterHint(sql) ? Optional.empty() : RouteTemplate.analyze(sql, config);
            if (cache.size() < MAX) {
                cache.putIfAbsent(sql, template);
            }
        }
        return template.orElse(null);
    }
}
