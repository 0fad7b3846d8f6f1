package dev.ballast.jdbc.internal;

import dev.ballast.jdbc.fastpath.RouteTemplate;
import dev.ballast.jdbc.fastpath.ScatterTemplate;
import dev.ballast.rules.ClusterConfig;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Route templates by SQL text, analysed once. Bounded: past {@value #MAX} texts, new ones are analysed each time. */
public final class Templates {

    static final int MAX = 10_000;

    private final ClusterConfig config;
    private final ConcurrentHashMap<String, Optional<RouteTemplate>> cache = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Optional<ScatterTemplate>> scatter = new ConcurrentHashMap<>();

    Templates(ClusterConfig config) {
        this.config = config;
    }

    /**
     * Forgets every analysed text that names one of {@code tables} (lower-case logical names; a text is matched by its
     * words, so a text whose template sent it to ShardingSphere is analysed again too): the next statement is analysed
     * against the schema as it is now. Statements prepared before keep the template they hold.
     *
     * @return how many texts were forgotten
     */
    public int forget(java.util.Set<String> tables) {
        int n = 0;
        for (String sql : cache.keySet()) {
            if (names(sql, tables) && cache.remove(sql) != null) {
                n++;
            }
        }
        scatter.keySet().removeIf(sql -> names(sql, tables));
        return n;
    }

    private static boolean names(String sql, java.util.Set<String> tables) {
        String lower = sql.toLowerCase(java.util.Locale.ROOT);
        for (String t : tables) {
            int at = lower.indexOf(t);
            while (at >= 0) {
                int end = at + t.length();
                boolean startOk = at == 0 || !Character.isLetterOrDigit(lower.charAt(at - 1)) && lower.charAt(at - 1) != '_';
                boolean endOk = end == lower.length() || !Character.isLetterOrDigit(lower.charAt(end)) && lower.charAt(end) != '_';
                if (startOk && endOk) {
                    return true;
                }
                at = lower.indexOf(t, at + 1);
            }
        }
        return false;
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

    /** The scatter-and-merge plan of {@code sql} (a SELECT over every data node of one sharded table), or null. */
    public ScatterTemplate scatter(String sql) {
        Optional<ScatterTemplate> template = scatter.get(sql);
        if (template == null) {
            template = SqlHints.hasMasterHint(sql) ? Optional.empty() : ScatterTemplate.analyze(sql, config);
            if (scatter.size() < MAX) {
                scatter.putIfAbsent(sql, template);
            }
        }
        return template.orElse(null);
    }
}
