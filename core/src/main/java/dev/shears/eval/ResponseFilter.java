package dev.shears.eval;

/**
 * The lm-evaluation-harness filters of a {@code filter_list} pipeline that the generation tasks here use
 * ({@code lm_eval/filters} at 4e7e0d47f). Shears generates one response per document (lm-eval's {@code repeats: 1}),
 * so every filter maps that one response to one answer.
 */
public enum ResponseFilter {
    /** {@code remove_whitespace} ({@code extraction.py} {@code WhitespaceFilter}, lines 109–119): {@code resp.strip()}, Python's whitespace. */
    REMOVE_WHITESPACE("remove_whitespace"),
    /** {@code take_first} ({@code selection.py} {@code TakeFirstFilter}): the document's first response, here its only one. */
    TAKE_FIRST("take_first");

    private final String lmEvalName;

    ResponseFilter(String lmEvalName) {
        this.lmEvalName = lmEvalName;
    }

    /** The {@code function} name a task YAML gives this filter. */
    public String lmEvalName() {
        return lmEvalName;
    }

    String apply(String response) {
        return switch (this) {
            case REMOVE_WHITESPACE -> PyText.strip(response);
            case TAKE_FIRST -> response;
        };
    }
}
