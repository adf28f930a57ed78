package dev.shears.eval;

import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text each built-in task shows the model (lm-eval's formats), and one-line errors for malformed files. */
class TaskFormatTest {
    @TempDir
    Path tmp;

    Item.MultipleChoice first(String task, String... lines) throws IOException {
        Path f = tmp.resolve(task + ".data");
        Files.writeString(f, String.join("\n", lines) + "\n");
        return (Item.MultipleChoice) TaskCatalog.task(task).source().read(f).get(0);
    }

    @Test
    void promptFormatsFollowLmEval() throws IOException {
        Item.MultipleChoice piqa = first("piqa", "{\"query\": \"Question: How to dry a towel?\\n\", \"choices\": [\"Hang it.\", \"Eat it.\"], \"gold\": 0}");
        assertEquals("Question: How to dry a towel?\nAnswer:", piqa.choices().get(0).context());
        assertEquals(" Hang it.", piqa.choices().get(0).continuation());
        assertEquals(8, piqa.choices().get(0).chars());

        Item.MultipleChoice arc = first("arc_easy", "{\"query\": \"Question: Which is hot?\", \"choices\": [\"ice\", \"fire\"], \"gold\": 1}");
        assertEquals("Question: Which is hot?\nAnswer:", arc.choices().get(1).context());
        assertEquals(1, arc.gold());

        Item.MultipleChoice boolq = first("boolq", "{\"query\": \"Passage: Cats purr.\\nQuestion: do cats purr?\", \"choices\": [\"no\", \"yes\"], \"gold\": 1}");
        assertEquals("Cats purr.\nQuestion: do cats purr?\nAnswer:", boolq.choices().get(0).context());
        assertEquals(" yes", boolq.choices().get(1).continuation());

        Item.MultipleChoice copa = first("copa", "{\"query\": \"The man turned on the faucet, therefore\", \"choices\": [\"The toilet filled.\", \"water flowed.\"], \"gold\": 1}");
        assertEquals("The man turned on the faucet therefore", copa.choices().get(0).context());
        assertEquals("  the toilet filled.", copa.choices().get(0).continuation(), "target_delimiter + doc_to_choice's leading space");
        assertEquals(19, copa.choices().get(0).chars(), "lm-eval's copa choice includes its leading space, not the delimiter");
        Item.MultipleChoice single = first("copa_single_space", "{\"query\": \"The man turned on the faucet, therefore\", \"choices\": [\"The toilet filled.\", \"water flowed.\"], \"gold\": 1}");
        assertEquals(" the toilet filled.", single.choices().get(0).continuation());
        assertEquals(19, single.choices().get(0).chars());

        Item.MultipleChoice siqa = first("siqa", "{\"query\": \"Context: Tracy stayed out.\\nQuestion: What next?\\nChoices:\\nA. sleep\\nB. go home\\nAnswer:\", \"gold\": 1, \"choices\": [\"A\", \"B\"]}");
        assertEquals("Q: Tracy stayed out. What next?\nA:", siqa.choices().get(0).context());
        assertEquals(" go home", siqa.choices().get(1).continuation());

        Item.MultipleChoice csqa = first("commonsense_qa", "{\"query\": \"Question: Where?\\nChoices:\\nA. bank\\nB. mall\\nAnswer:\", \"choices\": [\"A\", \"B\"], \"gold\": 0}");
        assertEquals("Question: Where?\nA. bank\nB. mall\nAnswer:", csqa.choices().get(0).context());
        assertEquals(" A", csqa.choices().get(0).continuation());

        Item.MultipleChoice wino = first("winogrande", "{\"context_options\": [\"Sarah beat Maria so Sarah\", \"Sarah beat Maria so Maria\"], \"continuation\": \"lost.\", \"gold\": 1}");
        assertEquals("Sarah beat Maria so Maria", wino.choices().get(1).context());
        assertEquals(" lost.", wino.choices().get(0).continuation());

        Item.MultipleChoice lambada = first("lambada_openai", "{\"context\": \"He looked at the\", \"continuation\": \"sky\"}");
        assertEquals(List.of(new Choice("He looked at the", " sky", 3)), lambada.choices());

        Item.MultipleChoice hella = first("hellaswag", "Roof: A man [header] is on a roof.  he", "3", "a", "b [title] c", "d", "e");
        assertEquals("Roof: A man is on a roof. he", hella.choices().get(0).context());
        assertEquals(" b. c", hella.choices().get(1).continuation());
        assertEquals(3, hella.gold());
    }

    @Test
    void wikitextPagesDetokenizedWordsCountedOnTheOriginal() throws IOException {
        Path f = tmp.resolve("wiki.raw");
        Files.writeString(f, " \n = First = \n \n It was 1 @,@ 000 km ( long ) . \n \n = = Part = = \n \n Next line . \n = Second = \n \n Text 's here . \n");
        List<Item> pages = TextDocuments.WIKITEXT.read(f);
        assertEquals(2, pages.size());
        Item.Document d = (Item.Document) pages.get(0);
        assertTrue(d.text().contains("It was 1,000 km (long).\n"), d.text());
        assertTrue(d.text().contains("== Part =="), d.text());
        String original = " = First = \n \n It was 1 @,@ 000 km ( long ) . \n \n = = Part = = \n \n Next line . ";
        assertEquals(Perplexity.countWords(original), d.words());
        assertEquals(original.length(), d.bytes());
    }

    @Test
    void malformedFilesNameTheFileTheLineAndTheProblem() throws IOException {
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, "{\"query\": \"Question: a\", \"choices\": [\"x\", \"y\"], \"gold\": 0}\n{\"query\": \"Question: b\", \"choices\": [\"x\"\n");
        ShearsException e = assertThrows(ShearsException.class, () -> TaskCatalog.task("arc_easy").source().read(f));
        assertTrue(e.getMessage().startsWith(f + ":2: not valid JSON"), e.getMessage());

        Files.writeString(f, "{\"query\": \"Question: a\", \"choices\": [\"x\", \"y\"], \"gold\": 2}\n");
        e = assertThrows(ShearsException.class, () -> TaskCatalog.task("arc_easy").source().read(f));
        assertEquals(f + ":1: \"gold\" is 2 but there are 2 choices (0..1)", e.getMessage());

        Files.writeString(f, "\n\n{\"choices\": [\"x\"], \"gold\": 0}\n");
        e = assertThrows(ShearsException.class, () -> TaskCatalog.task("arc_easy").source().read(f));
        assertEquals(f + ":3: missing \"query\" (a string)", e.getMessage());

        Files.writeString(f, "{\"query\": \"x, so\", \"choices\": [\"a\", \"b\"], \"gold\": 0}\n");
        e = assertThrows(ShearsException.class, () -> TaskCatalog.task("copa").source().read(f));
        assertTrue(e.getMessage().startsWith(f + ":1: a COPA query must end"), e.getMessage());

        Path h = tmp.resolve("hella.txt");
        Files.writeString(h, "ctx\n3\na\nb\nc\nd\nctx2\nfour\na\nb\nc\nd\n");
        e = assertThrows(ShearsException.class, () -> HellaSwagDocs.validation(h));
        assertEquals(h + ":8: the label must be a number 0-3, found \"four\"", e.getMessage());
        Files.writeString(h, "ctx\n3\na\nb\n");
        e = assertThrows(ShearsException.class, () -> HellaSwagDocs.validation(h));
        assertTrue(e.getMessage().startsWith(h + ":1: the last item is cut short"), e.getMessage());

        assertTrue(assertThrows(ShearsException.class, () -> TaskCatalog.task("piqq")).getMessage().contains("known tasks: piqa"));
    }

    @Test
    void taskFilesAddTasksWithoutCode() throws IOException {
        Path data = tmp.resolve("mine.jsonl");
        Files.writeString(data, "{\"q\": \"Is {it} hot?\", \"opts\": [\"no\", \"yes\"], \"answer\": 1}\n");
        Path yaml = tmp.resolve("mine.yaml");
        Files.writeString(yaml, "name: mine\nfile: " + data + "\ncontext: \"Q: {q}\\nA:\"\nchoices: opts\ngold: answer\nreference: my notes\n");
        Task t = TaskFile.load(yaml);
        assertEquals("mine", t.name());
        Item.MultipleChoice item = (Item.MultipleChoice) t.source().read(tmp.resolve(t.file())).get(0);
        assertEquals("Q: Is {it} hot?\nA:", item.choices().get(0).context());
        assertEquals(" yes", item.choices().get(1).continuation());
        assertEquals(1, item.gold());

        Path json = tmp.resolve("partial.json");
        Files.writeString(json, "{\"name\": \"wino2\", \"file\": \"mc/winogrande.jsonl\", \"contexts\": \"context_options\", \"continuation\": \"{continuation}\"}");
        assertEquals(TaskKind.MULTIPLE_CHOICE, TaskFile.load(json).kind());

        Files.writeString(yaml, "name: mine\nfile: x.jsonl\ncontext: \"{q}\"\nchoices: opts\ncolour: red\n");
        ShearsException e = assertThrows(ShearsException.class, () -> TaskFile.load(yaml));
        assertTrue(e.getMessage().startsWith(yaml + ": unknown key \"colour\""), e.getMessage());
        Files.writeString(yaml, "name: mine\nkind: essay\nfile: x.jsonl\n");
        assertTrue(assertThrows(ShearsException.class, () -> TaskFile.load(yaml)).getMessage().contains("unknown kind \"essay\""));
        Files.writeString(yaml, "name: mine\nfile: " + data + "\ncontext: \"{question}\"\nchoices: opts\ngold: answer\n");
        Task missingField = TaskFile.load(yaml);
        e = assertThrows(ShearsException.class, () -> missingField.source().read(data));
        assertEquals(data + ":1: missing \"question\" (a string)", e.getMessage());
        assertFalse(e.getMessage().contains("\tat "));
    }
}
