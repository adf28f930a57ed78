package dev.shears.eval;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * One scored document, as lm-evaluation-harness's {@code --log_samples} records it: every request's exact
 * context and continuation strings with the tokens scored, the log-likelihood and whether greedy decoding
 * reproduces the continuation, the gold choice and the document's own metrics. This is how a Shears run is
 * diffed request by request against lm-eval's.
 *
 * @param docId    the document's position in the evaluated split (lm-eval's {@code doc_id})
 * @param target   the gold choice; empty for a perplexity document
 * @param requests one per choice, or one for a perplexity document (its whole text, from an empty context)
 * @param metrics  the document's values of the task's metrics (acc, acc_norm; loglikelihood, words, bytes)
 */
public record Sample(String task, int docId, OptionalInt target, List<Request> requests, Map<String, Double> metrics) {
    public Sample {
        requests = List.copyOf(requests);
        metrics = Map.copyOf(metrics);
    }

    /** One request: what conditions, what is scored, and its score. */
    public record Request(String context, String continuation, int tokens, double logLikelihood, boolean greedy) {
        static Request of(Choice choice, LoglikelihoodScorer.Score score) {
            return new Request(choice.context(), choice.continuation(), score.tokens(), score.logLikelihood(), score.greedy());
        }
    }

    /** One JSON line of the samples log; {@code model} names the model as the reports do. */
    public ObjectNode json(String model) {
        ObjectNode n = JsonNodeFactory.instance.objectNode().put("model", model).put("task", task).put("doc_id", docId);
        if (target.isPresent()) n.put("target", target.getAsInt());
        var list = n.putArray("requests");
        for (Request r : requests) {
            list.addObject().put("context", r.context()).put("continuation", r.continuation()).put("tokens", r.tokens())
                    .put("loglikelihood", r.logLikelihood()).put("greedy", r.greedy());
        }
        ObjectNode m = n.putObject("metrics");
        metrics.keySet().stream().sorted().forEach(k -> m.put(k, metrics.get(k)));
        return n;
    }
}
