package dev.shears.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.SharedData;
import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FewShot} and {@link FewShotSampler} against the contexts lm-evaluation-harness (4e7e0d47f)
 * builds for ARC-Challenge (25-shot), MMLU formal_logic (5-shot), BoolQ (32-shot), HellaSwag (10-shot), and the
 * generation tasks NQ-open (32-shot) and TriviaQA (5-shot), whose examples are their first answer. The expected
 * strings in {@code eval/fewshot.json} were written by {@code tools/fixtures/fewshot_fixture.py} with
 * Debian's python3 3.11.2 from the files of ../shared/data/eval; this test renders the same files
 * here, as lm-eval's task YAMLs do, and compares every context exactly (the first two whole, every
 * one by SHA-256 of its UTF-8 bytes) and every document's drawn examples.
 */
class FewShotTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode fixture() throws IOException {
        try (InputStream in = FewShotTest.class.getResourceAsStream("/eval/fewshot.json")) {
            return JSON.readTree(in);
        }
    }

    static JsonNode task(String name) throws IOException {
        for (JsonNode t : fixture().get("tasks")) if (t.get("task").asText().equals(name)) return t;
        throw new AssertionError("no task " + name + " in the fixture");
    }

    static List<JsonNode> jsonl(String relative) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(SharedData.require(relative), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) rows.add(JSON.readTree(line));
        }
        return rows;
    }

    // arc_easy.yaml: "Question: {{question}}\nAnswer:", the answer is choices.text[choices.label.index(answerKey)].
    static FewShot.Shot arc(JsonNode row) {
        JsonNode q = row.get("question");
        String answer = null;
        for (JsonNode c : q.get("choices")) if (c.get("label").asText().equals(row.get("answerKey").asText())) answer = c.get("text").asText();
        return new FewShot.Shot("Question: " + q.get("stem").asText() + "\nAnswer:", answer);
    }

    // super_glue/boolq/default.yaml: "{{passage}}\nQuestion: {{question}}?\nAnswer:", choices ["no", "yes"][label];
    // llm-foundry's query is "Passage: {passage}\nQuestion: {question}?".
    static FewShot.Shot boolq(JsonNode row) {
        String query = row.get("query").asText();
        return new FewShot.Shot(query.substring("Passage: ".length()) + "\nAnswer:", row.get("choices").get(row.get("gold").asInt()).asText());
    }

    // mmlu/default/_default_template_yaml: "{{question.strip()}}\nA. {{choices[0]}}…\nD. {{choices[3]}}\nAnswer:", answer letter.
    static FewShot.Shot mmlu(List<String> row) {
        String text = pyStrip(row.get(0)) + "\nA. " + row.get(1) + "\nB. " + row.get(2) + "\nC. " + row.get(3) + "\nD. " + row.get(4) + "\nAnswer:";
        return new FewShot.Shot(text, row.get(5));
    }

    static String pyStrip(String s) {
        return PyText.strip(s);
    }

    static List<List<String>> csv(String text) {
        return PyText.csv(text);
    }

    static List<List<String>> mmluRows(String relative) throws IOException {
        return csv(Files.readString(SharedData.require(relative), StandardCharsets.UTF_8));
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static FewShot.Settings settings(JsonNode t) {
        FewShotSampler sampler = t.get("sampler").asText().equals(FewShotSampler.FIRST_N.lmEvalName()) ? FewShotSampler.FIRST_N : FewShotSampler.RANDOM;
        FewShot.Exclusion exclusion = t.get("exclusion").asBoolean() ? FewShot.Exclusion.CURRENT_DOCUMENT : FewShot.Exclusion.NONE;
        FewShot.Format format = new FewShot.Format(t.get("description").asText(), t.get("target_delimiter").asText(), t.get("fewshot_delimiter").asText());
        return new FewShot.Settings(t.get("shots").asInt(), sampler, exclusion, format);
    }

    /**
     * Replays the task in lm-eval's order and compares with the fixture: the pool positions each
     * document's {@code rnd.sample} returned (replayed on a second generator), then each context.
     */
    static <D> void matchesLmEval(JsonNode t, List<D> pool, List<D> docs, Function<D, FewShot.Shot> render) {
        FewShot.Settings settings = settings(t);
        JsonNode drawn = t.get("drawn");
        JsonNode hashes = t.get("sha256");
        List<Integer> positions = IntStream.range(0, pool.size()).boxed().toList();
        PyRandom positionRnd = new PyRandom(FewShot.SEED);
        FewShot<D> fewShot = new FewShot<>(pool, render, settings, new PyRandom(FewShot.SEED));
        String name = t.get("task").asText();
        int extra = settings.exclusion() == FewShot.Exclusion.CURRENT_DOCUMENT ? 1 : 0;
        for (int i = 0; i < hashes.size(); i++) {
            List<Integer> expected = new ArrayList<>();
            drawn.get(i).forEach(v -> expected.add(v.asInt()));
            List<Integer> actual = switch (settings.sampler()) {
                case RANDOM -> positionRnd.sample(positions, settings.shots() + extra); // what lm-eval's rnd.sample returned
                case FIRST_N -> positions.subList(0, settings.shots());
            };
            assertEquals(expected, actual, name + " document " + i + ": examples drawn");

            D doc = docs.get(i);
            String context = fewShot.context(doc, render.apply(doc).text());
            if (i < t.get("contexts").size()) assertEquals(t.get("contexts").get(i).asText(), context, name + " document " + i);
            assertEquals(hashes.get(i).asText(), sha256(context), name + " document " + i + ": SHA-256 of the context; it begins "
                    + context.substring(0, Math.min(200, context.length())));
        }
    }

    @Test
    void arcChallenge25ShotMatchesLmEval() throws IOException {
        JsonNode t = task("arc_challenge");
        List<JsonNode> train = jsonl(t.get("pool").asText());
        List<JsonNode> dev = jsonl(t.get("docs").asText());
        assertEquals(1119, train.size());
        matchesLmEval(t, train, dev, FewShotTest::arc);
        assertEquals(dev.size(), t.get("sha256").size(), "every ARC-Challenge dev document is compared");
    }

    @Test
    void mmluFormalLogic5ShotMatchesLmEval() throws IOException {
        JsonNode t = task("mmlu_formal_logic");
        List<List<String>> dev = mmluRows(t.get("pool").asText());
        List<List<String>> test = mmluRows(t.get("docs").asText());
        assertEquals(5, dev.size());
        assertEquals("The following are multiple choice questions (with answers) about formal logic.\n\n", t.get("description").asText());
        matchesLmEval(t, dev, test, FewShotTest::mmlu);
        assertEquals(test.size(), t.get("sha256").size());
    }

    @Test
    void boolq32ShotMatchesLmEvalIncludingTheExcludedDocument() throws IOException {
        JsonNode t = task("boolq");
        List<JsonNode> validation = jsonl(t.get("pool").asText());
        assertTrue(t.get("exclusion").asBoolean(), "boolq has neither fewshot_split nor test_split: None == None excludes the document");
        assertTrue(t.get("excluded_at").size() >= 2, "some documents drew themselves and were dropped");
        for (JsonNode at : t.get("excluded_at")) {
            int doc = at.asInt();
            List<Integer> drawn = new ArrayList<>();
            t.get("drawn").get(doc).forEach(v -> drawn.add(v.asInt()));
            assertTrue(drawn.contains(doc), "document " + doc + " is among its own " + drawn.size() + " draws");
        }
        matchesLmEval(t, validation, validation, FewShotTest::boolq);
    }

    @Test
    void hellaswag10ShotFromTheTrainingRowsMatchesLmEval() throws IOException {
        JsonNode t = task("hellaswag");
        List<Doc> train = HellaSwagDocs.train(SharedData.require(t.get("pool").asText()));
        List<Doc> validation = HellaSwagDocs.validation(SharedData.require(t.get("docs").asText()));
        assertEquals(3368, train.size(), "the copy's complete rows; the cut last line is left out");
        assertTrue(t.get("exclusion").asBoolean(), "no fewshot_split and no test_split: sample draws n + 1");
        matchesLmEval(t, train, validation, d -> new FewShot.Shot(d.text(), d.choices().get(d.gold())));
    }

    @Test
    void nqOpen32ShotFromDprsTrainingQuestionsMatchesLmEval() throws IOException {
        JsonNode t = task("nq_open");
        List<Doc> pool = LmEvalTasks.dprRows(SharedData.require(t.get("pool").asText()));
        List<Doc> validation = LmEvalTasks.NQ_OPEN_VALIDATION.read(SharedData.require("eval"));
        assertEquals(8757, pool.size(), "every row of DPR's file, CSV-quoted ones included");
        assertEquals(3610, validation.size());
        assertEquals("Answer these questions:\n\n", t.get("description").asText());
        assertEquals("\n", t.get("fewshot_delimiter").asText());
        assertTrue(t.get("exclusion").asBoolean(), "nq_open.yaml sets neither fewshot_split nor test_split");
        matchesLmEval(t, pool, validation, Doc::shot);
    }

    @Test
    void triviaqa5ShotFromTheValidationFileItselfMatchesLmEval() throws IOException {
        JsonNode t = task("triviaqa");
        List<Doc> validation = LmEvalTasks.TRIVIAQA_VALIDATION.read(SharedData.require("eval"));
        assertEquals(7993, validation.size());
        assertTrue(t.get("exclusion").asBoolean());
        matchesLmEval(t, validation, validation, Doc::shot);
    }

    @Test
    void hellaswagCapitalizesAsPython() {
        assertEquals("Then", HellaSwagDocs.capitalize("tHEN"));
        assertEquals("", HellaSwagDocs.capitalize(""));
        assertEquals("\u01c5a", HellaSwagDocs.capitalize("\u01c6A"), "title case, not upper case, as Python 3.8+");
        assertEquals("A man. Is here", HellaSwagDocs.preprocess("  A man [title] Is [step] here "));
    }

    @Test
    void contextIsDescriptionExamplesAndText() {
        List<String> pool = List.of("a", "b", "c");
        Function<String, FewShot.Shot> render = d -> new FewShot.Shot("Q " + d, d.equals("b") ? "" : "A " + d);
        FewShot.Format format = new FewShot.Format("Desc\n\n", ":", "|");
        FewShot<String> first = new FewShot<>(pool, render, new FewShot.Settings(3, FewShotSampler.FIRST_N, FewShot.Exclusion.NONE, format), new PyRandom(1));
        // lm-eval's build_qa_turn writes an example with no answer as its text alone, without delimiters.
        assertEquals("Desc\n\nQ a:A a|Q bQ c:A c|Q z", first.context("z", "Q z"));
        FewShot<String> excluding = new FewShot<>(pool, render, new FewShot.Settings(2, FewShotSampler.FIRST_N, FewShot.Exclusion.CURRENT_DOCUMENT, format), new PyRandom(1));
        assertEquals("Desc\n\nQ bQ c:A c|", excluding.prefix("a"));
        FewShot<String> none = new FewShot<>(pool, render, new FewShot.Settings(0, FewShotSampler.RANDOM, FewShot.Exclusion.CURRENT_DOCUMENT, FewShot.Format.DEFAULT), new PyRandom(1));
        assertEquals("Q z", none.context("z", "Q z"));
    }

    @Test
    void randomSamplerDrawsOneMoreWhenExcludingAndAdvancesOncePerDocument() {
        List<Integer> pool = IntStream.range(0, 40).boxed().toList();
        PyRandom reference = new PyRandom(FewShot.SEED);
        PyRandom rnd = new PyRandom(FewShot.SEED);
        for (int doc = 0; doc < 40; doc++) {
            List<Integer> drawn = reference.sample(pool, 6);
            int self = doc;
            List<Integer> expected = drawn.stream().filter(x -> x != self).limit(5).toList();
            assertEquals(expected, FewShotSampler.RANDOM.sample(pool, 5, Optional.of(doc), rnd), "document " + doc);
        }
        assertEquals(new PyRandom(7).sample(pool, 5), FewShotSampler.RANDOM.sample(pool, 5, Optional.empty(), new PyRandom(7)));
        PyRandom untouched = new PyRandom(3);
        FewShotSampler.FIRST_N.sample(pool, 5, Optional.empty(), untouched);
        assertEquals(new PyRandom(3).random(), untouched.random(), "first_n never draws from the generator");
    }

    @Test
    void exclusionFollowsLmEvalsSplitTest() {
        assertEquals(FewShot.Exclusion.CURRENT_DOCUMENT, FewShot.Exclusion.of(Optional.empty(), Optional.empty()), "boolq, hellaswag: None == None");
        assertEquals(FewShot.Exclusion.NONE, FewShot.Exclusion.of(Optional.empty(), Optional.of("test")), "arc");
        assertEquals(FewShot.Exclusion.NONE, FewShot.Exclusion.of(Optional.of("dev"), Optional.of("test")), "mmlu");
        assertEquals(FewShot.Exclusion.CURRENT_DOCUMENT, FewShot.Exclusion.of(Optional.of("test"), Optional.of("test")));
    }

    @Test
    void tooSmallPoolsFailWithOneLine() {
        List<Integer> five = List.of(0, 1, 2, 3, 4);
        assertThrows(ShearsException.class, () -> FewShotSampler.RANDOM.sample(five, 5, Optional.of(9), new PyRandom(1)));
        assertEquals(five, FewShotSampler.RANDOM.sample(five, 5, Optional.empty(), new PyRandom(1)).stream().sorted().toList());
        assertThrows(ShearsException.class, () -> FewShotSampler.FIRST_N.sample(five, 5, Optional.of(2), new PyRandom(1)));
        assertThrows(ShearsException.class, () -> FewShotSampler.RANDOM.sample(List.of(1, 1), 1, Optional.of(1), new PyRandom(0)),
                "a document duplicated in the pool can be drawn twice and leave too few examples, as lm-eval's assertion");
    }

    @Test
    void csvReadsQuotedFieldsAsPythonDoes() {
        assertEquals(List.of(List.of("a, b", "say \"hi\"", "two\nlines", "", "x")), csv("\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\",,x\n"));
    }
}
