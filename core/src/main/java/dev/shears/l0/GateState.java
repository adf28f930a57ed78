package dev.shears.l0;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;

import java.nio.file.Path;

/**
 * What a checkpoint keeps of learned gates, for decoder-only ({@link Shearing}) and encoder–decoder
 * ({@link EncoderDecoderShearing}) shearing alike: logAlpha, λ and both Adam optimizers' state, as JSON (doubles
 * round-trip exactly through their shortest decimal form).
 */
final class GateState {
    private GateState() {
    }

    static ObjectNode write(ObjectMapper json, double[] logAlpha, double[] lambda, GateAdam gateOptimizer, GateAdam lambdaOptimizer) {
        ObjectNode n = json.createObjectNode();
        ArrayNode a = n.putArray("logAlpha");
        for (double v : logAlpha) a.add(v);
        ArrayNode l = n.putArray("lambda");
        for (double v : lambda) l.add(v);
        n.set("gateOptimizer", gateOptimizer.toJson());
        n.set("lambdaOptimizer", lambdaOptimizer.toJson());
        return n;
    }

    /** Restores {@link #write}'s state into the live arrays and optimizers; gates of another model or target are a one-line error naming {@code where}. */
    static void read(JsonNode state, Path where, double[] logAlpha, double[] lambda, GateAdam gateOptimizer, GateAdam lambdaOptimizer) {
        JsonNode a = state.path("logAlpha"), l = state.path("lambda");
        if (a.size() != logAlpha.length || l.size() != lambda.length) {
            throw new ShearsException(where + ": the checkpoint holds no gates for this model and target (" + a.size() + " gates, expected " + logAlpha.length + ")");
        }
        for (int i = 0; i < logAlpha.length; i++) logAlpha[i] = a.get(i).asDouble();
        for (int i = 0; i < lambda.length; i++) lambda[i] = l.get(i).asDouble();
        gateOptimizer.restore(state.path("gateOptimizer"));
        lambdaOptimizer.restore(state.path("lambdaOptimizer"));
    }
}
