package dev.shears.objective;

import dev.shears.seq2seq.T5Model;

/** {@link Seq2SeqTrainer} over a T5 ({@link T5Training}). */
public final class T5Trainer extends Seq2SeqTrainer {
    private final T5Model model;

    public T5Trainer(T5Model model, DenoisingBatcher batcher, DenoisingBatcher heldOut, T5TrainConfig config) {
        super(new T5Training(model), batcher, heldOut, config);
        this.model = model;
    }

    public T5Model model() {
        return model;
    }
}
