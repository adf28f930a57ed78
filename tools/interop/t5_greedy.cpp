// Greedy decoding of a T5 GGUF with llama.cpp's library, printing token ids and logits, so that
// llama.cpp's run can be compared number by number with Shears' (tools/interop/T5Greedy.java).
// It does what llama-cli does for an encoder-decoder (examples/main/main.cpp: tokenize with the
// vocabulary's own settings, llama_encode the prompt, then decode from the decoder start token), with
// the K/V cache in f32 so that the logits are not rounded through f16. Special tokens in the prompt
// are parsed, as llama-cli parses them.
//
//   g++ -O2 -std=c++17 -I$LLAMA/include -I$LLAMA/ggml/include tools/interop/t5_greedy.cpp \
//       -L$LLAMA/build/bin -lllama -Wl,-rpath,$LLAMA/build/bin -o /tmp/t5_greedy
//   /tmp/t5_greedy model.gguf "prompt" 10
//
// Output: "prompt <ids>", then per step "step <t> token <id> logits <l0> <l1> ..." (every logit, %.6g).
#include "llama.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char ** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.gguf PROMPT STEPS\n", argv[0]);
        return 2;
    }
    const std::string prompt = argv[2];
    const int steps = atoi(argv[3]);
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();
    llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (model == nullptr) {
        fprintf(stderr, "%s: llama.cpp cannot load it\n", argv[1]);
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    std::vector<llama_token> ids(prompt.size() + 8);
    int n = llama_tokenize(vocab, prompt.c_str(), (int) prompt.size(), ids.data(), (int) ids.size(), true, true);
    if (n < 0) {
        fprintf(stderr, "tokenize failed\n");
        return 1;
    }
    ids.resize(n);
    printf("prompt");
    for (llama_token t : ids) printf(" %d", t);
    printf("\n");

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n + steps + 8;
    cp.n_batch = cp.n_ctx;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (llama_encode(ctx, llama_batch_get_one(ids.data(), n)) != 0) {
        fprintf(stderr, "llama_encode failed\n");
        return 1;
    }
    llama_token token = llama_model_decoder_start_token(model);
    if (token == LLAMA_TOKEN_NULL) token = llama_vocab_bos(vocab);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    for (int t = 0; t < steps; t++) {
        if (llama_decode(ctx, llama_batch_get_one(&token, 1)) != 0) {
            fprintf(stderr, "llama_decode failed at step %d\n", t);
            return 1;
        }
        const float * logits = llama_get_logits_ith(ctx, -1);
        int best = 0;
        for (int i = 1; i < n_vocab; i++) if (logits[i] > logits[best]) best = i;
        printf("step %d token %d logits", t, best);
        for (int i = 0; i < n_vocab; i++) printf(" %.6g", logits[i]);
        printf("\n");
        token = best;
    }
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
