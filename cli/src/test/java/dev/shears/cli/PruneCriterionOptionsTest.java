package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.GroupReduction;
import dev.shears.prune.TaylorVariant;
import dev.shears.recipe.PruneStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliTest.shears;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The criterion variants as {@code shears prune} takes them: help, defaults, parsing, what the outputs record. */
class PruneCriterionOptionsTest {
    @Test
    void helpListsEveryVariantAndTheDefaultsOfTheOneDefaultsRecord() {
        String help = shears("prune", "--help").out().replaceAll("\\s+", " ");
        PruneStage.Criteria d = PruneStage.DEFAULT.criteria();
        CriterionOptions o = CriterionOptions.DEFAULT;
        assertEquals(o.taylor().key(), d.taylor());
        assertEquals(o.taylorReduction().key(), d.taylorReduction());
        assertEquals(o.angularTokens().key(), d.angularTokens());
        assertEquals(o.finalState().key(), d.finalState());
        for (String option : new String[] {"--taylor=VARIANT", "--taylor-reduction=HOW", "--angular-tokens=WHICH", "--final-state=STATE"}) {
            assertTrue(help.contains(option), option + " in " + help);
        }
        assertTrue(help.contains(String.join(", ", CriterionOptions.keys(TaylorVariant.class))), help);
        assertTrue(help.contains(String.join(", ", CriterionOptions.keys(GroupReduction.class))), help);
        for (String item : new String[] {"Default: " + d.taylor(), "Default: " + d.taylorReduction(), "Default: " + d.angularTokens(), "Default: " + d.finalState()}) {
            assertTrue(help.contains(item), item + " in " + help);
        }
    }

    @Test
    void theChosenVariantsReachTheScoresAndAreRecordedInTheOutputs(@TempDir Path tmp) throws Exception {
        Path hf = SharedData.require("models/stories260K/hf");
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        Path text = SharedData.require("eval/tinystories/tinystories_val_head.txt");
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        String[] common = {"prune", hf.toString(), "--tokenizer", tok.toString(), "--calibration", text.toString(), "--samples", "4", "--seq-len", "32",
                "--ffn", "0.5", "--layers", "0.2", "--importance", "taylor", "--json"};
        CliTest.Run ra = shears(concat(common, "--out", a.toString(), "--taylor", "param-mix", "--taylor-reduction", "MAX", "--angular-tokens", "all",
                "--final-state", "residual", "--layer-importance", "angular"));
        assertEquals(0, ra.code(), ra.err());
        JsonNode options = ra.json().path("criterionOptions");
        assertEquals("param-mix", options.path("taylor").asText());
        assertEquals("max", options.path("taylorReduction").asText());
        assertEquals("all", options.path("angularTokens").asText());
        assertEquals("residual", options.path("finalState").asText());
        assertEquals(options, Json.MAPPER.readTree(Files.readString(a.resolve("importance.json"))).path("options"), "importance.json records the same");
        assertTrue(Files.readString(a.resolve("report.md")).contains("**taylor (param-mix, max over the group)**"), Files.readString(a.resolve("report.md")));
        assertTrue(Files.readString(a.resolve("report.md")).contains("**angular (all tokens, final state residual)**"));

        CliTest.Run rb = shears(concat(common, "--out", b.toString()));
        assertEquals(0, rb.code(), rb.err());
        assertEquals(CriterionOptions.DEFAULT.taylor().key(), rb.json().path("criterionOptions").path("taylor").asText());
        assertFalse(Files.readString(a.resolve("importance.json")).equals(Files.readString(b.resolve("importance.json"))), "the variant changed the scores");
    }

    @Test
    void unknownVariantsAndTheRetiredCriterionAreOneLineErrors(@TempDir Path tmp) {
        String[] base = {"prune", tmp.resolve("m").toString(), "--ffn", "0.5", "--out", tmp.resolve("o").toString()};
        record Case(String option, String value, String expected) {
        }
        for (Case c : new Case[] {new Case("--taylor", "param-third", "unknown taylor 'param-third' (known: gate, gate-per-sequence, gate-mix,"),
                new Case("--taylor-reduction", "median", "unknown taylorReduction 'median' (known: sum, mean, max, prod)"),
                new Case("--angular-tokens", "first", "unknown angularTokens 'first' (known: last, all)"),
                new Case("--final-state", "pre", "unknown finalState 'pre' (known: normed, residual)"),
                new Case("--importance", "taylor-second-order", "is now taylor with the variant gate-mix-per-sequence")}) {
            CliTest.Run r = shears(concat(base, c.option(), c.value()));
            assertEquals(2, r.code(), c.option() + ": " + r.err());
            assertTrue(r.err().contains(c.expected()), c.option() + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), c.option() + ": one line: " + r.err());
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
