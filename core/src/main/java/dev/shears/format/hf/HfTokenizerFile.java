package dev.shears.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Rewrites a Hugging Face {@code tokenizer.json} (and the {@code tokenizer_config.json} and
 * {@code special_tokens_map.json} beside it) for a pruned vocabulary: {@code model.vocab} holds the
 * kept pieces with their new ids (a BPE's piece → id map, or a Unigram's [piece, score] list in id
 * order with its {@code unk_id} re-numbered), a BPE's {@code model.merges} keeps a merge only when both its parts and
 * its result are kept (in the original order, so ranks keep their relative order), added tokens and
 * the post-processor's special-token ids are remapped, {@code added_tokens_decoder} is re-keyed.
 * Everything else (normalizer, pre-tokenizer, decoder, flags) is copied.
 */
public final class HfTokenizerFile {
    private HfTokenizerFile() {
    }

    /** Writes {@code source} (and the config files beside it) with only the ids {@code kept} (old ids, strictly increasing; new id {@code i} is old id {@code kept[i]}) into {@code outDir}. */
    public static void writePruned(Path source, int[] kept, Path outDir) {
        ObjectMapper json = new ObjectMapper();
        JsonNode parsed = read(json, source);
        if (!(parsed instanceof ObjectNode root) || !(root.path("model") instanceof ObjectNode model)
                || !(model.path("vocab") instanceof ObjectNode || model.path("vocab") instanceof ArrayNode)) {
            throw new ShearsException(source + ": not a tokenizer.json with a model.vocab object (BPE) or list (Unigram)");
        }
        if (model.path("vocab") instanceof ArrayNode unigram) {
            pruneUnigram(model, unigram, kept, json, source);
        } else {
            pruneBpe(model, (ObjectNode) model.path("vocab"), kept, json);
        }
        ArrayNode added = json.createArrayNode();
        for (JsonNode a : root.path("added_tokens")) {
            int i = Arrays.binarySearch(kept, a.path("id").asInt());
            if (i < 0) continue;
            ((ObjectNode) a).put("id", i);
            added.add(a);
        }
        if (root.has("added_tokens")) root.set("added_tokens", added);
        remapPostProcessor(root.path("post_processor"), kept, source);
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new ShearsException(outDir + ": cannot create: " + e.getMessage(), e);
        }
        write(json, outDir.resolve("tokenizer.json"), root);
        Path config = source.resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(config)) write(json, outDir.resolve("tokenizer_config.json"), remapConfig(read(json, config), kept, json));
        Path specials = source.resolveSibling("special_tokens_map.json");
        if (Files.isRegularFile(specials)) write(json, outDir.resolve("special_tokens_map.json"), read(json, specials));
    }

    /** A BPE model's vocab (piece → id) re-numbered, and the merges whose pieces all stay. */
    private static void pruneBpe(ObjectNode model, ObjectNode vocab, int[] kept, ObjectMapper json) {
        Map<String, Integer> newIds = new HashMap<>();
        ObjectNode newVocab = json.createObjectNode();
        String[] byNewId = new String[kept.length];
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            int i = Arrays.binarySearch(kept, e.getValue().asInt());
            if (i >= 0) byNewId[i] = e.getKey();
        }
        for (int i = 0; i < byNewId.length; i++) {
            if (byNewId[i] == null) continue; // an added token that is not in model.vocab
            newVocab.put(byNewId[i], i);
            newIds.put(byNewId[i], i);
        }
        model.set("vocab", newVocab);
        ArrayNode merges = json.createArrayNode();
        for (JsonNode m : model.path("merges")) {
            String left;
            String right;
            if (m.isTextual()) {
                String text = m.asText();
                int space = text.indexOf(' ', 1);
                left = text.substring(0, space);
                right = text.substring(space + 1);
            } else {
                left = m.get(0).asText();
                right = m.get(1).asText();
            }
            if (newIds.containsKey(left) && newIds.containsKey(right) && newIds.containsKey(left + right)) merges.add(m);
        }
        model.set("merges", merges);
    }

    /** A Unigram model's vocab ([piece, score] in id order) cut to the kept entries, and its {@code unk_id} re-numbered. */
    private static void pruneUnigram(ObjectNode model, ArrayNode vocab, int[] kept, ObjectMapper json, Path source) {
        ArrayNode newVocab = json.createArrayNode();
        for (int id : kept) {
            if (id >= vocab.size()) throw new ShearsException(source + ": kept id " + id + " is outside the " + vocab.size() + " entries of model.vocab");
            newVocab.add(vocab.get(id));
        }
        model.set("vocab", newVocab);
        if (model.path("unk_id").isIntegralNumber()) {
            int i = Arrays.binarySearch(kept, model.path("unk_id").asInt());
            if (i < 0) throw new ShearsException(source + ": the pruned vocabulary drops the unknown piece, id " + model.path("unk_id").asInt());
            model.put("unk_id", i);
        }
    }

    /** TemplateProcessing's {@code special_tokens.*.ids}, Roberta/Bert's {@code [token, id]} pairs, inside Sequences too. */
    private static void remapPostProcessor(JsonNode post, int[] kept, Path source) {
        if (!post.isObject()) return;
        for (JsonNode p : post.path("processors")) remapPostProcessor(p, kept, source);
        for (JsonNode special : post.path("special_tokens")) {
            if (!(special.path("ids") instanceof ArrayNode ids)) continue;
            for (int k = 0; k < ids.size(); k++) ids.set(k, IntNode.valueOf(remap(ids.get(k).asInt(), kept, source)));
        }
        for (String pair : new String[] {"sep", "cls"}) {
            if (post.path(pair) instanceof ArrayNode a && a.size() == 2) a.set(1, IntNode.valueOf(remap(a.get(1).asInt(), kept, source)));
        }
    }

    private static int remap(int oldId, int[] kept, Path source) {
        int i = Arrays.binarySearch(kept, oldId);
        if (i < 0) throw new ShearsException(source + ": the post-processor uses token id " + oldId + ", which the pruned vocabulary drops");
        return i;
    }

    /** {@code added_tokens_decoder} is keyed by id: re-key it, dropping entries whose id is gone. */
    private static JsonNode remapConfig(JsonNode config, int[] kept, ObjectMapper json) {
        if (!(config instanceof ObjectNode root) || !(root.path("added_tokens_decoder") instanceof ObjectNode decoder)) return config;
        ObjectNode remapped = json.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = decoder.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int i;
            try {
                i = Arrays.binarySearch(kept, Integer.parseInt(e.getKey()));
            } catch (NumberFormatException ex) {
                continue;
            }
            if (i >= 0) remapped.set(Integer.toString(i), e.getValue());
        }
        root.set("added_tokens_decoder", remapped);
        return root;
    }

    private static JsonNode read(ObjectMapper json, Path file) {
        try {
            return json.readTree(file.toFile());
        } catch (IOException e) {
            throw new ShearsException(file + ": cannot read JSON: " + e.getMessage(), e);
        }
    }

    private static void write(ObjectMapper json, Path file, JsonNode node) {
        AtomicFiles.write(file, out -> out.write(json.writerWithDefaultPrettyPrinter().writeValueAsBytes(node)));
    }
}
