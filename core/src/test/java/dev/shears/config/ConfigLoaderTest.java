package dev.shears.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.recipe.PruneStage;
import dev.shears.recipe.ShearConfig;
import dev.shears.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small grouped records in code, flat keys in files: the two agree both ways. */
class ConfigLoaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void flatGroupsAreWrittenAsKeysOfTheirEnclosingObject() throws Exception {
        JsonNode tree = JSON.readTree(ConfigLoader.toJson(TrainConfig.DEFAULT));
        List<String> keys = new ArrayList<>();
        tree.fieldNames().forEachRemaining(keys::add);
        assertEquals(ConfigLoader.keys(TrainConfig.class), keys, "every key at the top, in declaration order");
        for (String group : List.of("source", "batching", "schedule", "optimiser", "evaluation", "checkpointing")) {
            assertFalse(tree.has(group), group + " is not a key");
        }
        assertEquals(1e-3, tree.path("lr").asDouble());
        assertTrue(tree.path("dynamicBatchLoading").isObject(), "a section that is not flat stays a section");
        JsonNode shear = JSON.readTree(ConfigLoader.toJson(ShearConfig.DEFAULT));
        assertEquals(1e-4, shear.path("train").path("lr").asDouble(), "flat groups inside a nested record");
    }

    @Test
    void aFileAndOverridesAreReadBackIntoTheGroups(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("train.yaml");
        Files.writeString(file, "lr: 3.0e-4\nbatchSize: 2\ndata: [{path: data/ts, weight: 2}]\nmodel: some/model\ndistill: {alpha: 0.25}\n");
        TrainConfig c = ConfigLoader.load(TrainConfig.DEFAULT, Optional.of(file), List.of("seqLen=64", "tokenizer=", "decay=LINEAR"));
        assertEquals(3e-4, c.schedule().lr());
        assertEquals(2, c.batching().batchSize());
        assertEquals(64, c.batching().seqLen());
        assertEquals(TrainConfig.DEFAULT.optimiser(), c.optimiser(), "untouched groups keep their defaults");
        assertEquals(Optional.of(Path.of("some/model")), c.source().model(), "a path is a plain string, relative stays relative");
        assertEquals(Optional.empty(), c.source().tokenizer(), "an empty path is no path");
        assertEquals(Path.of("data/ts"), c.batching().data().getFirst().path());
        assertEquals(0.25, c.distill().alpha());
        assertFalse(c.distill().enabled());
        TrainConfig again = ConfigLoader.load(TrainConfig.DEFAULT, Optional.empty(), List.of());
        assertEquals(TrainConfig.DEFAULT, again, "defaults round-trip");
        Path written = tmp.resolve("written.json");
        Files.writeString(written, ConfigLoader.toJson(c));
        assertEquals(c, ConfigLoader.load(TrainConfig.DEFAULT, Optional.of(written), List.of()), "what is written reads back the same");
        assertTrue(Files.readString(written).contains("\"model\" : \"some/model\""), Files.readString(written));
    }

    @Test
    void aPruneStageReadsItsFlatKeysIntoItsGroups() throws Exception {
        JsonNode section = JSON.readTree("{\"ffn\": 0.5, \"target\": \"\", \"calibration\": \"data/c.txt\", \"samples\": 8, \"importance\": \"taylor\", "
                + "\"vocab\": 0.2, \"keepTokens\": [\"<s>\"], \"dropLayers\": [3]}");
        PruneStage p = ConfigLoader.section(PruneStage.DEFAULT, section, "stages[0].prune");
        assertEquals(0.5, p.ratios().ffn());
        assertEquals(java.util.Map.of(dev.shears.model.Axis.FFN, 0.5), p.ratios().byAxis());
        assertEquals(Optional.of(Path.of("data/c.txt")), p.windows().calibration());
        assertEquals(8, p.windows().samples());
        assertEquals(PruneStage.DEFAULT.windows().seqLen(), p.windows().seqLen());
        assertEquals("taylor", p.criteria().importance());
        assertEquals(0.2, p.vocabulary().vocab());
        assertEquals(List.of("<s>"), p.vocabulary().keepTokens());
        assertEquals(List.of(3), p.shape().dropLayers());
        JsonNode written = JSON.readTree(ConfigLoader.toJson(p));
        assertEquals("data/c.txt", written.path("calibration").asText(), "the path group's key stays a plain key");
        assertEquals(ConfigLoader.keys(PruneStage.class).size(), written.size());
        ShearsException badCriterion = assertThrows(ShearsException.class,
                () -> ConfigLoader.section(PruneStage.DEFAULT, JSON.readTree("{\"importance\": \"vibes\"}"), "stages[0].prune"));
        assertTrue(badCriterion.getMessage().contains("unknown importance criterion 'vibes'"), badCriterion.getMessage());
    }

    @Test
    void outOfRangeValuesAreOneLineErrorsNamingTheKey() {
        record Case(String set, String expected) {
        }
        for (Case c : List.of(new Case("steps=2.5", "configuration key 'steps' (defaults, --set): must be a whole number, got 2.5"),
                new Case("beta1=2.0", "beta1 must be in [0, 1), got 2.0"),
                new Case("batchSize=99999999999", "configuration key 'batchSize'"),
                new Case("batchSize=2000000000", "tokens per micro-batch; at most"),
                new Case("evalInterval=-1", "evalInterval must be ≥ 0"),
                new Case("checkpointInterval=-5", "checkpointInterval must be ≥ 0"))) {
            ShearsException e = assertThrows(ShearsException.class, () -> ConfigLoader.load(TrainConfig.DEFAULT, Optional.empty(), List.of(c.set())), c.set());
            assertTrue(e.getMessage().contains(c.expected()), c.set() + ": " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), c.set() + ": one line: " + e.getMessage());
            assertFalse(e.getMessage().contains("[Source"), "no parser internals: " + e.getMessage());
        }
        assertEquals(2_000_000_000L, ConfigLoader.load(TrainConfig.DEFAULT, Optional.empty(), List.of("tokens=2.0e9")).schedule().tokens(),
                "a whole number written as a float is that number");
        ShearsException nested = assertThrows(ShearsException.class, () -> ConfigLoader.section(ShearConfig.DEFAULT,
                JSON.createObjectNode().set("train", JSON.createObjectNode().put("steps", 2.5)), "stages[1].shear"));
        assertEquals("stages[1].shear.train.steps: must be a whole number, got 2.5", nested.getMessage());
    }

    @Test
    void errorsNameTheFlatKey() {
        ShearsException unknown = assertThrows(ShearsException.class,
                () -> ConfigLoader.load(TrainConfig.DEFAULT, Optional.empty(), List.of("nosuchkey=3")));
        assertTrue(unknown.getMessage().contains("'nosuchkey'"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("lr, minLr"), "the known keys are the flat ones: " + unknown.getMessage());
        assertFalse(List.of(unknown.getMessage().split("known keys here: ")[1].split(", ")).contains("schedule"), "no group names: " + unknown.getMessage());
        ShearsException wrongType = assertThrows(ShearsException.class,
                () -> ConfigLoader.load(TrainConfig.DEFAULT, Optional.empty(), List.of("lr=fast")));
        assertTrue(wrongType.getMessage().startsWith("configuration key 'lr'"), wrongType.getMessage());
        ShearsException invalid = assertThrows(ShearsException.class,
                () -> ConfigLoader.load(TrainConfig.DEFAULT, Optional.empty(), List.of("batchSize=0")));
        assertTrue(invalid.getMessage().contains("batchSize must be ≥ 1"), invalid.getMessage());
        ShearsException nested = assertThrows(ShearsException.class,
                () -> ConfigLoader.section(ShearConfig.DEFAULT, JSON.createObjectNode().set("train", JSON.createObjectNode().put("seqLen", "long")), "stages[0].shear"));
        assertTrue(nested.getMessage().startsWith("stages[0].shear.train.seqLen"), nested.getMessage());
    }
}
