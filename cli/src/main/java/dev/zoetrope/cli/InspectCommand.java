package dev.zoetrope.cli;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.Json;
import dev.zoetrope.core.SafeTensors;
import dev.zoetrope.core.TensorInfo;
import dev.zoetrope.core.Weights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code zoe inspect PATH}: a checkpoint's tensors (name, dtype, shape, bytes) and its config summary. */
@Command(name = "inspect", description = "List the tensors of a .safetensors file or a model directory, with config summaries.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "A .safetensors file, a *.safetensors.index.json, or a model directory.")
    Path path;

    @Option(names = "--max", description = "Print at most this many tensors per file (default: all).")
    int max = Integer.MAX_VALUE;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        if (!Files.exists(path)) throw new UserError(path + ": no such file or directory");
        if (Files.isDirectory(path)) {
            List<Path> configs = new ArrayList<>();
            List<Path> weights = new ArrayList<>();
            try (Stream<Path> walk = Files.walk(path, 3)) {
                walk.sorted().forEach(p -> {
                    String n = p.getFileName().toString();
                    if (n.equals("config.json") || n.equals("model_index.json") || n.equals("scheduler_config.json")) configs.add(p);
                    else if (n.endsWith(".safetensors.index.json")) weights.add(p);
                    else if (n.endsWith(".safetensors") && !isIndexedShard(p)) weights.add(p);
                });
            }
            if (configs.isEmpty() && weights.isEmpty()) {
                throw new UserError(path + ": no .safetensors files and no config.json / model_index.json here"
                        + " (not a model directory)");
            }
            for (Path c : configs) printConfig(out, c);
            if (weights.isEmpty()) out.println("(no .safetensors files under " + path + ")");
            for (Path w : weights) printWeights(out, w);
        } else {
            printWeights(out, path);
        }
        return 0;
    }

    private static boolean isIndexedShard(Path p) {
        try (Stream<Path> siblings = Files.list(p.getParent())) {
            return siblings.anyMatch(s -> s.getFileName().toString().endsWith(".safetensors.index.json"));
        } catch (IOException e) {
            return false;
        }
    }

    private void printConfig(PrintStream out, Path file) throws IOException {
        Map<String, Object> json;
        try {
            json = Json.parseObject(Files.readString(file));
        } catch (Json.JsonException e) {
            throw new CheckpointException(file + ": malformed JSON: " + e.getMessage());
        }
        out.println("== " + path.relativize(file) + " ==");
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (e.getKey().startsWith("_") && !e.getKey().equals("_class_name")) continue;
            String v = Json.write(e.getValue() == Json.NULL ? null : e.getValue());
            if (v.length() > 100) v = v.substring(0, 97) + "...";
            out.println("  " + e.getKey() + ": " + v);
        }
    }

    private void printWeights(PrintStream out, Path file) {
        try (Weights w = Weights.open(file)) {
            long total = 0, params = 0;
            int shown = 0;
            out.println("== " + file + " ==");
            if (w instanceof SafeTensors st && !st.metadata().isEmpty()) out.println("  metadata: " + st.metadata());
            for (String name : w.names()) {
                TensorInfo t = w.info(name);
                total += t.byteLength();
                params += t.numel();
                if (shown++ < max) {
                    out.printf("  %-72s %-5s %-22s %,d bytes%n", name, t.dtypeName(), t.shapeString(), t.byteLength());
                }
            }
            if (shown > max) out.println("  ... " + (shown - max) + " more");
            out.printf("  %d tensors, %,d parameters, %,d bytes%n", w.names().size(), params, total);
        }
    }
}
