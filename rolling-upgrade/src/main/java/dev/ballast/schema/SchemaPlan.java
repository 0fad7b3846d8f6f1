package dev.ballast.schema;

import dev.ballast.upgrade.Step;

import java.util.List;

/**
 * The plan of a schema change: each statement with its strategy and the reason, and the steps that carry it out in
 * order (one per statement and physical table, then one that waits for every replica and publishes the new schema
 * version).
 */
public record SchemaPlan(List<Planned> statements, List<Step> steps) {

    /** One statement, how it is rolled out, and why. */
    public record Planned(Ddl ddl, Strategy strategy, String reason) {
    }

    public SchemaPlan {
        statements = List.copyOf(statements);
        steps = List.copyOf(steps);
    }

    /** The plan for people: statements with strategy and reason, then the numbered steps. */
    public String render() {
        StringBuilder b = new StringBuilder();
        for (Planned p : statements) {
            b.append(p.ddl().describe()).append('\n');
            b.append("   strategy: ").append(p.strategy().configName()).append(" (").append(p.reason()).append(")\n");
        }
        b.append(steps.size()).append(" steps:\n");
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            b.append(String.format("  %2d. %s", i + 1, s.describe()));
            String physical = s.action().parameters().get("physical");
            if (physical != null) {
                b.append(' ').append(physical);
            }
            String sql = s.action().parameters().get("sql");
            if (sql != null) {
                b.append(": ").append(sql.replaceAll("\\s+", " "));
            }
            b.append('\n');
            if (!s.precondition().isEmpty()) {
                b.append("      when: ").append(s.precondition()).append('\n');
            }
        }
        return b.toString();
    }
}
