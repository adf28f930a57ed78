package dev.shears.tokenizer;

import java.util.List;

/** Strings every byte-complete tokenizer must give back exactly: decode(encode(s)) == s. */
final class TokenizerStrings {
    private TokenizerStrings() {
    }

    static final List<String> ROUND_TRIP = List.of(
            "", "a", "Hello world", "Hello  world", " leading", "  two leading", "trailing  ", " ", "   ",
            "line one\nline two\n\nline four\n", "\n", "\r\n", "tab\there\t\t", "a\u00a0b", "ideographic\u3000space",
            "café naïve résumé", "e\u0301 combining", "Ελληνικά русский", "中文分词测试，日本語のテキスト。", "한국어", "مرحبا",
            "emoji 👍🏽 and 👨‍👩‍👧 family 🇫🇷", "😀😃😄", "1234567890 3.14159", "I'm sure you're right, don't",
            "<s> and </s> as text", "<0x41> text", "    def f(x):\n        return x ** 2\n", "\u0000nul and \u0007bell",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters", "x\u2028y\u2029z");
}
