package dev.ballast.rules;

/** How autocommit reads are spread over a group's replicas. */
public record ReadPolicy(LoadBalance loadBalance) {

    public static final ReadPolicy DEFAULTS = new ReadPolicy(LoadBalance.ROUND_ROBIN);

    public enum LoadBalance {
        ROUND_ROBIN("round-robin"), RANDOM("random");

        private final String configName;

        LoadBalance(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }
}
