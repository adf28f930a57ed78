package dev.shears.cli;

import dev.shears.progress.Progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress bar on stderr: task, done/total, percent, rate and ETA. On a terminal it redraws in place
 * at most ten times a second; otherwise (CI logs, pipes) it prints a line every 10% or every 10 seconds.
 */
public final class ProgressBar implements Progress {
    private static final int WIDTH = 24;
    private final PrintStream out;
    private final boolean terminal;
    private final LongSupplier nanoClock;
    private String task = "";
    private String unit = "";
    private long total;
    private long done;
    private long started;
    private long lastDraw;
    private int lastDecile = -1;
    private String status = "";

    public ProgressBar(PrintStream out, boolean terminal, LongSupplier nanoClock) {
        this.out = out;
        this.terminal = terminal;
        this.nanoClock = nanoClock;
    }

    /** A bar on this process's stderr. */
    public static ProgressBar stderr() {
        return new ProgressBar(System.err, System.console() != null, System::nanoTime);
    }

    @Override
    public void start(String task, long total, String unit) {
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.done = 0;
        this.started = nanoClock.getAsLong();
        this.lastDraw = started;
        this.lastDecile = -1;
        this.status = "";
        if (!terminal) out.println(line());
    }

    @Override
    public void advance(long amount) {
        done += amount;
        long now = nanoClock.getAsLong();
        if (terminal) {
            if (now - lastDraw >= 100_000_000L) {
                out.print("\r" + line() + "\u001b[K");
                out.flush();
                lastDraw = now;
            }
        } else {
            int decile = total > 0 ? (int) Math.min(10, done * 10 / total) : -1;
            if ((decile > lastDecile && decile < 10) || now - lastDraw >= 10_000_000_000L) {
                out.println(line());
                lastDraw = now;
                lastDecile = Math.max(lastDecile, decile);
            }
        }
    }

    @Override
    public void status(String text) {
        this.status = text == null ? "" : text;
    }

    @Override
    public void note(String text) {
        out.print((terminal ? "\r\u001b[K" : "") + text + "\n");
        out.flush();
    }

    @Override
    public void finish() {
        out.print((terminal ? "\r" : "") + line() + (terminal ? "\u001b[K" : "") + "\n");
        out.flush();
    }

    /** The current status line, e.g. {@code perplexity [#####.....] 512/1007 tok 50.8% 1234.5 tok/s 0:03 ETA 0:02}. */
    String line() {
        double seconds = (nanoClock.getAsLong() - started) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        StringBuilder s = new StringBuilder(task).append(' ');
        if (total > 0) {
            double fraction = Math.min(1, (double) done / total);
            int filled = (int) Math.round(fraction * WIDTH);
            s.append('[').append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ");
            s.append(done).append('/').append(total).append(' ').append(unit);
            s.append(String.format(Locale.ROOT, " %5.1f%%", 100 * fraction));
        } else {
            s.append(done).append(' ').append(unit);
        }
        // slow work (a layer of a 7B model over the calibration windows) reads better as seconds per unit
        String speed = rate > 0 && rate < 1 ? String.format(Locale.ROOT, "%.1f s/%s", 1 / rate, unit) : human(rate) + " " + unit + "/s";
        s.append(String.format(Locale.ROOT, " %s elapsed %s", speed, clock(seconds)));
        if (total > 0 && rate > 0 && done < total) s.append(" ETA ").append(clock((total - done) / rate));
        if (!status.isEmpty()) s.append("  ").append(status);
        return s.toString();
    }

    static String human(double x) {
        if (x >= 1e6) return String.format(Locale.ROOT, "%.2fM", x / 1e6);
        if (x >= 1e4) return String.format(Locale.ROOT, "%.1fk", x / 1e3);
        return String.format(Locale.ROOT, "%.1f", x);
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
