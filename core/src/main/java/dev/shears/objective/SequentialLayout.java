package dev.shears.objective;

/** How an S-denoiser (prefix LM) example is laid out; the two published codes differ. */
public enum SequentialLayout {
    /**
     * T5's {@code prefix_lm} (t5/data/preprocessors.py: {@code drop_nonnoise_tokens} for the inputs,
     * {@code drop_noise_tokens} for the targets), which UL2's appendix code calls for its S-denoiser:
     * inputs = mode, prefix, EOS; targets = rest, EOS.
     */
    PLAIN,
    /**
     * OpenBA's {@code s_trans} (OpenNLG/OpenBA training/megatron/data/dataset_utils.py): the prefix ends
     * in the first sentinel and the targets start with it, as if the rest were one corrupted span:
     * inputs = mode, prefix, {@code <extra_id_0>}, EOS; targets = {@code <extra_id_0>}, rest, EOS.
     */
    SENTINEL
}
