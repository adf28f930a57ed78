package dev.shears.eval;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One scored document, as lm-evaluation-harness's {@code --log_samples} records it: every request's exact
 * context and continuation strings with the tokens scored, the log-likelihood and whether greedy decoding
 * reproduces the continuation, the gold choice and the document's own metrics; for a generation document, its
 * context, the generated text, the filtered answer and the answers it was compared with. This is how a Shears run is
 * diffed request by request against lm-eval's.
 *
 * @param docId     the document's position in the evaluated split (lm-eval's {@code doc_id})
 * @param target    the gold choice; empty for a perplexity or generation document
 * @param requests  one per choice, or one for a perplexity document (its whole text, from an empty context); none for a
 *                  generation document
 * @param metrics   the document's values of the task's metrics (acc, acc_norm; loglikelihood, words, bytes; exact_match)
 * @param generated a generation document's request and answer; empty for the log-likelihood kinds
 */
public record Sample(String task, int docId, OptionalInt target, List<Request> requests, Map<String, Double> metrics, Optional<Generated> generated) {
    public Sample {
        requests = List.copyOf(requests);
        metrics = Map.copyOf(metrics);
        java.util.Objects.requireNonNull(generated, "generated");
    }

    /** A log-likelihood document. */
    public Sample(String task, int docId, OptionalInt target, List<Request> requests, Map<String, Double> metrics) {
        this(task, docId, target, requests, metrics, Optional.empty());
    }

    /** A generation document. */
    public static Sample of(String task, int docId, Generated generated, Map<String, Double> metrics) {
        return new Sample(task, docId, OptionalInt.empty(), List.of(), metrics, Optional.of(generated));
    }

    /** One request: what conditions, what is scored, and its score. */
    public record Request(String context, String continuation, int tokens, double logLikelihood, boolean greedy) {
        static Request of(Choice choice, LoglikelihoodScorer.Score score) {
            return new Request(choice.context(), choice.continuation(), score.tokens(), score.logLikelihood(), score.greedy());
        }
    }

    /**
     * A generation document (lm-eval's {@code arguments}, {@code resps}, {@code filtered_resps} and {@code target}).
     *
     * @param context       the prompt as the task renders it, before tokenization and truncation
     * @param contextTokens the tokens the model was conditioned on (BOS included; after left-truncation)
     * @param generation    the decoded new tokens cut at the first stop string (lm-eval's {@code resps})
     * @param tokens        new tokens generated (EOS excluded)
     * @param filtered      the answer after the task's filters (lm-eval's {@code filtered_resps})
     * @param targets       the answers it is compared with ({@code doc_to_target})
     */
    public record Generated(String context, int contextTokens, String generation, int tokens, String filtered, List<String> targets) {
        public Generated {
            targets = List.copyOf(targets);
        }
    }

    /** One JSON line of the samples log; {@code model} names the model as the reports do. */
    public ObjectNode json(String model) {
        ObjectNode n = JsonNodeFactory.instance.objectNode().put("model", model).put("task", task).put("doc_id", docId);
        if (target.isPresent()) n.put("target", target.getAsInt());
        generated.ifPresent(g -> g.targets().forEach(n.putArray("target")::add));
        var list = n.putArray("requests");
        for (Request r : requests) {
            list.addObject().put("context", r.context()).put("continuation", r.continuation()).put("tokens", r.tokens())
                    .put("loglikelihood", r.logLikelihood()).put("greedy", r.greedy());
        }
        generated.ifPresent(g -> {
            list.addObject().put("context", g.context()).put("context_tokens", g.contextTokens()).put("generation", g.generation()).put("tokens", g.tokens());
            n.put("filtered", g.filtered());
        });
        ObjectNode m = n.putObject("metrics");
        metrics.keySet().stream().sorted().forEach(k -> m.put(k, metrics.get(k)));
        return n;
    }
}
