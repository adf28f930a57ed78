package dev.shears.eval;

import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.model.Model;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.progress.Progress;
import dev.shears.tensor.Parallel;
import dev.shears.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Greedy generations as lm-evaluation-harness's {@code HFLM.generate_until} makes them
 * ({@code lm_eval/models/huggingface.py} at 4e7e0d47f, lines 1574–1700), one request per document:
 * <ol>
 *   <li>the context is tokenized whole, after BOS when the settings start sequences with it (lm-eval's
 *       {@code tok_batch_encode}: the tokenizer's own {@code add_special_tokens}, as for log-likelihood requests:
 *       {@link ContextStart}), and left-truncated to the context length minus {@code max_gen_toks};</li>
 *   <li>tokens are chosen greedily until EOS, {@code max_gen_toks} new tokens, or a stop string of
 *       {@link GenerateUntil#stopStrings} (the YAML's {@code until} and the EOS token's text) appears in the decoded
 *       continuation;</li>
 *   <li>the new tokens are decoded alone ({@code tok_decode(cont_toks)}, special tokens skipped) and cut at the stop
 *       strings ({@link GenerateUntil#cut}).</li>
 * </ol>
 * lm-eval's stopping criterion ({@code MultiTokenEOSCriteria}, {@code lm_eval/models/utils_hf.py} lines 74–111)
 * looks for a stop string in the decoding of only the last few tokens (the string's own tokens plus two), so it
 * stops when Shears does or later, never earlier; either way the text is cut at the first stop string, so the
 * result is the same. Documents run {@code batchSize} at a time in parallel, one per kernel thread, each on its own
 * KV cache: results do not depend on the batch size or thread count.
 */
public final class GenerationScorer {
    /**
     * One document's generation.
     *
     * @param contextIds the tokens the model was conditioned on
     * @param generated  the new tokens (EOS excluded)
     * @param decoded    the new tokens decoded
     * @param text       {@code decoded} cut at the first stop string (lm-eval's response)
     */
    public record Response(int[] contextIds, int[] generated, String decoded, String text) {
    }

    /** What generates: a decoder-only model continuing its context, or an encoder–decoder answering it. */
    private sealed interface Generator {
        /** @param start whether the context begins with BOS */
        record Continuing(Model model, ContextStart start) implements Generator {
        }

        record Answering(EncoderDecoder model) implements Generator {
        }
    }

    private final Generator generator;
    private final Tokenizer tokenizer;
    private final int maxLength;

    /**
     * @param maxLength the context length (at most the model's maximum): context plus generated tokens
     * @param start     whether the context begins with BOS
     */
    public GenerationScorer(Model model, Tokenizer tokenizer, int maxLength, ContextStart start) {
        LoglikelihoodScorer.checkContextLength(model, maxLength);
        this.generator = new Generator.Continuing(model, start);
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    /**
     * An encoder–decoder's generations, as lm-eval's {@code generate_until} makes them for a seq2seq model: the context is
     * encoded with the tokenizer's special tokens (T5 appends {@code </s>}), left-truncated to {@code maxLength} (the
     * encoder's whole length: lm-eval reserves no room for the answer there), and the decoder answers from
     * {@code decoder_start_token_id}.
     */
    public GenerationScorer(EncoderDecoder model, Tokenizer tokenizer, int maxLength) {
        if (maxLength < 1 || maxLength > model.maxLength()) {
            throw new ShearsException("context length " + maxLength + " must be between 1 and the model's maximum " + model.maxLength());
        }
        this.generator = new Generator.Answering(model);
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    /**
     * lm-eval's {@code tok_batch_encode(contexts, left_truncate_len=...)} for one context: {@code max_length - max_gen_toks} for a
     * decoder-only model, {@code max_length} for an encoder–decoder.
     */
    int[] contextIds(String context, int maxGenToks) {
        return switch (generator) {
            case Generator.Answering a -> last(Generation.encoderIds(tokenizer, context), maxLength);
            case Generator.Continuing c -> last(continuedIds(context, maxGenToks, c.start()), maxLength - maxGenToks);
        };
    }

    private static int[] last(int[] ids, int most) {
        return ids.length > most ? Arrays.copyOfRange(ids, ids.length - most, ids.length) : ids;
    }

    /** A decoder-only model's context: BOS first when {@code start} says so; the answer's room must leave some. */
    private int[] continuedIds(String context, int maxGenToks, ContextStart start) {
        int room = maxLength - maxGenToks;
        if (room < 1) {
            throw new ShearsException("the context length " + maxLength + " leaves no room for a prompt: generation reserves max_gen_toks = "
                    + maxGenToks + " tokens (--context)");
        }
        int[] text = tokenizer.encode(context);
        int[] ids = text;
        if (start == ContextStart.BOS && tokenizer.bosId() >= 0) {
            ids = new int[text.length + 1];
            ids[0] = tokenizer.bosId();
            System.arraycopy(text, 0, ids, 1, text.length);
        }
        if (ids.length == 0) throw new ShearsException("an empty context without BOS: nothing to continue");
        return ids;
    }

    /** The greedy continuation of one context, stopped and cut as lm-eval's {@code generate_until}. */
    public Response generate(String context, GenerateUntil request) {
        int[] prompt = contextIds(context, request.maxGenToks());
        List<String> stops = stops(request);
        Generation.Stop stop = (ids, count) -> {
            String text = tokenizer.decode(Arrays.copyOf(ids, count));
            for (String s : stops) if (!s.isEmpty() && text.contains(s)) return true;
            return false;
        };
        GenerationSettings greedy = GenerationSettings.greedy(request.maxGenToks());
        int[] generated = switch (generator) {
            case Generator.Continuing c -> Generation.generateIds(c.model(), prompt, greedy, tokenizer.eosId(), stop);
            case Generator.Answering a -> Generation.generateIds(a.model(), prompt, greedy, tokenizer.eosId(), stop);
        };
        return response(prompt, generated, stops);
    }

    /** The response {@link #generate} gives when it generates {@code generated} (on another rank): the same context, decoding and cut. */
    Response response(String context, GenerateUntil request, int[] generated) {
        return response(contextIds(context, request.maxGenToks()), generated, stops(request));
    }

    private Response response(int[] prompt, int[] generated, List<String> stops) {
        String decoded = tokenizer.decode(generated);
        return new Response(prompt, generated, decoded, GenerateUntil.cut(decoded, stops));
    }

    private List<String> stops(GenerateUntil request) {
        return request.stopStrings(tokenizer.eosId() >= 0 ? tokenizer.piece(tokenizer.eosId()) : "");
    }

    /**
     * Generates every item's answer and computes {@code exact_match} ({@link Evaluator#run} for a generation task): each rank of
     * {@code collective} generates its share of the items and every rank gets every item's tokens ({@link Evaluator#shared}).
     */
    static TaskResult run(Model model, Tokenizer tokenizer, Evaluator.Items items, EvalSettings settings, Progress progress, Consumer<Sample> samples,
                          Collective collective) {
        int context = settings.contextLength() == 0 ? model.config().maxSeqLen() : settings.contextLength();
        return run(new GenerationScorer(model, tokenizer, context, settings.start()), items, settings, progress, samples, collective);
    }

    /** As {@link #run(Model, Tokenizer, Evaluator.Items, EvalSettings, Progress, Consumer, Collective)} for an encoder–decoder. */
    static TaskResult run(EncoderDecoder model, Tokenizer tokenizer, Evaluator.Items items, EvalSettings settings, Progress progress, Consumer<Sample> samples,
                          Collective collective) {
        int context = settings.contextLength() == 0 ? model.maxLength() : settings.contextLength();
        return run(new GenerationScorer(model, tokenizer, context), items, settings, progress, samples, collective);
    }

    private static TaskResult run(GenerationScorer scorer, Evaluator.Items items, EvalSettings settings, Progress progress, Consumer<Sample> samples,
                                  Collective collective) {
        Task task = items.task();
        if (!(task.documents().map(DocumentTask::output).orElse(OutputType.MULTIPLE_CHOICE) instanceof GenerateUntil request)) {
            throw new IllegalStateException(task.name() + ": a generation task without its generate_until configuration");
        }
        List<Item> list = items.items();
        long startNanos = System.nanoTime();
        progress.start(task.name(), OrderedSum.share(list.size(), collective.rank(), collective.size()), "items");
        int width = settings.batchSize();
        List<int[]> generated = Evaluator.shared(collective, list, share -> {
            int[][] tokens = new int[share.size()][];
            for (int from = 0; from < share.size(); from += width) {
                int count = Math.min(width, share.size() - from);
                int base = from;
                Parallel.forEach(count, i -> tokens[base + i] = scorer.generate(generate(task, share.get(base + i)).context(), request).generated());
                progress.advance(count);
            }
            return List.of(tokens);
        }, ids -> Arrays.stream(ids).asDoubleStream().toArray(), v -> Arrays.stream(v).mapToInt(x -> (int) x).toArray());
        double[] exact = new double[list.size()];
        long tokens = 0;
        for (int i = 0; i < list.size(); i++) {
            Item.Generate item = generate(task, list.get(i));
            Response r = scorer.response(item.context(), request, generated.get(i));
            String answer = request.filter(r.text());
            exact[i] = request.exactMatch().score(answer, item.targets());
            tokens += r.generated().length;
            samples.accept(Sample.of(task.name(), items.docIds()[i],
                    new Sample.Generated(item.context(), r.contextIds().length, r.text(), r.generated().length, answer, item.targets()),
                    Map.of("exact_match", exact[i])));
        }
        progress.finish();
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        return new TaskResult(task.name(), task.kind(), task.reference(), list.size(), items.available(), List.of(Metric.mean("exact_match", exact)),
                tokens, seconds, items.shots(), items.notes());
    }

    private static Item.Generate generate(Task task, Item item) {
        if (item instanceof Item.Generate g) return g;
        throw new IllegalStateException(task.name() + ": a generation task read a " + item.getClass().getSimpleName() + " item");
    }
}
