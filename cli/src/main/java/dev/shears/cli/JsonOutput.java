package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/** {@code --json} and the command's stdout, for every command that prints a result: one JSON object, or text for people. */
final class JsonOutput {
    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    void print(JsonNode node) {
        out().println(Json.text(node));
    }
}
