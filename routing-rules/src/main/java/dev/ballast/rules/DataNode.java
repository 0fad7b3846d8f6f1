package dev.ballast.rules;

/** One physical table on one replica group. */
public record DataNode(String group, String table) {

    @Override
    public String toString() {
        return group + "." + table;
    }
}
