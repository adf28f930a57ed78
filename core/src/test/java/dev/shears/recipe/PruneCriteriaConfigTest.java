package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.ShearsException;
import dev.shears.config.ConfigLoader;
import dev.shears.prune.CriterionOptions;
import dev.shears.prune.GroupReduction;
import dev.shears.prune.TaylorVariant;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The criterion variants as a pipeline's prune stage spells them: flat keys, written names, the defaults record, one-line errors. */
class PruneCriteriaConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PruneStage stage(String json) throws Exception {
        return ConfigLoader.section(PruneStage.DEFAULT, JSON.readTree(json), "stages[0].prune");
    }

    @Test
    void theVariantKeysReadIntoTheCriterionOptions() throws Exception {
        PruneStage p = stage("{\"ffn\": 0.5, \"importance\": \"taylor\", \"taylor\": \"param-mix\", \"taylorReduction\": \"prod\", "
                + "\"angularTokens\": \"all\", \"finalState\": \"residual\"}");
        assertEquals(new CriterionOptions(TaylorVariant.PARAM_MIX, GroupReduction.PROD, CriterionOptions.AngularTokens.ALL,
                CriterionOptions.FinalState.RESIDUAL), p.criteria().options());
        // case and underscores are free, as for criterion names
        assertEquals(TaylorVariant.GATE_MIX_PER_SEQUENCE, stage("{\"ffn\": 0.5, \"taylor\": \"GATE_MIX_per-sequence\"}").criteria().options().taylor());
        JsonNode written = JSON.readTree(ConfigLoader.toJson(p));
        assertEquals("param-mix", written.path("taylor").asText());
        assertEquals("prod", written.path("taylorReduction").asText());
    }

    @Test
    void aSeedSweepChangesOnlyTheSeed() throws Exception {
        PruneStage p = stage("{\"ffn\": 0.5, \"importance\": \"taylor\", \"taylor\": \"param-mix\", \"angularTokens\": \"all\", \"seed\": 3}");
        PruneStage swept = p.withSeed(7);
        assertEquals(7, swept.criteria().seed());
        assertEquals(p.criteria().options(), swept.criteria().options());
        assertEquals(p.criteria().withSeed(3), p.criteria());
    }

    @Test
    void absentKeysTakeTheDefaultsRecord() throws Exception {
        assertEquals(CriterionOptions.DEFAULT, stage("{\"ffn\": 0.5}").criteria().options());
        assertEquals(CriterionOptions.DEFAULT, PruneStage.DEFAULT.criteria().options());
        assertEquals(CriterionOptions.DEFAULT, new PruneStage.Criteria("", "", 0, 1, null, null, null, null).options());
    }

    @Test
    void wrongNamesAreOneLineErrorsNamingTheKnownOnes() {
        ShearsException e = assertThrows(ShearsException.class, () -> stage("{\"taylor\": \"element\"}"));
        assertTrue(e.getMessage().contains("unknown taylor 'element' (known: gate, gate-per-sequence, gate-mix, gate-mix-per-sequence, vectorize, "
                + "param-first, param-second, param-mix)"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        ShearsException retired = assertThrows(ShearsException.class, () -> stage("{\"importance\": \"taylor-second-order\"}"));
        assertTrue(retired.getMessage().contains("importance: taylor, taylor: gate-mix-per-sequence"), retired.getMessage());
    }
}
