package dev.shears.eval;

import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built-in paper suites name tasks that exist, with the paper's shot counts, and metrics those tasks report. */
class SuiteTest {
    @Test
    void everyColumnIsATaskOrGroupOfTheCatalogWithAMetricItReports() {
        for (String name : Suite.names()) {
            Suite s = Suite.named(name);
            for (Suite.Column c : s.columns()) {
                assertTrue(TaskCatalog.isGroup(c.task()) || TaskCatalog.names().contains(c.task()), name + ": " + c.task());
                String kind = TaskCatalog.isGroup(c.task()) ? "group" : TaskCatalog.task(c.task()).kind().name();
                List<String> reported = switch (kind) {
                    case "group" -> List.of("acc");
                    case "MULTIPLE_CHOICE" -> List.of("acc", "acc_norm");
                    case "LAST_WORD" -> List.of("acc", "perplexity");
                    case "ROLLING_PERPLEXITY" -> List.of("word_perplexity", "byte_perplexity", "bits_per_byte");
                    case "GENERATE_UNTIL" -> List.of("exact_match");
                    default -> throw new AssertionError(kind);
                };
                assertTrue(reported.contains(c.metric()), name + ": " + c.task() + " reports " + reported + ", not " + c.metric());
            }
            assertFalse(s.notes().isEmpty(), name + " says what differs from the paper");
        }
    }

    @Test
    void shearedLlamaHasThePapersShots() {
        Map<String, Integer> shots = Suite.named("sheared-llama").shots();
        assertEquals(Map.ofEntries(Map.entry("sciq", 0), Map.entry("piqa", 0), Map.entry("winogrande", 0), Map.entry("arc_easy", 0),
                Map.entry("arc_challenge", 25), Map.entry("hellaswag", 10), Map.entry("logiqa", 0), Map.entry("boolq", 32),
                Map.entry("lambada_openai", 0), Map.entry("nq_open", 32), Map.entry("mmlu", 5)), shots);
        assertEquals(List.of("Commonsense & Reading Comprehension", "Continued LM", "World Knowledge"), List.copyOf(Suite.named("sheared-llama").groups().keySet()));
    }

    @Test
    void anUnknownSuiteNamesTheKnownOnes() {
        ShearsException e = assertThrows(ShearsException.class, () -> Suite.named("llama"));
        assertTrue(e.getMessage().contains("sheared-llama, openba-v2, jha"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Suite("x", "x", "x", List.of(new Suite.Column("g", "a", "copa", 0, "acc"),
                new Suite.Column("g", "b", "copa", 5, "acc")), List.of()), "one task at two shot counts");
    }
}
