import dev.shears.format.TokenizerLoader;
import dev.shears.io.DType;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5HfFolder;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.T5Weights;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.SplittableRandom;

/**
 * A seeded T5 folder for the llama.cpp check whose outputs are not flat: the real tiny T5
 * ({@code t5-tiny-random}) was initialised with factor 0.002, so its logits are all within 1e-4 of 0 and
 * greedy decoding repeats one token. This one has the vocabulary of a folder's tokenizer (its files are
 * copied; the embeddings have a row per token), 2 + 2
 * layers of width 64, 4 heads of 16, and every weight uniform in ±0.5 (norms 1 ± 0.5), so that logits
 * spread over several units. {@code relu} makes T5 v1.0's block with a tied head (written to
 * the GGUF scaled by dim^-½), {@code gated-gelu} T5 v1.1's with an untied one.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp cli/target/shears.jar tools/interop/T5Seeded.java TOKENIZER_FOLDER OUT_FOLDER SEED relu|gated-gelu</pre>
 */
public class T5Seeded {
    public static void main(String[] args) throws Exception {
        Path source = Path.of(args[0]);
        Path out = Path.of(args[1]);
        long seed = Long.parseLong(args[2]);
        T5Config.FeedForward ffn = args[3].equals("relu") ? T5Config.FeedForward.RELU : T5Config.FeedForward.GATED_GELU;
        int vocab = TokenizerLoader.load(source).vocabSize();
        T5Config c = new T5Config(64, 16, vocab, 4, 32, 128, 1e-6f, ffn, !ffn.gated(), 0, 0,
                Collections.nCopies(2, new T5Config.Block(4, 0, 128)), Collections.nCopies(2, new T5Config.Block(4, 4, 128)));
        T5Weights w = T5Weights.zeros(c);
        SplittableRandom random = new SplittableRandom(seed);
        w.forEach(c, (name, shape, values) -> {
            double center = name.endsWith("layer_norm.weight") ? 1 : 0;
            for (int i = 0; i < values.length; i++) values[i] = (float) (center + random.nextDouble(-0.5, 0.5));
        });
        Files.createDirectories(out);
        T5HfFolder.write(new T5Model(c, w), T5HfFolder.configJson(c, DType.F32), out, DType.F32);
        for (String f : new String[]{"tokenizer.json", "spiece.model", "tokenizer_config.json", "special_tokens_map.json"}) {
            if (Files.isRegularFile(source.resolve(f))) Files.copy(source.resolve(f), out.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        System.out.println("wrote " + out);
    }
}
