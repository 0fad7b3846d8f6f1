package dev.ballast.upgrade;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a step does, as plain data: a name that selects the {@link StepAction} that carries it out, and its parameters
 * (sorted by key, so a plan prints and stores the same way every time).
 */
public record Action(String name, Map<String, String> parameters) {

    public Action {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("an action needs a name, got '" + name + "'");
        }
        parameters = Collections.unmodifiableMap(new TreeMap<>(parameters == null ? Map.of() : parameters));
    }

    public static Action of(String name) {
        return new Action(name, Map.of());
    }

    public String parameter(String key) {
        String v = parameters.get(key);
        if (v == null) {
            throw new IllegalArgumentException("action '" + name + "' has no parameter '" + key + "' (has "
                    + parameters.keySet() + ")");
        }
        return v;
    }
}
