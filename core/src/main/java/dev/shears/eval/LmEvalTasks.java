package dev.shears.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import static dev.shears.eval.JsonlItems.gold;
import static dev.shears.eval.JsonlItems.text;
import static dev.shears.eval.JsonlItems.texts;

/**
 * The tasks configured exactly as lm-evaluation-harness 4e7e0d47f's YAMLs configure them (splits, few-shot
 * sampler and exclusion, description, delimiters, metric list), each next to the YAML lines it follows, and
 * the readers that turn the local copies in ../shared/data/eval (SOURCES.md, SOURCES-2.md) into the fields
 * lm-eval's Hugging Face datasets have. None of these YAMLs sets {@code num_fewshot}, so every task's
 * default is 0 shots, as in lm-eval.
 */
public final class LmEvalTasks {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> ACC = List.of("acc");
    static final List<String> ACC_AND_NORM = List.of("acc", "acc_norm");
    static final List<String> EXACT_MATCH = List.of("exact_match");
    static final List<String> LETTERS = List.of("A", "B", "C", "D");

    private LmEvalTasks() {
    }

    // --- arc/arc_easy.yaml (arc_challenge.yaml includes it): test_split test, training_split train, no fewshot_split,
    // so examples come from train (Task.fewshot_docs) and test != None: no exclusion. "Question: {{question}}\nAnswer:",
    // choices {{choices.text}}, target {{choices.label.index(answerKey)}}; metrics acc, acc_norm.

    /** ARC-Challenge test, llm-foundry's copy ({@code query} "Question: {question}", choices, gold). */
    static final Split ARC_CHALLENGE_TEST = foundryArc("mc/arc_challenge.jsonl");
    /** ARC-Challenge dev (AI2's jsonl: validation in Hugging Face's allenai/ai2_arc). */
    public static final Split ARC_CHALLENGE_DEV = new Split("validation", "arc/ARC-Challenge-Dev.jsonl", jsonl(LmEvalTasks::ai2Arc));
    static final Split ARC_CHALLENGE_TRAIN = new Split("train", "arc/ARC-Challenge-Train.jsonl", jsonl(LmEvalTasks::ai2Arc));
    /** ARC-Easy test, llm-foundry's copy; train is AI2's. ARC-Easy's dev split is not in ../shared/data. */
    static final Split ARC_EASY_TEST = foundryArc("mc/arc_easy.jsonl");
    static final Split ARC_EASY_TRAIN = new Split("train", "arc/ARC-Easy-Train.jsonl", jsonl(LmEvalTasks::ai2Arc));

    static Task arcChallenge() {
        return arc("arc_challenge", List.of(ARC_CHALLENGE_TEST, ARC_CHALLENGE_DEV), List.of(ARC_CHALLENGE_TRAIN, ARC_CHALLENGE_DEV));
    }

    static Task arcEasy() {
        return arc("arc_easy", List.of(ARC_EASY_TEST), List.of(ARC_EASY_TRAIN));
    }

    private static Task arc(String name, List<Split> eval, List<Split> examples) {
        return Task.of(name, "lm-eval " + name + ".yaml: \"Question: {question}\\nAnswer:\" + \" \" + choice; examples from train",
                new DocumentTask(eval, examples, FewShotSampler.RANDOM, FewShot.Exclusion.NONE, FewShot.Format.DEFAULT, ACC_AND_NORM));
    }

    private static Split foundryArc(String file) {
        return new Split("test", file,
                jsonl(line -> new Doc(line, text(line, "query") + "\nAnswer:", texts(line, "choices"), gold(line, "gold", texts(line, "choices").size()))));
    }

    /** allenai/ai2_arc's fields from AI2's row: question = question.stem, choices.text, label index of answerKey. */
    static Doc ai2Arc(JsonNode row) {
        JsonNode question = row.get("question");
        if (question == null || !question.isObject()) throw new IllegalArgumentException("missing \"question\" (an object with stem and choices)");
        List<String> choices = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (JsonNode c : question.path("choices")) {
            choices.add(text(c, "text"));
            labels.add(text(c, "label"));
        }
        int gold = labels.indexOf(text(row, "answerKey"));
        if (gold < 0) throw new IllegalArgumentException("answerKey " + row.get("answerKey") + " is not one of the labels " + labels);
        return new Doc(row, "Question: " + text(question, "stem") + "\nAnswer:", choices, gold);
    }

    // --- hellaswag/hellaswag.yaml + utils.py: training_split train, validation_split validation, no test_split and no
    // fewshot_split: lm-eval evaluates validation, draws random examples from train, and None == None excludes the
    // document. process_docs (HellaSwagDocs), doc_to_text "{{query}}", doc_to_choice "choices", target label; acc, acc_norm.

    static final Split HELLASWAG_VALIDATION = new Split("validation", "hellaswag/hellaswag_val_full.txt", HellaSwagDocs::validation,
            "contexts from llama.cpp's hellaswag_val_full.txt, built from ctx without lm-eval's ctx_b.capitalize() (about a third differ in one letter's case)");
    static final Split HELLASWAG_TRAIN = new Split("train", "hellaswag/hellaswag_train.jsonl", HellaSwagDocs::train,
            "few-shot examples drawn from the first 3,368 training rows (hellaswag_train.jsonl) where lm-eval draws from all 39,905: other examples than lm-eval's");

    static Task hellaswag() {
        return Task.of("hellaswag", "lm-eval hellaswag.yaml: preprocess(\"{activity_label}: {ctx_a} {ctx_b.capitalize()}\") + \" \" + preprocess(ending); examples from train",
                new DocumentTask(List.of(HELLASWAG_VALIDATION), List.of(HELLASWAG_TRAIN), FewShotSampler.RANDOM,
                        FewShot.Exclusion.of(Optional.empty(), Optional.empty()), FewShot.Format.DEFAULT, ACC_AND_NORM));
    }

    // --- super_glue/boolq/default.yaml: training_split train, validation_split validation, no test_split and no
    // fewshot_split: lm-eval evaluates validation, draws examples from train, and None == None excludes the document.
    // "{{passage}}\nQuestion: {{question}}?\nAnswer:", choices ["no", "yes"], target label; metric acc.

    /** BoolQ validation, llm-foundry's copy: query "Passage: {passage}\nQuestion: {question}?", choices [no, yes], gold. */
    static final Split BOOLQ_VALIDATION = new Split("validation", "mc/boolq.jsonl", jsonl(LmEvalTasks::foundryBoolq));
    /** Not in ../shared/data (too large to obtain): a file in the same layout is used when present. */
    static final Split BOOLQ_TRAIN = new Split("train", "mc/boolq_train.jsonl", jsonl(LmEvalTasks::foundryBoolq));

    static Task boolq() {
        return Task.of("boolq", "lm-eval super_glue/boolq: \"{passage}\\nQuestion: {question}?\\nAnswer:\" + \" no\"/\" yes\"; examples from train",
                new DocumentTask(List.of(BOOLQ_VALIDATION), List.of(BOOLQ_TRAIN, BOOLQ_VALIDATION),
                        FewShotSampler.RANDOM, FewShot.Exclusion.of(Optional.empty(), Optional.empty()), FewShot.Format.DEFAULT, ACC));
    }

    static Doc foundryBoolq(JsonNode line) {
        String query = text(line, "query");
        String prefix = "Passage: ";
        List<String> choices = texts(line, "choices");
        return new Doc(line, (query.startsWith(prefix) ? query.substring(prefix.length()) : query) + "\nAnswer:", choices, gold(line, "gold", choices.size()));
    }

    // --- sciq/sciq.yaml: test_split test, training_split train (examples), no exclusion.
    // "{{support.lstrip()}}\nQuestion: {{question}}\nAnswer:", choices [distractor1, distractor2, distractor3, correct_answer],
    // target 3; metrics acc, acc_norm. AI2's JSON arrays carry allenai/sciq's fields; train is not in ../shared/data.

    static Task sciq() {
        Split.Reader reader = LmEvalTasks::sciqRows;
        return Task.of("sciq", "lm-eval sciq.yaml: \"{support.lstrip()}\\nQuestion: {question}\\nAnswer:\" + \" \" + choice; examples from train",
                new DocumentTask(List.of(new Split("test", "sciq/test.json", reader), new Split("validation", "sciq/valid.json", reader)),
                        List.of(new Split("train", "sciq/train.json", reader), new Split("validation", "sciq/valid.json", reader)),
                        FewShotSampler.RANDOM, FewShot.Exclusion.NONE, FewShot.Format.DEFAULT, ACC_AND_NORM));
    }

    static List<Doc> sciqRows(Path file) {
        JsonNode rows = readJson(file);
        if (!rows.isArray()) throw new ShearsException(file + ": expected a JSON array of questions");
        List<Doc> docs = new ArrayList<>();
        for (JsonNode r : rows) {
            try {
                List<String> choices = List.of(text(r, "distractor1"), text(r, "distractor2"), text(r, "distractor3"), text(r, "correct_answer"));
                docs.add(new Doc(r, PyText.lstrip(text(r, "support")) + "\nQuestion: " + text(r, "question") + "\nAnswer:", choices, 3));
            } catch (IllegalArgumentException e) {
                throw new ShearsException(file + ": question " + (docs.size() + 1) + ": " + e.getMessage());
            }
        }
        return docs;
    }

    // --- logiqa/logiqa.yaml + utils_logiqa.py: test_split test, training_split train (examples), no exclusion.
    // doc_to_text "Passage: {context}\nQuestion: {question}\nChoices:\nA. …\nD. …\nAnswer:", choices {{options}},
    // target "abcd".index(label.strip()); metrics acc, acc_norm. EleutherAI/logiqa is lgw863's text files read by
    // lm_eval/datasets/logiqa/logiqa.py: Train.txt, Eval.txt (validation), Test.txt.

    static Task logiqa() {
        Split.Reader reader = LmEvalTasks::logiqaRows;
        return Task.of("logiqa", "lm-eval logiqa.yaml, utils_logiqa.py: \"Passage: …\\nQuestion: …\\nChoices:\\nA. …\\nAnswer:\" + \" \" + option; examples from train",
                new DocumentTask(List.of(new Split("test", "logiqa/Test.txt", reader), new Split("validation", "logiqa/Eval.txt", reader)),
                        List.of(new Split("train", "logiqa/Train.txt", reader), new Split("validation", "logiqa/Eval.txt", reader)),
                        FewShotSampler.RANDOM, FewShot.Exclusion.NONE, FewShot.Format.DEFAULT, ACC_AND_NORM));
    }

    /**
     * lm_eval/datasets/logiqa/logiqa.py {@code _generate_examples}: {@code f.read().strip().split("\n\n")}, each row's lines
     * label, context, question, options (the first two characters dropped), each passed through
     * {@code normalize(text) = text.replace(".", ". ").strip()}.
     */
    static List<Doc> logiqaRows(Path file) {
        String all = JsonlItems.readLines(file).stream().reduce((a, b) -> a + "\n" + b).orElse(""); // universal newlines, as Python's open
        List<Doc> docs = new ArrayList<>();
        for (String row : PyText.strip(all).split("\n\n", -1)) {
            String[] lines = row.split("\n", -1);
            if (lines.length < 4) throw new ShearsException(file + ": example " + (docs.size() + 1) + " has " + lines.length + " lines, expected label, passage, question, options");
            List<String> options = new ArrayList<>();
            for (int i = 3; i < lines.length; i++) options.add(logiqaNormalize(lines[i].length() >= 2 ? lines[i].substring(2) : ""));
            String label = PyText.strip(lines[0]);
            int gold = List.of("a", "b", "c", "d").indexOf(label);
            if (gold < 0 || gold >= options.size()) throw new ShearsException(file + ": example " + (docs.size() + 1) + ": label \"" + label + "\" is not a-d");
            String context = logiqaNormalize(lines[1]);
            String question = logiqaNormalize(lines[2]);
            StringBuilder text = new StringBuilder("Passage: ").append(context).append("\nQuestion: ").append(question).append("\nChoices:\n");
            for (int i = 0; i < options.size() && i < LETTERS.size(); i++) text.append(LETTERS.get(i)).append(". ").append(options.get(i)).append('\n');
            text.append("Answer:");
            docs.add(new Doc(List.of(label, context, question, options), text.toString(), options, gold));
        }
        return docs;
    }

    private static String logiqaNormalize(String s) {
        return PyText.strip(s.replace(".", ". "));
    }

    // --- mmlu/default/_default_template_yaml + mmlu_<subject>.yaml: test_split test, fewshot_split dev, sampler first_n,
    // description "The following are multiple choice questions (with answers) about {subject with spaces}.\n\n",
    // "{{question.strip()}}\nA. {{choices[0]}}\nB. …\nD. {{choices[3]}}\nAnswer:", choices A–D, target answer; metric acc.
    // cais/mmlu's rows are hendrycks' CSV rows: question, four choices, answer letter.

    static Task mmlu(String subject) {
        Split.Reader reader = LmEvalTasks::mmluRows;
        String description = "The following are multiple choice questions (with answers) about " + subject.replace('_', ' ') + ".\n\n";
        return Task.of("mmlu_" + subject, "lm-eval mmlu/default: description + \"{question.strip()}\\nA. …\\nD. …\\nAnswer:\" + \" \" + letter; first_n from dev",
                new DocumentTask(List.of(new Split("test", "mmlu/test/" + subject + "_test.csv", reader), new Split("validation", "mmlu/val/" + subject + "_val.csv", reader)),
                        List.of(new Split("dev", "mmlu/dev/" + subject + "_dev.csv", reader)),
                        FewShotSampler.FIRST_N, FewShot.Exclusion.of(Optional.of("dev"), Optional.of("test")), FewShot.Format.DEFAULT.withDescription(description), ACC));
    }

    static List<Doc> mmluRows(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
        List<Doc> docs = new ArrayList<>();
        for (List<String> row : PyText.csv(text)) {
            int line = docs.size() + 1;
            if (row.size() != 6) throw new ShearsException(file + ": row " + line + " has " + row.size() + " fields, expected question, A, B, C, D, answer");
            int gold = LETTERS.indexOf(row.get(5));
            if (gold < 0) throw new ShearsException(file + ": row " + line + ": the answer must be A-D, found \"" + row.get(5) + "\"");
            String q = PyText.strip(row.get(0)) + "\nA. " + row.get(1) + "\nB. " + row.get(2) + "\nC. " + row.get(3) + "\nD. " + row.get(4) + "\nAnswer:";
            docs.add(new Doc(row, q, LETTERS, gold));
        }
        if (docs.isEmpty()) throw new ShearsException(file + ": no rows");
        return docs;
    }

    /** MMLU's 57 subjects and their categories (the tag of each mmlu_<subject>.yaml). */
    static final Map<String, String> MMLU_SUBJECTS = new LinkedHashMap<>();

    static {
        String table = "abstract_algebra stem;anatomy stem;astronomy stem;business_ethics other;clinical_knowledge other;college_biology stem;"
                + "college_chemistry stem;college_computer_science stem;college_mathematics stem;college_medicine other;college_physics stem;"
                + "computer_security stem;conceptual_physics stem;econometrics social_sciences;electrical_engineering stem;elementary_mathematics stem;"
                + "formal_logic humanities;global_facts other;high_school_biology stem;high_school_chemistry stem;high_school_computer_science stem;"
                + "high_school_european_history humanities;high_school_geography social_sciences;high_school_government_and_politics social_sciences;"
                + "high_school_macroeconomics social_sciences;high_school_mathematics stem;high_school_microeconomics social_sciences;"
                + "high_school_physics stem;high_school_psychology social_sciences;high_school_statistics stem;high_school_us_history humanities;"
                + "high_school_world_history humanities;human_aging other;human_sexuality social_sciences;international_law humanities;"
                + "jurisprudence humanities;logical_fallacies humanities;machine_learning stem;management other;marketing other;medical_genetics other;"
                + "miscellaneous other;moral_disputes humanities;moral_scenarios humanities;nutrition other;philosophy humanities;prehistory humanities;"
                + "professional_accounting other;professional_law humanities;professional_medicine other;professional_psychology social_sciences;"
                + "public_relations social_sciences;security_studies social_sciences;sociology social_sciences;us_foreign_policy social_sciences;"
                + "virology other;world_religions humanities";
        for (String entry : table.split(";")) {
            String[] parts = entry.split(" ");
            MMLU_SUBJECTS.put(parts[0], parts[1]);
        }
    }

    // --- nq_open/nq_open.yaml: output_type generate_until, training_split train, validation_split validation, no test_split
    // and no fewshot_split: lm-eval evaluates validation, draws random examples from train, and None == None excludes the
    // document. description "Answer these questions:\n\n", doc_to_text "Q: {{question}}?\nA:", doc_to_target "{{answer}}"
    // (the list of answers: the rendered list is "[...]", which doc_to_target turns back into the list with literal_eval),
    // target_delimiter " ", fewshot_delimiter "\n", until ["\n", ".", ","], greedy; filter remove_whitespace, take_first;
    // exact_match with ignore_case, ignore_punctuation and regexes_to_ignore ["\\b(?:The |the |An |A |The |a |an )"].

    /** One question of an open-domain QA split and its answers: lm-eval's document {question, answer}, compared by value. */
    record QaRow(String question, List<String> answers) {
        QaRow {
            answers = List.copyOf(answers);
        }
    }

    /** NQ-open's original dev split (google-research-datasets/natural-questions), Hugging Face nq_open's validation: 3,610 questions. */
    static final Split NQ_OPEN_VALIDATION = new Split("validation", "nq_open/NQ-open.dev.jsonl", jsonl(row -> nqOpen(new QaRow(text(row, "question"), texts(row, "answer")))));
    /** Not in ../shared/data (87,925 questions): a file in the same layout is used when present. */
    static final Split NQ_OPEN_TRAIN = new Split("train", "nq_open/NQ-open.train.jsonl", jsonl(row -> nqOpen(new QaRow(text(row, "question"), texts(row, "answer")))));
    /**
     * DPR's NQ "dev" questions: DPR split NQ-open's 87,925 training questions into 79,168 for training and these 8,757, so
     * they are training questions (none is among NQ-open's dev questions), not NQ-open's dev.
     */
    static final Split NQ_DPR_DEV = new Split("dev", "nq_open/nq-dev.qa.csv", LmEvalTasks::dprRows,
            "few-shot examples drawn from DPR's NQ dev file (nq-dev.qa.csv: 8,757 of the 87,925 questions of nq_open's train split, "
                    + "which DPR held out from its training set; none is an NQ-open dev question) where lm-eval draws from the whole train "
                    + "split: other examples than lm-eval's");

    /** The generation_kwargs and filter_list nq_open.yaml and triviaqa/default.yaml share, with a metric's options. */
    static GenerateUntil untilNewlineStopOrComma(ExactMatch exactMatch) {
        return new GenerateUntil(List.of("\n", ".", ","), GenerateUntil.DEFAULT_MAX_GEN_TOKS, List.of(ResponseFilter.REMOVE_WHITESPACE, ResponseFilter.TAKE_FIRST),
                exactMatch);
    }

    static Task nqOpen() {
        GenerateUntil generation = untilNewlineStopOrComma(ExactMatch.of(List.of("\\b(?:The |the |An |A |The |a |an )"), true, true));
        return Task.of("nq_open", "lm-eval nq_open.yaml: \"Answer these questions:\\n\\n\" + \"Q: {question}?\\nA:\", greedy until \\n . , ; "
                        + "exact_match (case, punctuation, articles ignored) against any answer; examples from train",
                new DocumentTask(List.of(NQ_OPEN_VALIDATION), List.of(NQ_OPEN_TRAIN, NQ_DPR_DEV), FewShotSampler.RANDOM,
                        FewShot.Exclusion.of(Optional.empty(), Optional.empty()), new FewShot.Format("Answer these questions:\n\n", " ", "\n"),
                        EXACT_MATCH, generation));
    }

    static Doc nqOpen(QaRow row) {
        return Doc.answers(row, "Q: " + row.question() + "?\nA:", row.answers());
    }

    /**
     * DPR's {@code nq-*.qa.csv}, read as DPR reads it: {@code csv.reader(f, delimiter="\t")}, one question a row,
     * {@code question, str(list of answers)} (a field holding a double quote is CSV-quoted), the answers through
     * {@code ast.literal_eval}; problems name the file and row.
     */
    static List<Doc> dprRows(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ShearsException(file + ": not valid UTF-8 text");
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
        List<Doc> docs = new ArrayList<>();
        for (List<String> row : PyText.csv(text, '\t')) {
            int at = docs.size() + 1;
            if (row.size() != 2) throw new ShearsException(file + ": row " + at + " has " + row.size() + " tab-separated fields, expected question, ['answer', …]");
            try {
                List<String> answers = PyText.stringList(row.get(1));
                if (answers.isEmpty()) throw new IllegalArgumentException("the list is empty");
                docs.add(nqOpen(new QaRow(row.get(0), answers)));
            } catch (IllegalArgumentException e) {
                throw new ShearsException(file + ": row " + at + ": the answers: " + e.getMessage());
            }
        }
        if (docs.isEmpty()) throw new ShearsException(file + ": no questions (the file is empty)");
        return docs;
    }

    // --- triviaqa/default.yaml: mandarjoshi/trivia_qa rc.nocontext, output_type generate_until, training_split train,
    // validation_split validation, no test_split and no fewshot_split: validation evaluated, random examples from train,
    // None == None excludes the document. No description, doc_to_text "Question: {{question}}?\nAnswer:" (the question's own
    // "?" doubled), doc_to_target "{{answer.aliases}}" (a list), delimiters " " and "\n\n", until ["\n", ".", ","], greedy;
    // filter remove_whitespace, take_first; exact_match with ignore_case and ignore_punctuation.

    /** {question, answer: [aliases]}: 7,993 questions, the size of rc.wikipedia's validation split (SOURCES-2.md). */
    static final Split TRIVIAQA_VALIDATION = new Split("validation", "triviaqa/triviaqa-validation.jsonl",
            jsonl(row -> triviaqa(new QaRow(text(row, "question"), texts(row, "answer")))),
            "evaluated on triviaqa-validation.jsonl's 7,993 questions (the size of rc.wikipedia's validation split) where lm-eval evaluates "
                    + "rc.nocontext's validation split (17,944 rows, the questions with web and with Wikipedia evidence): doc_ids and the "
                    + "examples drawn differ from lm-eval's");
    /** Not in ../shared/data: a file in the layout of the validation file is used when present. */
    static final Split TRIVIAQA_TRAIN = new Split("train", "triviaqa/triviaqa-train.jsonl", jsonl(row -> triviaqa(new QaRow(text(row, "question"), texts(row, "answer")))));
    /** llm-foundry's 3,000 questions ({context: "Question: …\nAnswer:", answer, aliases}); 2,086 of them are in the validation file. */
    static final Split TRIVIAQA_FOUNDRY = new Split("validation", "triviaqa/triviaqa_sm_sub.jsonl", jsonl(LmEvalTasks::foundryTriviaqa),
            "llm-foundry's triviaqa_sm_sub.jsonl: 3,000 TriviaQA questions, 2,086 of them among triviaqa-validation.jsonl's, not a split lm-eval reads");

    static Task triviaqa() {
        GenerateUntil generation = untilNewlineStopOrComma(ExactMatch.of(List.of(), true, true));
        return Task.of("triviaqa", "lm-eval triviaqa/default.yaml: \"Question: {question}?\\nAnswer:\", greedy until \\n . , ; "
                        + "exact_match (case, punctuation ignored) against any alias; examples from train",
                new DocumentTask(List.of(TRIVIAQA_VALIDATION, TRIVIAQA_FOUNDRY), List.of(TRIVIAQA_TRAIN, TRIVIAQA_VALIDATION, TRIVIAQA_FOUNDRY),
                        FewShotSampler.RANDOM, FewShot.Exclusion.of(Optional.empty(), Optional.empty()), FewShot.Format.DEFAULT, EXACT_MATCH, generation));
    }

    static Doc triviaqa(QaRow row) {
        return Doc.answers(row, "Question: " + row.question() + "?\nAnswer:", row.answers());
    }

    static Doc foundryTriviaqa(JsonNode line) {
        String context = text(line, "context");
        String prefix = "Question: ", suffix = "\nAnswer:";
        if (!context.startsWith(prefix) || !context.endsWith(suffix) || context.length() < prefix.length() + suffix.length()) {
            throw new IllegalArgumentException("\"context\" must read \"Question: …\\nAnswer:\"");
        }
        return triviaqa(new QaRow(context.substring(prefix.length(), context.length() - suffix.length()), texts(line, "aliases")));
    }

    /** A reader of JSON lines (one object a line) into documents; problems name the file and line. */
    static Split.Reader jsonl(Function<JsonNode, Doc> doc) {
        return file -> {
            List<Doc> docs = JsonlItems.rows(file, doc);
            if (docs.isEmpty()) throw new ShearsException(file + ": no documents (the file is empty)");
            return docs;
        };
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new ShearsException(file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
