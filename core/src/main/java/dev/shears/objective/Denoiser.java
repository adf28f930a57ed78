package dev.shears.objective;

import dev.shears.ShearsException;

/**
 * One of UL2's denoisers (Tay et al. 2022, "UL2: Unifying Language Learning Paradigms", §3.1): how an
 * example's raw tokens become an (encoder input, decoder target) pair, and the mode token that tells
 * the model which paradigm it is in.
 * <ul>
 * <li>{@link Kind#R} and {@link Kind#X}: T5's span corruption ({@link SpanCorruption}) with mean span
 * length μ = {@code meanSpanLength} and corruption rate r = {@code noiseDensity}. R is the regular
 * setting (short spans, ~15%); X the extreme one (long spans or ~50% corrupted). The two kinds differ
 * only in their mode token.</li>
 * <li>{@link Kind#S}: sequential denoising, a prefix LM: the inputs are a prefix of the example and the
 * targets the rest. r = {@code noiseDensity} is the expected share of the targets: their length is
 * uniform on {@code [1, min(round(2·r·L), L − 1)]} ({@link Denoising}; the layout is the mixture's {@link SequentialLayout}). At r = 0.5 that is
 * exactly T5's {@code random_prefix_noise_mask} (inputs uniform on {@code [1, L − 1]}, the only
 * density T5 accepts); OpenBA's {@code s_trans} draws the targets uniform on {@code [1, round(r'·L)]},
 * which is r = r'/2 here. {@code meanSpanLength} is 0: the targets are one span.</li>
 * </ul>
 * {@code modeToken} is text ("[NLU]", "&lt;R&gt;", or "" for none), encoded with the model's tokenizer and
 * prepended to the inputs ({@link DenoiserTokens}).
 *
 * @param kind           R, S or X
 * @param meanSpanLength μ, mean tokens per corrupted span (≥ 1 for R and X; 0 for S)
 * @param noiseDensity   r, the share of tokens in the targets, in (0, 1)
 * @param modeToken      the paradigm token's text, "" for none
 */
public record Denoiser(Kind kind, double meanSpanLength, double noiseDensity, String modeToken) {
    /** UL2's three paradigms. */
    public enum Kind {
        /** Regular denoising: T5 span corruption with short spans and a low rate. */
        R,
        /** Sequential denoising: prefix language modelling. */
        S,
        /** Extreme denoising: span corruption with long spans or a high rate. */
        X
    }

    public Denoiser {
        if (kind == null) throw new ShearsException("denoiser: kind must be R, S or X");
        modeToken = modeToken == null ? "" : modeToken;
        if (!(noiseDensity > 0 && noiseDensity < 1)) {
            throw new ShearsException("denoiser " + kind + ": noiseDensity must be in (0, 1), got " + noiseDensity);
        }
        if (kind == Kind.S && meanSpanLength != 0) {
            throw new ShearsException("denoiser S: the targets are one span, so meanSpanLength must be 0, got " + meanSpanLength);
        }
        if (kind != Kind.S && !(meanSpanLength >= 1 && Double.isFinite(meanSpanLength))) {
            throw new ShearsException("denoiser " + kind + ": meanSpanLength must be a finite number ≥ 1, got " + meanSpanLength);
        }
    }

    /** An R or X denoiser: T5 span corruption with mean span length μ and rate r. */
    public static Denoiser spans(Kind kind, double meanSpanLength, double noiseDensity, String modeToken) {
        if (kind == Kind.S) throw new ShearsException("denoiser S is a prefix LM; make it with Denoiser.sequential(noiseDensity, modeToken)");
        return new Denoiser(kind, meanSpanLength, noiseDensity, modeToken);
    }

    /** An S denoiser whose targets take a share r of the tokens on average. */
    public static Denoiser sequential(double noiseDensity, String modeToken) {
        return new Denoiser(Kind.S, 0, noiseDensity, modeToken);
    }

    /** A short name for logs and checkpoint state, e.g. {@code R(μ=3,r=0.15)} or {@code S(r=0.25)}. */
    public String label() {
        return kind == Kind.S ? "S(r=" + noiseDensity + ")" : kind + "(μ=" + meanSpanLength + ",r=" + noiseDensity + ")";
    }
}
