package dev.ballast.cli;

import picocli.CommandLine.Option;

/** {@code -h/--help} for a verb (the version is {@code ballast version} / {@code ballast --version}, not per verb). */
final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;
}
