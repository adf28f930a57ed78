package dev.shears.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.SharedData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tasks of {@link LmEvalTasks} through the path {@code shears eval} takes ({@link Evaluator#load}): the
 * few-shot contexts of ARC-Challenge, MMLU and BoolQ equal the contexts of {@code eval/fewshot.json}
 * (written by tools/fixtures/fewshot_fixture.py, which follows lm-eval 4e7e0d47f's code), and the zero-shot
 * documents of SciQ and LogiQA equal what lm-eval's YAMLs render from the same files.
 */
class LmEvalTasksTest {
    static EvalSettings settings(int limit, EvalSettings.Sampling sampling, int shots) {
        return new EvalSettings(limit, sampling, 7, 1, 0, ContextStart.BOS, shots);
    }

    static String context(Item item) {
        return switch (item) {
            case Item.MultipleChoice mc -> mc.choices().get(0).context();
            case Item.Generate g -> g.context();
            case Item.Document d -> throw new AssertionError("a perplexity document has no context");
        };
    }

    /** Every item's context against the fixture: the first ones whole, each by SHA-256. */
    static void matchesFixture(JsonNode t, List<Item> items) {
        String name = t.get("task").asText();
        JsonNode hashes = t.get("sha256");
        assertEquals(hashes.size(), items.size(), name + ": items");
        for (int i = 0; i < items.size(); i++) {
            String context = context(items.get(i));
            if (i < t.get("contexts").size()) assertEquals(t.get("contexts").get(i).asText(), context, name + " document " + i);
            assertEquals(hashes.get(i).asText(), FewShotTest.sha256(context), name + " document " + i);
        }
    }

    @Test
    void arcChallenge25ShotThroughTheTaskEqualsLmEval() throws IOException {
        JsonNode t = FewShotTest.task("arc_challenge");
        Path data = SharedData.require("eval");
        Task catalog = TaskCatalog.task("arc_challenge");
        // the fixture's documents are the dev split (ARC-Challenge's test split here is llm-foundry's copy)
        Task dev = Task.of(catalog.name(), catalog.reference(), catalog.documents().orElseThrow().withEvalSplits(List.of(LmEvalTasks.ARC_CHALLENGE_DEV)));
        Evaluator.Items items = Evaluator.load(dev, data, settings(0, EvalSettings.Sampling.FIRST, 25));
        assertEquals(25, items.shots());
        assertEquals(List.of(), items.notes(), "ARC-Challenge's examples come from train, which is here");
        matchesFixture(t, items.items());
        // each choice is scored after the context as " " + choice (target_delimiter)
        Item.MultipleChoice first = (Item.MultipleChoice) items.items().get(0);
        assertTrue(first.choices().stream().allMatch(c -> c.continuation().startsWith(" ")));
    }

    /*
     * ARC-Easy, from Debian's python3 3.11.2 following arc_easy.yaml and samplers.py:
     *   test = mc/arc_easy.jsonl rows; text = query + "\nAnswer:"; digest as digest() below
     *   train = arc/ARC-Easy-Train.jsonl rendered ("Question: " + stem + "\nAnswer:", the answerKey's text)
     *   rnd = random.Random(1234); per test document: shots = rnd.sample(train, 3)
     *   context = "".join(text + " " + answer + "\n\n" for shots) + document text
     */
    @Test
    void arcEasyZeroAndThreeShotEqualLmEval() throws IOException {
        Path data = SharedData.require("eval");
        Evaluator.Items zero = Evaluator.load(TaskCatalog.task("arc_easy"), data, settings(0, EvalSettings.Sampling.FIRST, 0));
        assertEquals(2376, zero.items().size());
        assertEquals("d9216b5c93fa98f43c108579a7b9d0ebd79cc688c29dd8c54b9a33e45b42a41c", digest(zero.items()));
        Evaluator.Items three = Evaluator.load(TaskCatalog.task("arc_easy"), data, settings(3, EvalSettings.Sampling.FIRST, 3));
        assertEquals(List.of(), three.notes(), "ARC-Easy's examples come from train, which is here");
        assertEquals("Question: Which of these resources will most likely be depleted first?\nAnswer: Fossil fuels\n\n"
                + "Question: Which action is an example of good water management?\nAnswer: turning off the faucet when brushing teeth\n\n"
                + "Question: Which of the following properties provides the BEST way to identify a mineral?\nAnswer: hardness\n\n"
                + "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:", context(three.items().get(0)));
        assertEquals("564b16e4bffbbd97a1a0071b4ecbbeb1ef402abc80198a59f5f523064c19b950",
                FewShotTest.sha256(String.join("\0", three.items().stream().map(LmEvalTasksTest::context).toList())));
    }

    @Test
    void mmluFormalLogic5ShotThroughTheTaskEqualsLmEval() throws IOException {
        JsonNode t = FewShotTest.task("mmlu_formal_logic");
        Evaluator.Items items = Evaluator.load(TaskCatalog.task("mmlu_formal_logic"), SharedData.require("eval"), settings(0, EvalSettings.Sampling.FIRST, 5));
        matchesFixture(t, items.items());
        Item.MultipleChoice first = (Item.MultipleChoice) items.items().get(0);
        assertEquals(List.of(" A", " B", " C", " D"), first.choices().stream().map(Choice::continuation).toList());
        // zero-shot keeps the description, as lm-eval's fewshot_context does
        Evaluator.Items zero = Evaluator.load(TaskCatalog.task("mmlu_formal_logic"), SharedData.require("eval"), settings(1, EvalSettings.Sampling.FIRST, 0));
        assertTrue(context(zero.items().get(0)).startsWith(t.get("description").asText() + PyText.strip(firstQuestion(t))), context(zero.items().get(0)));
    }

    private static String firstQuestion(JsonNode t) throws IOException {
        return FewShotTest.mmluRows(t.get("docs").asText()).get(0).get(0);
    }

    @Test
    void boolq32ShotDrawsFromValidationAndExcludesTheDocumentAsLmEval() throws IOException {
        JsonNode t = FewShotTest.task("boolq");
        Path data = SharedData.require("eval");
        int n = t.get("sha256").size();
        Evaluator.Items items = Evaluator.load(TaskCatalog.task("boolq"), data, settings(n, EvalSettings.Sampling.FIRST, 32));
        assertEquals(1, items.notes().size(), "train is not in ../shared/data: the fallback is reported");
        assertTrue(items.notes().get(0).contains("few-shot examples from validation"), items.notes().get(0));
        matchesFixture(t, items.items());

        // a seeded sample walks every document before its last pick, so each picked one sees its full-split context
        Evaluator.Items seeded = Evaluator.load(TaskCatalog.task("boolq"), data, settings(30, EvalSettings.Sampling.SEEDED, 32));
        int[] picked = Evaluator.picked(items.available(), settings(30, EvalSettings.Sampling.SEEDED, 32));
        int checked = 0;
        for (int k = 0; k < picked.length && picked[k] < n; k++, checked++) {
            assertEquals(t.get("sha256").get(picked[k]).asText(), FewShotTest.sha256(context(seeded.items().get(k))), "document " + picked[k]);
        }
        assertTrue(checked >= 2, "some seeded picks fall inside the fixture's " + n + " documents");
    }

    @Test
    void nqOpen32ShotThroughTheTaskEqualsLmEvalWithDprsTrainingQuestions() throws IOException {
        JsonNode t = FewShotTest.task("nq_open");
        Path data = SharedData.require("eval");
        Evaluator.Items items = Evaluator.load(TaskCatalog.task("nq_open"), data, settings(t.get("sha256").size(), EvalSettings.Sampling.FIRST, 32));
        assertEquals(TaskKind.GENERATE_UNTIL, items.task().kind());
        assertEquals(3610, items.available());
        assertEquals(2, items.notes().size(), items.notes().toString());
        assertEquals("few-shot examples from dev (nq_open/nq-dev.qa.csv): the train split (nq_open/NQ-open.train.jsonl) is not in the data folder",
                items.notes().get(0));
        assertTrue(items.notes().get(1).startsWith("few-shot examples drawn from DPR's NQ dev file"), items.notes().get(1));
        matchesFixture(t, items.items());
        Item.Generate first = (Item.Generate) items.items().get(0);
        assertEquals(List.of("14 December 1972 UTC", "December 1972"), first.targets(), "doc_to_target: every answer");
        assertTrue(first.context().endsWith("\nQ: when was the last time anyone was on the moon?\nA:"), first.context());

        Evaluator.Items zero = Evaluator.load(TaskCatalog.task("nq_open"), data, settings(1, EvalSettings.Sampling.FIRST, 0));
        assertEquals("Answer these questions:\n\nQ: when was the last time anyone was on the moon?\nA:", context(zero.items().get(0)),
                "0-shot: the description and the question");
        assertEquals(List.of(), zero.notes(), "no examples drawn: nothing differs from lm-eval's run");
    }

    @Test
    void triviaqa5ShotThroughTheTaskEqualsLmEvalWithTheValidationFileAsPool() throws IOException {
        JsonNode t = FewShotTest.task("triviaqa");
        Path data = SharedData.require("eval");
        Evaluator.Items items = Evaluator.load(TaskCatalog.task("triviaqa"), data, settings(t.get("sha256").size(), EvalSettings.Sampling.FIRST, 5));
        assertEquals(7993, items.available());
        assertEquals(2, items.notes().size(), items.notes().toString());
        assertTrue(items.notes().get(0).startsWith("evaluated on triviaqa-validation.jsonl's 7,993 questions"), items.notes().get(0));
        assertEquals("few-shot examples from validation (triviaqa/triviaqa-validation.jsonl): the train split (triviaqa/triviaqa-train.jsonl) "
                + "is not in the data folder", items.notes().get(1));
        matchesFixture(t, items.items());
        assertEquals("Question: Which Lloyd Webber musical premiered in the US on 10th December 1993??\nAnswer:",
                context(Evaluator.load(TaskCatalog.task("triviaqa"), data, settings(1, EvalSettings.Sampling.FIRST, 0)).items().get(0)),
                "the question's own question mark and the template's");
    }

    @Test
    void triviaqaFallsBackToLlmFoundrysSubset(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Path subset = tmp.resolve("triviaqa/triviaqa_sm_sub.jsonl");
        java.nio.file.Files.createDirectories(subset.getParent());
        java.nio.file.Files.copy(SharedData.require("eval/triviaqa/triviaqa_sm_sub.jsonl"), subset);
        Evaluator.Items items = Evaluator.load(TaskCatalog.task("triviaqa"), tmp, settings(2, EvalSettings.Sampling.FIRST, 3));
        assertEquals(3000, items.available());
        Item.Generate first = (Item.Generate) items.items().get(0);
        assertTrue(first.context().endsWith("\n\nQuestion: Brunswick, Lancastrian and Pearl Pickler are types of which vegetable??\nAnswer:"),
                first.context());
        assertTrue(first.targets().contains("Onion"), first.targets().toString());
        assertTrue(items.notes().stream().anyMatch(n -> n.startsWith("evaluated on validation (triviaqa/triviaqa_sm_sub.jsonl)")), items.notes().toString());
        assertTrue(items.notes().stream().anyMatch(n -> n.startsWith("llm-foundry's triviaqa_sm_sub.jsonl")), items.notes().toString());
    }

    static String digest(List<Item> items) {
        StringBuilder s = new StringBuilder();
        for (Item item : items) {
            Item.MultipleChoice mc = (Item.MultipleChoice) item;
            if (!s.isEmpty()) s.append('\0');
            s.append(mc.choices().get(0).context());
            for (Choice c : mc.choices()) s.append('\1').append(c.continuation().substring(1));
            s.append('\1').append(mc.gold());
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /*
     * Expected digests from Debian's python3 3.11.2, rendering the files as the YAMLs do:
     *   sciq: text = d['support'].lstrip() + "\nQuestion: " + d['question'] + "\nAnswer:",
     *         choices [distractor1, distractor2, distractor3, correct_answer], gold 3
     *   logiqa: lm_eval/datasets/logiqa/logiqa.py's rows (normalize = replace(".", ". ").strip()) through utils_logiqa.doc_to_text
     *   digest = sha256("\0".join(text + "\1" + "\1".join(choices) + "\1" + str(gold)))
     */
    @Test
    void sciqAndLogiqaZeroShotDocumentsEqualLmEvalsRendering() {
        Path data = SharedData.require("eval");
        Evaluator.Items sciq = Evaluator.load(TaskCatalog.task("sciq"), data, settings(0, EvalSettings.Sampling.FIRST, 0));
        assertEquals(1000, sciq.items().size());
        assertEquals("191e115177fc3796efffdb95f4aaf300faace59ad32772f142bc6c30eb9aea13", digest(sciq.items()));
        Evaluator.Items logiqa = Evaluator.load(TaskCatalog.task("logiqa"), data, settings(0, EvalSettings.Sampling.FIRST, 0));
        assertEquals(651, logiqa.items().size());
        assertEquals("536ce9c4ce4cd181cfa946510e0147113ea4892b02a16ef6d0167c772ce69b70", digest(logiqa.items()));
        assertEquals(List.of(), logiqa.notes(), "zero-shot needs no few-shot split");
    }

    @Test
    void aMissingFewShotSplitRunsZeroShotAndSaysSo(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        java.nio.file.Files.createDirectories(tmp.resolve("mmlu/test"));
        java.nio.file.Files.writeString(tmp.resolve("mmlu/test/anatomy_test.csv"), "What is 1+1?,1,2,3,4,B\n");
        Evaluator.Items items = Evaluator.load(TaskCatalog.task("mmlu_anatomy"), tmp, settings(0, EvalSettings.Sampling.FIRST, 5));
        assertEquals(0, items.shots());
        assertTrue(items.notes().get(0).startsWith("0-shot instead of 5-shot"), items.notes().toString());
        assertEquals("The following are multiple choice questions (with answers) about anatomy.\n\nWhat is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:", context(items.items().get(0)));
        // and the test split missing: the validation split is evaluated, and that is said
        java.nio.file.Files.createDirectories(tmp.resolve("mmlu/val"));
        java.nio.file.Files.move(tmp.resolve("mmlu/test/anatomy_test.csv"), tmp.resolve("mmlu/val/anatomy_val.csv"));
        Evaluator.Items val = Evaluator.load(TaskCatalog.task("mmlu_anatomy"), tmp, settings(0, EvalSettings.Sampling.FIRST, 0));
        assertTrue(val.notes().get(0).startsWith("evaluated on validation (mmlu/val/anatomy_val.csv)"), val.notes().toString());
    }

    @Test
    void groupsWeightBySizeAndPoolStandardErrorsAsLmEval() {
        TaskResult a = new TaskResult("a", TaskKind.MULTIPLE_CHOICE, "", 10, 10, List.of(new Metric("acc", 0.5, 0.1)), 0, 1);
        TaskResult b = new TaskResult("b", TaskKind.MULTIPLE_CHOICE, "", 30, 30, List.of(new Metric("acc", 0.3, 0.2)), 0, 1);
        TaskResult g = new TaskGroup("g", List.of("a", "b"), List.of("acc"), "").aggregate(new ArrayList<>(List.of(a, b)));
        assertEquals((0.5 * 10 + 0.3 * 30) / 40, g.metric("acc").orElseThrow().value(), 1e-15);
        // pooled_sample_stderr: sqrt(sum((n-1) s^2 n) / (sum n - k) / sum n)
        double pooled = Math.sqrt(((10 - 1) * 0.01 * 10 + (30 - 1) * 0.04 * 30) / (40 - 2.0) / 40);
        assertEquals(pooled, g.metric("acc").orElseThrow().stderr(), 1e-15);
        assertEquals(40, g.items());
        assertEquals(57, TaskCatalog.groups("mmlu").getLast().leaves().size());
        assertEquals(List.of("mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities", "mmlu"), TaskCatalog.groups("mmlu").stream().map(TaskGroup::name).toList());
        assertEquals(19, TaskCatalog.groups("mmlu_stem").get(0).leaves().size());
    }
}
