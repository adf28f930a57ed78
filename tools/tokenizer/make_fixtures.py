#!/usr/bin/env python3
"""Makes the tokenizer test fixtures under core/src/test/resources/tokenizer/.

Run from the repository root with Debian's python3-sentencepiece and python3-regex
(apt-get install python3-sentencepiece python3-regex):

    python3 tools/tokenizer/make_fixtures.py [--shared ../shared/data]

1. llama2_sentencepiece.json: lines of WikiText-2 (test split) and hand-picked tricky strings with
   the ids real SentencePiece gives them under the Llama 2 tokenizer.model. The fixture also holds
   the SHA-256 of the merge list that Hugging Face's LlamaConverter derives from that model (the
   Java test derives the same list and builds a SentencePiece-style tokenizer.json from it, so the
   licensed vocabulary never enters the repository); an independent rank-based BPE encoder below
   checks that tokenizer.json layout reproduces the SentencePiece ids before anything is written.
2. bytelevel/: a tiny byte-level BPE (trained here on a little TinyStories and WikiText text) as
   three tokenizer.json variants (GPT-2, Llama 3 and Qwen2 pre-tokenizers), with the ids an
   independent reference encoder (this file, using the `regex` module) gives a set of tricky
   strings. Python is never run by CI; the outputs are committed.
"""
import argparse
import collections
import hashlib
import json
import os
import unicodedata

import regex
import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'core', 'src', 'test', 'resources', 'tokenizer')

TRICKY = [
    '', ' ', '  ', 'a', ' a', '  a', 'a ', 'Hello world', 'Hello  world', ' leading space', 'trailing spaces   ',
    'line one\nline two\n\nline four\n', '\n', '\n\n\n', '\r\n', 'tab\there\t\t', '\t', 'a\u00a0b (no-break space)',
    'ideographic\u3000space', 'café naïve résumé', 'e\u0301 combining accent', 'Ελληνικά και русский текст',
    '中文分词测试，日本語のテキスト。', '한국어 문장', 'مرحبا بالعالم', 'हिन्दी पाठ', 'emoji 👍🏽 and 👨‍👩‍👧 family 🇫🇷',
    '😀😃😄', 'numbers 1234567890 and 3.14159, 1,000,000', '٣٤٥ arabic digits, Ⅻ roman, x² squared',
    "I'm sure you're right, they'll see we've done it; don't worry, it's Bob's",
    "I'M SURE YOU'RE RIGHT, DON'T", "'s 't 're 've 'm 'll 'd", 'snake_case_name = foo(bar[0]) + 1;',
    'https://example.com/path?q=1&r=2', '<s> and </s> and <unk> as text', '<0x41> looks like a byte piece',
    '▁already escaped▁', '    def f(x):\n        return x ** 2\n', 'mixed\u2028separators\u2029here',
    'a supercalifragilistic word', 'Once upon a time, there was a little girl named Lily.',
]

SPECIAL_TRICKY = [
    'Hello<|endoftext|>World', ' <|endoftext|> ', '<|endoftext|><|endoftext|>', '<|endoftext|>',
    '<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n', 'almost <|endoftext| special',
    '<|begin_of_text|>Hi',
]


def wikitext_lines(path, count):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    step = max(1, len(nonblank) // count)
    picked = [lines[i] for i in nonblank[::step][:count]]
    picked.insert(0, lines[0])  # a blank " " line
    return picked


# ---------------------------------------------------------------- SentencePiece and its HF layout

def llama_merges(sp):
    """transformers' SentencePieceExtractor.extract with vocab_scores (as LlamaConverter calls it)."""
    n = sp.get_piece_size()
    vocab = {sp.id_to_piece(i): i for i in range(n)}
    scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(n)}
    merges = []
    for merge, piece_score in scores.items():
        local = []
        for index in range(1, len(merge)):
            left, right = merge[:index], merge[index:]
            if left in vocab and right in vocab:
                local.append((left, right, piece_score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: m[2], reverse=True)
    return vocab, [(a, b) for a, b, _ in merges]


def hf_sentencepiece_encode(text, vocab, ranks):
    """Hugging Face BPE on the Llama layout: Prepend('▁') + Replace(' ', '▁'), merges by rank, byte fallback."""
    if not text:
        return []
    s = '\u2581' + text.replace(' ', '\u2581')
    symbols = []
    for ch in s:
        if ch in vocab:
            symbols.append(ch)
        else:
            symbols.extend('<0x%02X>' % b for b in ch.encode('utf-8'))
    symbols = rank_bpe(symbols, ranks)
    return [vocab[x] for x in symbols]


def rank_bpe(symbols, ranks):
    """The obvious quadratic BPE: merge the lowest-rank adjacent pair, the leftmost on ties."""
    symbols = list(symbols)
    while True:
        best = None
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            return symbols
        i = best[1]
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]


def make_sentencepiece_fixture(shared):
    model = os.path.join(shared, 'tokenizers', 'llama2', 'tokenizer.model')
    sp = spm.SentencePieceProcessor(model_file=model)
    lines = wikitext_lines(os.path.join(shared, 'eval', 'wikitext-2', 'wiki.test.raw'), 300)
    cases = []
    for text in TRICKY + lines:
        ids = sp.encode(text)
        decoded = sp.decode(ids)
        cases.append([text, ids] if decoded == text else [text, ids, decoded])
    vocab, merges = llama_merges(sp)
    ranks = {m: i for i, m in enumerate(merges)}
    mismatches = 0
    for case in cases:
        if hf_sentencepiece_encode(case[0], vocab, ranks) != case[1]:
            mismatches += 1
            print('HF layout differs from SentencePiece on', repr(case[0])[:80])
    if mismatches:
        raise SystemExit('%d mismatches between the HF layout and SentencePiece' % mismatches)
    digest = hashlib.sha256('\n'.join(a + ' ' + b for a, b in merges).encode('utf-8')).hexdigest()
    fixture = {
        'about': 'ids from sentencepiece %s for tokenizers/llama2/tokenizer.model; made by tools/tokenizer/make_fixtures.py' % spm.__version__,
        'model': 'tokenizers/llama2/tokenizer.model',
        'lines': 'eval/wikitext-2/wiki.test.raw: a blank line and 300 non-blank lines spread over the file; hand-picked strings first',
        'hf_merges_count': len(merges),
        'hf_merges_sha256': digest,
        'cases': cases,
    }
    write_json(os.path.join(OUT, 'llama2_sentencepiece.json'), fixture)
    print('sentencepiece: %d cases, %d merges, sha256 %s' % (len(cases), len(merges), digest))


# ---------------------------------------------------------------- byte-level BPE

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

SPECIALS = ['<|endoftext|>', '<|begin_of_text|>', '<|im_start|>', '<|im_end|>']
EXTRA_WORD = '\u0120supercalifragilistic'  # in the vocabulary but unreachable by merges: only ignore_merges finds it


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = bytes_to_unicode()


def to_byte_chars(s):
    return ''.join(BYTE_TO_CHAR[b] for b in s.encode('utf-8'))


def train_bytelevel(text, merges_wanted):
    words = collections.Counter(to_byte_chars(w) for w in regex.findall(GPT2_PATTERN, text))
    words = {tuple(w): c for w, c in words.items()}
    merges = []
    for _ in range(merges_wanted):
        pairs = collections.Counter()
        for w, c in words.items():
            for i in range(len(w) - 1):
                pairs[w[i], w[i + 1]] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        merged = {}
        for w, c in words.items():
            out = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + c
        words = merged
    return merges


def split_isolated(pattern, text):
    """Split with behavior Isolated: every match and every gap between matches is a piece."""
    out = []
    at = 0
    for m in regex.finditer(pattern, text):
        if m.start() > at:
            out.append(text[at:m.start()])
        if m.end() > m.start():
            out.append(m.group())
        at = m.end()
    if at < len(text):
        out.append(text[at:])
    return out


def split_specials(text, specials):
    """Added tokens first, leftmost-longest, matched literally; the rest goes through the model."""
    out = []
    at = 0
    plain = 0
    while at < len(text):
        match = None
        for s in specials:
            if text.startswith(s, at) and (match is None or len(s) > len(match)):
                match = s
        if match:
            if at > plain:
                out.append((False, text[plain:at]))
            out.append((True, match))
            at += len(match)
            plain = at
        else:
            at += 1
    if plain < len(text):
        out.append((False, text[plain:]))
    return out


def bytelevel_encode(text, variant, vocab, ranks):
    ids = []
    if variant['bos']:
        ids.append(vocab['<|begin_of_text|>'])
    for special, segment in split_specials(text, SPECIALS):
        if special:
            ids.append(vocab[segment])
            continue
        if variant['nfc']:
            segment = unicodedata.normalize('NFC', segment)
        words = split_isolated(variant['pattern'], segment)
        for w in words:
            chars = to_byte_chars(w)
            if variant['ignore_merges'] and chars in vocab:
                ids.append(vocab[chars])
                continue
            ids.extend(vocab[s] for s in rank_bpe(list(chars), ranks))
    return ids


def bytelevel_json(variant, vocab, merges):
    split = {'type': 'Split', 'pattern': {'Regex': variant['pattern']}, 'behavior': 'Isolated', 'invert': False}
    byte_level = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': variant['name'] == 'gpt2'}
    pre = byte_level if variant['name'] == 'gpt2' else {'type': 'Sequence', 'pretokenizers': [split, byte_level]}
    post = {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True}
    if variant['bos']:
        bos = '<|begin_of_text|>'
        template = {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': bos, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': bos, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': bos, 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
            'special_tokens': {bos: {'id': bos, 'ids': [vocab[bos]], 'tokens': [bos]}},
        }
        post = {'type': 'Sequence', 'processors': [post, template]}
    model_vocab = {k: v for k, v in vocab.items() if k not in SPECIALS}
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{'id': vocab[s], 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True} for s in SPECIALS],
        'normalizer': {'type': 'NFC'} if variant['nfc'] else None,
        'pre_tokenizer': pre,
        'post_processor': post,
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False,
                  'ignore_merges': variant['ignore_merges'], 'vocab': model_vocab,
                  'merges': [[a, b] for a, b in merges] if variant['name'] != 'gpt2' else [a + ' ' + b for a, b in merges]},
    }


def make_bytelevel_fixtures(shared):
    with open(os.path.join(shared, 'eval', 'tinystories', 'tinystories_val_head.txt'), encoding='utf-8') as f:
        text = f.read(60000)
    with open(os.path.join(shared, 'eval', 'wikitext-2', 'wiki.test.raw'), encoding='utf-8') as f:
        text += f.read(30000)
    text += ' '.join(TRICKY) * 3
    merges = train_bytelevel(text, 400)
    vocab = {}
    for b in range(256):
        vocab.setdefault(BYTE_TO_CHAR[b], len(vocab))
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab[EXTRA_WORD] = len(vocab)
    for s in SPECIALS:
        vocab[s] = len(vocab)
    ranks = {m: i for i, m in enumerate(merges)}
    variants = [
        {'name': 'gpt2', 'pattern': GPT2_PATTERN, 'nfc': False, 'ignore_merges': False, 'bos': False,
         'config': {'bos_token': '<|endoftext|>', 'eos_token': '<|endoftext|>', 'add_bos_token': False}},
        {'name': 'llama3', 'pattern': LLAMA3_PATTERN, 'nfc': False, 'ignore_merges': True, 'bos': True,
         'config': {'bos_token': '<|begin_of_text|>', 'eos_token': '<|endoftext|>'}},
        {'name': 'qwen2', 'pattern': QWEN2_PATTERN, 'nfc': True, 'ignore_merges': False, 'bos': False,
         'config': None},
    ]
    expected = {'about': 'ids from the reference encoder in tools/tokenizer/make_fixtures.py (Python regex module %s)' % regex.__version__,
                'variants': {}}
    for v in variants:
        folder = os.path.join(OUT, 'bytelevel', v['name'])
        os.makedirs(folder, exist_ok=True)
        write_json(os.path.join(folder, 'tokenizer.json'), bytelevel_json(v, vocab, merges))
        if v['config'] is not None:
            write_json(os.path.join(folder, 'tokenizer_config.json'), v['config'])
        cases = [[t, bytelevel_encode(t, v, vocab, ranks)] for t in TRICKY + SPECIAL_TRICKY]
        expected['variants'][v['name']] = cases
    write_json(os.path.join(OUT, 'bytelevel', 'expected.json'), expected)
    print('byte-level: %d merges, %d ids, %d cases per variant' % (len(merges), len(vocab), len(TRICKY) + len(SPECIAL_TRICKY)))


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(value, f, ensure_ascii=False, separators=(',', ':'))
        f.write('\n')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--shared', default=os.path.join(HERE, '..', '..', '..', 'shared', 'data'))
    args = parser.parse_args()
    make_sentencepiece_fixture(args.shared)
    make_bytelevel_fixtures(args.shared)


if __name__ == '__main__':
    main()
