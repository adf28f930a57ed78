package dev.shears.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ExactMatch}, {@link GenerateUntil#cut} and the filters against {@code eval/exact_match.json}, written by
 * {@code tools/fixtures/exact_match_fixture.py} with Debian's python3 3.11.2 following lm-eval 4e7e0d47f's
 * {@code exact_match_hf_evaluate}, {@code process_results} (a list of answers), {@code postprocess_generated_text}
 * and the {@code remove_whitespace}/{@code take_first} filters: hand-written cases (articles at word boundaries,
 * Python's lower-casing and numpy's fixed width, ASCII-only punctuation, NUL characters, other regexes) under seven
 * option sets, and the first answers of NQ-open and TriviaQA under the two tasks' options.
 */
class ExactMatchTest {
    static JsonNode fixture() throws IOException {
        try (InputStream in = ExactMatchTest.class.getResourceAsStream("/eval/exact_match.json")) {
            return FewShotTest.JSON.readTree(in);
        }
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return out;
    }

    static ExactMatch options(JsonNode o) {
        List<PyRegex> regexes = o.has("regexes_to_ignore") ? strings(o.get("regexes_to_ignore")).stream().map(PyRegex::compile).toList() : List.of();
        return new ExactMatch(regexes, o.path("ignore_case").asBoolean(false), o.path("ignore_punctuation").asBoolean(false),
                o.path("ignore_numbers").asBoolean(false));
    }

    static ExactMatch catalogMetric(String task) {
        return ((GenerateUntil) TaskCatalog.task(task).documents().orElseThrow().output()).exactMatch();
    }

    @Test
    void theTasksUseTheirYamlsOptions() throws IOException {
        JsonNode options = fixture().get("options");
        assertEquals(options(options.get("nq_open")), catalogMetric("nq_open"));
        assertEquals(options(options.get("triviaqa")), catalogMetric("triviaqa"));
    }

    @Test
    void everyCaseScoresAndNormalisesAsLmEval() throws IOException {
        JsonNode f = fixture();
        int cases = 0, matches = 0;
        for (JsonNode c : f.get("exact_match")) {
            ExactMatch metric = options(f.get("options").get(c.get("options").asText()));
            String prediction = c.get("prediction").asText();
            List<String> targets = strings(c.get("targets"));
            String what = c.get("options").asText() + ": " + prediction + " vs " + targets;
            assertEquals(c.get("prediction_normalized").asText(), metric.normalize(Collections.nCopies(targets.size(), prediction)).get(0), what);
            if (c.has("targets_normalized")) assertEquals(strings(c.get("targets_normalized")), metric.normalize(targets), what);
            double score = metric.score(prediction, targets);
            assertEquals(c.get("score").asDouble(), score, what);
            cases++;
            matches += (int) score;
        }
        assertEquals(1297, cases);
        assertEquals(646, matches);
    }

    @Test
    void theResponseIsCutAtTheStopStringsAndFiltered() throws IOException {
        GenerateUntil nq = (GenerateUntil) TaskCatalog.task("nq_open").documents().orElseThrow().output();
        for (JsonNode c : fixture().get("cuts")) {
            GenerateUntil request = new GenerateUntil(strings(c.get("until")), GenerateUntil.DEFAULT_MAX_GEN_TOKS, nq.filters(), nq.exactMatch());
            List<String> stops = request.stopStrings(c.get("eos").asText());
            assertEquals(strings(c.get("stops")), stops);
            String response = GenerateUntil.cut(c.get("generation").asText(), stops);
            assertEquals(c.get("response").asText(), response, c.get("generation").asText());
            assertEquals(c.get("filtered").asText(), request.filter(response));
        }
        assertEquals(List.of("\n", ".", ","), nq.stopStrings(""), "no EOS text: until alone");
        assertEquals(List.of("\n", ".", ","), nq.stopStrings("\n"), "an EOS text already among the stops is not added again");
    }

    @Test
    void pythonRegexesKeepTheirMeaning() {
        assertEquals("cat", PyRegex.compile("\\b(?:The |the |An |A |The |a |an )").remove("The cat"));
        assertEquals("éThe cat", PyRegex.compile("\\bThe ").remove("éThe cat"), "é is a word character in Python, so no boundary before T");
        assertEquals("x", PyRegex.compile("\\d").remove("٣x"), "\\d is any decimal digit");
        assertEquals("ab", PyRegex.compile("\\s").remove("a\u3000b"), "\\s is str.isspace()");
        assertEquals("a\n", PyRegex.compile("b$").remove("ab\n"), "$ also before a final newline");
        assertEquals("ab\n", PyRegex.compile("b\\Z").remove("ab\n"), "\\Z only at the very end");
        assertEquals("x", PyRegex.compile("[\\w&&]x").remove("&xx"), "&& is literal inside a Python class");
        assertEquals("b", PyRegex.compile("[]a]").remove("]ab"), "] first in a class is a literal");
        assertEquals("ab", PyRegex.compile("(?P<q>['\"])(?P=q)").remove("a''b"));
        assertThrows(ShearsException.class, () -> PyRegex.compile("(unclosed"));
        assertThrows(ShearsException.class, () -> PyRegex.compile("a\\"));
    }

    @Test
    void dprAnswerListsAreReadAsPythonLiterals() {
        assertEquals(List.of("Linda Davis"), PyText.stringList("['Linda Davis']"));
        assertEquals(List.of("Walmart", "McDonald 's"), PyText.stringList("['Walmart', \"McDonald 's\"]"));
        assertEquals(List.of("a'b", "c\"d", "e\\f", "é\n"), PyText.stringList("['a\\'b', \"c\\\"d\", 'e\\\\f', '\\xe9\\n']"));
        assertEquals(List.of(), PyText.stringList("[]"));
        for (String bad : List.of("'a'", "[a]", "['a' 'b']", "['a", "['\\q']")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PyText.stringList(bad), bad);
            assertTrue(e.getMessage().length() < 120, e.getMessage());
        }
        assertEquals(List.of(List.of("q", "[\"a \" \"b\"]")), PyText.csv("q\t\"[\"\"a \"\" \"\"b\"\"]\"\n", '\t'), "DPR's quoted fields");
    }
}
