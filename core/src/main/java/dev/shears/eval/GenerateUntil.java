package dev.shears.eval;

import dev.shears.ShearsException;

import java.util.ArrayList;
import java.util.List;

/**
 * A task of lm-evaluation-harness's {@code output_type: generate_until}: its YAML's {@code generation_kwargs}
 * (greedy: {@code do_sample: false}, {@code temperature: 0.0}), {@code filter_list} and {@code exact_match} options.
 * A document's context is continued greedily until a stop string appears ({@link GenerationScorer}), the text is
 * cut at the stop strings ({@link #cut}), filtered ({@link #filter}) and compared with the document's answers
 * ({@link ExactMatch}).
 *
 * @param until      {@code generation_kwargs.until}: the stop strings, in order; lm-eval adds the EOS token's text
 *                   ({@link #stopStrings})
 * @param maxGenToks {@code max_gen_toks}: the most new tokens ({@value #DEFAULT_MAX_GEN_TOKS}, HFLM's default, when
 *                   the YAML gives none)
 * @param filters    the one pipeline of {@code filter_list}, in order
 * @param exactMatch the options of the {@code exact_match} metric
 */
public record GenerateUntil(List<String> until, int maxGenToks, List<ResponseFilter> filters, ExactMatch exactMatch) implements OutputType {
    /** {@code HFLM.max_gen_toks} ({@code lm_eval/models/huggingface.py} line 628), used when {@code generation_kwargs} has none. */
    public static final int DEFAULT_MAX_GEN_TOKS = 256;

    public GenerateUntil {
        until = List.copyOf(until);
        filters = List.copyOf(filters);
        if (maxGenToks < 1) throw new ShearsException("max_gen_toks must be at least 1, got " + maxGenToks);
        java.util.Objects.requireNonNull(exactMatch, "exactMatch");
    }

    @Override
    public TaskKind kind() {
        return TaskKind.GENERATE_UNTIL;
    }

    /**
     * {@code handle_stop_sequences} ({@code lm_eval/models/utils.py} lines 641–654): {@code until}, then the EOS token's
     * text ({@code tok_decode(eot_token_id, skip_special_tokens=False)}) unless it is already there.
     *
     * @param eos the EOS token's text; empty when the tokenizer has no EOS
     */
    public List<String> stopStrings(String eos) {
        List<String> stops = new ArrayList<>(until);
        if (!eos.isEmpty() && !stops.contains(eos)) stops.add(eos);
        return stops;
    }

    /**
     * {@code postprocess_generated_text} ({@code lm_eval/models/utils.py} lines 943–970): for each non-empty stop string
     * in order, {@code generation = generation.split(term)[0]}. Each cut keeps the text before the term's first
     * occurrence, so overlapping terms cut as Python does (not at the earliest of all occurrences).
     */
    public static String cut(String generation, List<String> stops) {
        for (String term : stops) {
            if (term.isEmpty()) continue;
            int at = generation.indexOf(term);
            if (at >= 0) generation = generation.substring(0, at);
        }
        return generation;
    }

    /** The filter pipeline on the document's one response: the answer {@code exact_match} compares. */
    public String filter(String response) {
        for (ResponseFilter f : filters) response = f.apply(response);
        return response;
    }
}
