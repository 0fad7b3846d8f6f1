package dev.ballast.cli;

import dev.ballast.proxy.Auth;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

@Command(name = "hash-password",
        description = "Prints the proxy.users hashes of a password (mysql_native_password and caching_sha2_password), "
                + "to paste into the config instead of the password. Reads the password from standard input when it "
                + "is not given (keeps it out of the shell history).")
final class HashPasswordCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "PASSWORD", description = "The password; default: one line of standard input.")
    String password;

    @Override
    public Integer call() {
        String p = password != null ? password : readLine();
        if (p == null) {
            throw new ParameterException(spec.commandLine(), "Missing password: give it as argument or on standard input");
        }
        spec.commandLine().getOut().println("nativeHash: \"" + Auth.nativeHash(p) + "\"");
        spec.commandLine().getOut().println("sha2Hash: \"" + Auth.sha2Hash(p) + "\"");
        return BallastCli.OK;
    }

    private static String readLine() {
        try {
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        } catch (IOException e) {
            return null;
        }
    }
}
