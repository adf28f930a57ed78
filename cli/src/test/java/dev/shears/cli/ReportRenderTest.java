package dev.shears.cli;

import dev.shears.SharedData;
import dev.shears.data.DataPreparer;
import dev.shears.data.PrepareOptions;
import dev.shears.format.TokenizerLoader;
import dev.shears.progress.Progress;
import dev.shears.recipe.Pipeline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The pipeline report as a person sees it: rendered by headless Chromium (Debian's {@code chromium};
 * {@code .ci/run} installs it), the screenshot must show the timeline, the shape bars and the loss
 * curves in their colours. Without Chromium the rendering half is skipped with a loud message (the
 * structural checks still run).
 */
class ReportRenderTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void theReportRendersWithItsCharts(@TempDir Path tmp) throws IOException, InterruptedException {
        Path tok = SharedData.require("models/stories260K/tok512.bin");
        DataPreparer.prepare(TokenizerLoader.load(tok), tok.toString(), List.of(SharedData.require("eval/tinystories/tinystories_val_head.txt")),
                tmp.resolve("ts"), PrepareOptions.DEFAULT, Progress.SILENT);
        Path file = tmp.resolve("p.yaml");
        Files.writeString(file, "model: " + SharedData.require("models/stories260K/hf") + "\ntokenizer: " + tok + "\nstages:\n"
                + "  - name: drop\n    prune: {dropLayers: [2]}\n"
                + "  - name: heal\n    train: {data: [{path: ts, weight: 1}], steps: 12, batchSize: 2, seqLen: 32, evalInterval: 4, evalWindows: 2}\n"
                + "  - name: eval\n    eval: {tasks: [tinystories], dataDir: " + SharedData.require("eval") + ", limit: 3}\n");
        Path out = tmp.resolve("run");
        List<Pipeline.StageResult> results = Pipeline.run(Pipeline.load(file), out, false, Progress.SILENT, m -> { }, r -> { });
        Path html = new PipelineReport("Render test", results).write(out, Json.object(), "", "");
        String page = Files.readString(html);
        assertTrue(page.contains("<svg"), "charts are inline SVG");
        for (String external : List.of("<script", "<link", "src=", "@import", "url(")) {
            assertTrue(!page.contains(external), "self-contained: no " + external);
        }
        assertEquals(3, page.split("<svg").length - 1 - (page.contains("Domain weights") ? 1 : 0), "timeline, shape bars, loss curves");

        // .ci/run installs it; without it the report cannot be rendered, and the test fails rather than skip
        if (!Files.isExecutable(CHROMIUM)) fail("CHROMIUM MISSING: " + CHROMIUM + " is not installed (apt-get install chromium, as .ci/run does)");
        Path png = tmp.resolve("report.png");
        Process p = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + tmp.resolve("profile"),
                "--window-size=1100,2000", "--screenshot=" + png, html.toUri().toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("chromium.log").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium finished");
        BufferedImage image = ImageIO.read(png.toFile());
        assertTrue(image != null && image.getWidth() >= 1000, "a screenshot was taken");
        int blue = 0, red = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                if (near(rgb, 0x1f77b4)) blue++;
                if (near(rgb, 0xd62728)) red++;
            }
        }
        assertTrue(blue > 2000, "blue chart ink (timeline, bars, training loss): " + blue + " pixels");
        assertTrue(red > 500, "red chart ink (prune stage, held-out curve, bars): " + red + " pixels");
    }

    private static boolean near(int rgb, int target) {
        return Math.abs((rgb >> 16) - (target >> 16)) < 12 && Math.abs((rgb >> 8 & 0xff) - (target >> 8 & 0xff)) < 12
                && Math.abs((rgb & 0xff) - (target & 0xff)) < 12;
    }
}
