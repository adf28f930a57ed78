package dev.shears.objective;

import dev.shears.ShearsException;
import dev.shears.tokenizer.Tokenizer;
import dev.shears.tokenizer.VocabularyConstraints;

/**
 * The token ids the denoisers write: EOS (ends inputs and targets, seqio's {@code add_eos}), the
 * padding id of encoder inputs, the sentinels ({@code sentinels[i]} is {@code <extra_id_i>}) and each
 * denoiser's mode token.
 *
 * <p>{@link #of} reads them from a tokenizer. A mode token is its text encoded by the tokenizer, as UL2's
 * appendix code ({@code prepend_prompt}: {@code vocabulary.encode_tf(prompt_mode)}) does: with T5's
 * vocabulary {@code [NLU]} is several pieces; with a tokenizer that has it as an added token
 * (OpenBA's {@code <R>}, {@code <S>}, {@code <X>}) it is one id.
 *
 * @param eosId     appended to inputs and targets
 * @param padId     fills encoder inputs past their end
 * @param sentinels ids of {@code <extra_id_0>}, {@code <extra_id_1>}, …
 * @param modeIds   [denoisers] the ids prepended to each denoiser's inputs (empty for none)
 */
public record DenoiserTokens(int eosId, int padId, int[] sentinels, int[][] modeIds) {
    public DenoiserTokens {
        if (eosId < 0) throw new ShearsException("denoising needs an EOS id, got " + eosId);
        if (padId < 0) throw new ShearsException("denoising needs a padding id, got " + padId);
        sentinels = sentinels.clone();
        modeIds = modeIds.clone();
        for (int d = 0; d < modeIds.length; d++) modeIds[d] = modeIds[d].clone();
    }

    /**
     * The ids of {@code tokenizer}: its EOS, {@code <pad>}, every {@code <extra_id_i>} from i = 0 until one
     * is missing, and the mode token of each of {@code mixture}'s denoisers.
     */
    public static DenoiserTokens of(Tokenizer tokenizer, DenoiserMixture mixture) {
        if (tokenizer.eosId() < 0) throw new ShearsException("the tokenizer has no EOS token; T5-style denoising ends inputs and targets with it");
        int pad = VocabularyConstraints.idOf(tokenizer, "<pad>");
        if (pad < 0) throw new ShearsException("the tokenizer has no <pad> piece to pad encoder inputs with (T5 and OpenBA have one)");
        int count = 0;
        int[] found = new int[16];
        for (int id; (id = VocabularyConstraints.idOf(tokenizer, "<extra_id_" + count + ">")) >= 0; count++) {
            if (count == found.length) found = java.util.Arrays.copyOf(found, 2 * count);
            found[count] = id;
        }
        int[][] modes = new int[mixture.denoisers().size()][];
        for (int d = 0; d < modes.length; d++) {
            String mode = mixture.denoisers().get(d).modeToken();
            modes[d] = mode.isEmpty() ? new int[0] : tokenizer.encode(mode);
        }
        return new DenoiserTokens(tokenizer.eosId(), pad, java.util.Arrays.copyOf(found, count), modes);
    }

    @Override
    public int[] sentinels() {
        return sentinels.clone();
    }

    /** The mode token ids of denoiser {@code d}. */
    public int[] modeIds(int d) {
        return modeIds[d].clone();
    }

    @Override
    public int[][] modeIds() {
        int[][] copy = modeIds.clone();
        for (int d = 0; d < copy.length; d++) copy[d] = copy[d].clone();
        return copy;
    }
}
