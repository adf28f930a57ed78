package dev.shears.cli;

import java.util.List;
import java.util.Locale;

/** Self-contained SVG line charts for HTML reports (no scripts, no fonts fetched). */
final class Charts {
    static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

    /** One named series of (x, y) points. */
    record Series(String name, double[] x, double[] y) {
    }

    private Charts() {
    }

    private static final String STYLE = "body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
            + "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            + "td:first-child,th:first-child,td.l,th.l{text-align:left}blockquote{background:#f6f6f6;padding:8px 12px;margin:0 0 1em 0}"
            + ".ref{color:#666;font-size:90%}";

    /** A self-contained report page (no scripts, fonts or links) around {@code body}, which starts with its own heading. */
    static String page(String title, String body) {
        return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title) + "</title><style>" + STYLE
                + "</style></head><body>" + body + "</body></html>\n";
    }

    /** A series from (x, y) pairs. */
    static Series series(String name, List<double[]> points) {
        return new Series(name, points.stream().mapToDouble(p -> p[0]).toArray(), points.stream().mapToDouble(p -> p[1]).toArray());
    }

    /** A line chart with axes, ticks and a legend. */
    static String line(String title, String xLabel, String yLabel, List<Series> series) {
        return line(title, xLabel, yLabel, series, new double[0]);
    }

    /** A line chart with dashed vertical markers at {@code markers} (e.g. stage boundaries). */
    static String line(String title, String xLabel, String yLabel, List<Series> series, double[] markers) {
        int w = 640, h = 320, left = 60, right = 150, top = 30, bottom = 45;
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.y()[i])) continue;
                minX = Math.min(minX, s.x()[i]);
                maxX = Math.max(maxX, s.x()[i]);
                minY = Math.min(minY, s.y()[i]);
                maxY = Math.max(maxY, s.y()[i]);
            }
        }
        if (minX > maxX) {
            minX = 0;
            maxX = 1;
            minY = 0;
            maxY = 1;
        }
        if (maxX == minX) maxX = minX + 1;
        if (maxY == minY) maxY = minY + 1;
        double pad = (maxY - minY) * 0.05;
        minY -= pad;
        maxY += pad;
        double plotW = w - left - right, plotH = h - top - bottom;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" style=\"max-width:100%%;height:auto\" role=\"img\" aria-label=\"%s\">",
                w, h, w, h, esc(title)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>", left, esc(title)));
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>", left, top, plotW, plotH));
        for (int t = 0; t <= 4; t++) {
            double fy = minY + (maxY - minY) * t / 4, py = top + plotH - plotH * t / 4;
            double fx = minX + (maxX - minX) * t / 4, px = left + plotW * t / 4;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", left, left + plotW, py, py));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>", left - 4, py + 4, tick(fy)));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>", px, top + plotH + 15, tick(fx)));
        }
        for (double m : markers) {
            if (m < minX || m > maxX) continue;
            double px = left + plotW * (m - minX) / (maxX - minX);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>", px, px, top, top + plotH));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%s</text>", left + plotW / 2, h - 8, esc(xLabel)));
        svg.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">%s</text>",
                top + plotH / 2, top + plotH / 2, esc(yLabel)));
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            String color = COLORS[k % COLORS.length];
            StringBuilder points = new StringBuilder();
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.y()[i])) continue;
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", left + plotW * (s.x()[i] - minX) / (maxX - minX),
                        top + plotH - plotH * (s.y()[i] - minY) / (maxY - minY)));
            }
            svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>", color, points.toString().trim()));
            if (s.x().length <= 40) {
                for (String p : points.toString().trim().split(" ")) {
                    if (p.isEmpty()) continue;
                    String[] xy = p.split(",");
                    svg.append(String.format(Locale.ROOT, "<circle cx=\"%s\" cy=\"%s\" r=\"2.5\" fill=\"%s\"/>", xy[0], xy[1], color));
                }
            }
            double ly = top + 12 + 16 * k;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>",
                    left + plotW + 10, left + plotW + 28, ly, ly, color));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text>", left + plotW + 32, ly + 4, esc(s.name())));
        }
        return svg.append("</svg>").toString();
    }

    /** One model's bars: a value (and a standard error, NaN for none) per category. */
    record Bars(String name, double[] values, double[] errors) {
    }

    /** A grouped bar chart from zero: one group per category (metric), one bar per series (model), error whiskers. */
    static String bars(String title, String yLabel, List<String> categories, List<Bars> series) {
        int left = 60, right = 170, top = 30, bottom = 40, h = 280;
        int w = Math.max(640, left + right + 95 * categories.size()); // room for every category's label
        double maxY = 0;
        for (Bars b : series) {
            for (int i = 0; i < b.values().length; i++) {
                double e = Double.isFinite(b.errors()[i]) ? b.errors()[i] : 0;
                if (Double.isFinite(b.values()[i])) maxY = Math.max(maxY, b.values()[i] + e);
            }
        }
        if (maxY <= 0) maxY = 1;
        maxY *= 1.08;
        double plotW = w - left - right, plotH = h - top - bottom;
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" style=\"max-width:100%%;height:auto\" role=\"img\" aria-label=\"%s\">", w, h, w, h, esc(title)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>", left, esc(title)));
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>", left, top, plotW, plotH));
        for (int t = 0; t <= 4; t++) {
            double py = top + plotH - plotH * t / 4;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", left, left + plotW, py, py));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>", left - 4, py + 4, tick(maxY * t / 4)));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">%s</text>",
                top + plotH / 2, top + plotH / 2, esc(yLabel)));
        double group = plotW / Math.max(1, categories.size());
        double bar = group * 0.8 / Math.max(1, series.size());
        for (int c = 0; c < categories.size(); c++) {
            double gx = left + group * c + group * 0.1;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>",
                    left + group * c + group / 2, top + plotH + 15, esc(categories.get(c))));
            for (int k = 0; k < series.size(); k++) {
                double v = series.get(k).values()[c];
                if (!Double.isFinite(v)) continue;
                double x = gx + bar * k, y = top + plotH - plotH * v / maxY;
                svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %s = %s</title></rect>",
                        x, y, bar * 0.9, top + plotH - y, COLORS[k % COLORS.length], esc(series.get(k).name()), esc(categories.get(c)), tick(v)));
                double e = series.get(k).errors()[c];
                if (Double.isFinite(e) && e > 0) {
                    double cx = x + bar * 0.45;
                    svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>", cx, cx,
                            top + plotH - plotH * (v - e) / maxY, top + plotH - plotH * (v + e) / maxY));
                }
            }
        }
        for (int k = 0; k < series.size(); k++) {
            double ly = top + 12 + 16 * k;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>", left + plotW + 10, ly - 6, COLORS[k % COLORS.length]));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text>", left + plotW + 28, ly + 4, esc(series.get(k).name())));
        }
        return svg.append("</svg>").toString();
    }

    private static String tick(double v) {
        double a = Math.abs(v);
        if (a >= 1e4) return String.format(Locale.ROOT, "%.3g", v);
        if (a >= 100 || v == Math.rint(v)) return String.format(Locale.ROOT, "%.0f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
