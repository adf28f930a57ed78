import dev.shears.format.TokenizerLoader;
import dev.shears.seq2seq.T5;
import dev.shears.seq2seq.T5Cache;
import dev.shears.seq2seq.T5Model;
import dev.shears.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Shears' side of the llama.cpp T5 check: greedy decoding of a T5 folder with {@link T5Cache} and
 * {@link T5#forwardCached}, printed as {@code t5_greedy.cpp} prints llama.cpp's (prompt ids, then per step the
 * arg-max token and every logit; last, the generated text), so that {@code t5_llamacpp_check.sh} can compare them.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp cli/target/shears.jar tools/interop/T5Greedy.java T5_FOLDER "prompt" STEPS</pre>
 */
public class T5Greedy {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int steps = Integer.parseInt(args[2]);
        T5Model model = T5Model.load(dir);
        Tokenizer tok = TokenizerLoader.load(dir);
        int[] text = tok.encode(args[1]);
        int[] ids = tok.addsEos() ? Arrays.copyOf(text, text.length + 1) : text;
        if (tok.addsEos()) ids[text.length] = tok.eosId();
        System.out.println("prompt " + Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        T5Cache cache = T5Cache.of(model, ids, steps);
        int token = model.config().decoderStartToken();
        int[] generated = new int[steps];
        for (int t = 0; t < steps; t++) {
            float[] logits = T5.forwardCached(model, cache, token);
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            StringBuilder line = new StringBuilder("step " + t + " token " + best + " logits");
            for (float l : logits) line.append(' ').append(String.format(Locale.ROOT, "%.6g", l));
            System.out.println(line);
            token = best;
            generated[t] = best;
        }
        System.out.println("text " + tok.decode(generated));
    }
}
