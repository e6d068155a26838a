package dev.zoetrope.hub;

import dev.zoetrope.core.Json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which files of a repository to download. Three modes:
 * <ul>
 *   <li>{@link #model()}: a diffusers pipeline when the repo has {@code model_index.json} (all its
 *       components), otherwise every file (a transformers-style repo);</li>
 *   <li>{@link #components(List)}: only these diffusers components (folders named in model_index.json) plus
 *       the root {@code model_index.json};</li>
 *   <li>{@link #patterns(List)}: exactly the files matching these globs (fnmatch: {@code *} also crosses '/',
 *       a pattern ending in '/' means everything below), nothing else filtered.</li>
 * </ul>
 * In the first two modes weights are chosen per folder as diffusers does: safetensors over .bin (other
 * formats — .ckpt, .onnx, .msgpack, .h5 … — never), and with a {@link #variant(String)} such as "fp16" the
 * variant files ({@code model.fp16.safetensors}, {@code model.fp16-00001-of-00002.safetensors},
 * {@code model.safetensors.index.fp16.json}) instead of the plain ones where the folder has them (falling
 * back to the plain ones where it does not). Model cards, images and .gitattributes are skipped.
 */
public final class FileSelection {
    private enum Mode { MODEL, COMPONENTS, PATTERNS }

    /** Root files diffusers fetches with a pipeline (pipeline_utils: config names). */
    private static final Set<String> PIPELINE_ROOT_FILES = Set.of("model_index.json", "config.json", "scheduler_config.json");
    private static final Pattern SHARD = Pattern.compile("-\\d{5}-of-\\d{5}$");
    private static final Pattern VARIANT_TOKEN = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
    private static final Set<String> OTHER_WEIGHT_FORMATS = Set.of(".ckpt", ".pt", ".pth", ".onnx", ".onnx_data", ".pb",
            ".msgpack", ".h5", ".ot", ".tflite", ".mlmodel", ".gguf", ".nemo", ".keras");
    private static final Set<String> SKIPPED_EXTENSIONS = Set.of(".md", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4");

    private final Mode mode;
    private final List<String> components;
    private final List<Pattern> patterns;
    private final List<String> patternTexts;
    private final String variant;

    private FileSelection(Mode mode, List<String> components, List<String> patternTexts, String variant) {
        this.mode = mode;
        this.components = components;
        this.patternTexts = patternTexts;
        this.patterns = patternTexts.stream().map(FileSelection::glob).toList();
        this.variant = variant;
    }

    public static FileSelection model() {
        return new FileSelection(Mode.MODEL, List.of(), List.of(), null);
    }

    public static FileSelection components(List<String> components) {
        if (components.isEmpty()) throw new IllegalArgumentException("no components given");
        return new FileSelection(Mode.COMPONENTS, List.copyOf(components), List.of(), null);
    }

    public static FileSelection patterns(List<String> globs) {
        if (globs.isEmpty()) throw new IllegalArgumentException("no patterns given");
        return new FileSelection(Mode.PATTERNS, List.of(), List.copyOf(globs), null);
    }

    /** The same selection preferring weight files of this variant (e.g. "fp16"); null for plain weights. */
    public FileSelection variant(String variant) {
        if (variant != null && !VARIANT_TOKEN.matcher(variant).matches()) {
            throw new IllegalArgumentException("invalid variant '" + variant + "' (expected a name such as fp16)");
        }
        return new FileSelection(mode, components, patternTexts, variant);
    }

    public String variant() {
        return variant;
    }

    /** True when the choice depends on model_index.json (which is then fetched first). */
    boolean needsModelIndex() {
        return mode != Mode.PATTERNS;
    }

    /**
     * The files to download out of {@code repoFiles} (repo paths with '/'), sorted. {@code modelIndex} is the
     * parsed model_index.json or null when the repo has none.
     */
    public List<String> select(List<String> repoFiles, Json.Obj modelIndex) {
        if (mode == Mode.PATTERNS) {
            List<String> out = new ArrayList<>();
            for (String f : repoFiles) if (patterns.stream().anyMatch(p -> p.matcher(f).matches())) out.add(f);
            out.sort(null);
            return out;
        }
        List<String> candidates = new ArrayList<>();
        if (modelIndex == null) {
            if (mode == Mode.COMPONENTS) {
                throw new IllegalArgumentException("components " + components + " asked for, but the repo has no model_index.json");
            }
            candidates.addAll(repoFiles);
        } else {
            Set<String> folders = pipelineFolders(modelIndex);
            if (mode == Mode.COMPONENTS) {
                for (String c : components) {
                    if (!folders.contains(c)) {
                        throw new IllegalArgumentException("component '" + c + "' is not in model_index.json (it has " + folders + ")");
                    }
                }
                folders = new TreeSet<>(components);
            }
            for (String f : repoFiles) {
                int slash = f.indexOf('/');
                if (slash < 0 ? PIPELINE_ROOT_FILES.contains(f) : folders.contains(f.substring(0, slash))) candidates.add(f);
            }
        }
        return chooseWeights(candidates);
    }

    /** The pipeline component folders this selection wants (none for pattern selections). */
    Set<String> componentFolders(Json.Obj modelIndex) {
        return switch (mode) {
            case PATTERNS -> Set.of();
            case COMPONENTS -> new TreeSet<>(components);
            case MODEL -> pipelineFolders(modelIndex);
        };
    }

    /** Component folders of a pipeline: keys whose value is [library, class] with a library set. */
    static Set<String> pipelineFolders(Json.Obj modelIndex) {
        Set<String> folders = new TreeSet<>();
        for (Map.Entry<String, Object> e : modelIndex.map().entrySet()) {
            if (e.getKey().startsWith("_")) continue;
            if (e.getValue() instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String) folders.add(e.getKey());
        }
        return folders;
    }

    /** Drops skipped files and, per folder, keeps one weight format and one variant. */
    private List<String> chooseWeights(List<String> files) {
        Map<String, List<String>> byFolder = new LinkedHashMap<>();
        List<String> out = new ArrayList<>();
        for (String f : files) {
            String name = f.substring(f.lastIndexOf('/') + 1);
            String ext = extension(name);
            if (name.equals(".gitattributes") || SKIPPED_EXTENSIONS.contains(ext) || OTHER_WEIGHT_FORMATS.contains(ext)) continue;
            if (weightFormat(name) == null) {
                out.add(f);
            } else {
                byFolder.computeIfAbsent(f.substring(0, f.lastIndexOf('/') + 1), k -> new ArrayList<>()).add(f);
            }
        }
        for (List<String> weights : byFolder.values()) {
            String format = weights.stream().anyMatch(w -> "safetensors".equals(weightFormat(name(w)))) ? "safetensors" : "bin";
            List<String> ofFormat = weights.stream().filter(w -> format.equals(weightFormat(name(w)))).toList();
            List<String> wanted = variant == null ? List.of()
                    : ofFormat.stream().filter(w -> variant.equals(variantOf(name(w)))).toList();
            if (wanted.isEmpty()) wanted = ofFormat.stream().filter(w -> variantOf(name(w)) == null).toList();
            if (wanted.isEmpty()) wanted = ofFormat; // only other variants exist: take them rather than nothing
            out.addAll(wanted);
        }
        out.sort(null);
        return out;
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static String extension(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot).toLowerCase(Locale.ROOT);
    }

    /** "safetensors" or "bin" for weight files and their shard indexes (plain or variant), else null. */
    static String weightFormat(String name) {
        if (name.endsWith(".safetensors") || INDEX.matcher(name).matches() && name.contains(".safetensors.index")) return "safetensors";
        if (name.endsWith(".bin") || INDEX.matcher(name).matches() && name.contains(".bin.index")) return "bin";
        return null;
    }

    private static final Pattern INDEX = Pattern.compile(".*\\.(safetensors|bin)\\.index(\\.[A-Za-z][A-Za-z0-9_]*)?\\.json");
    private static final Pattern VARIANT_INDEX = Pattern.compile(".*\\.(?:safetensors|bin)\\.index\\.([A-Za-z][A-Za-z0-9_]*)\\.json");

    /**
     * The variant a weight file name carries, or null: {@code x.fp16.safetensors} and
     * {@code x.fp16-00001-of-00002.safetensors} give "fp16", {@code x.safetensors.index.fp16.json} too.
     * A last dotted part that is not a name ({@code sd_xl_base_1.0.safetensors}) is no variant.
     */
    static String variantOf(String name) {
        Matcher index = VARIANT_INDEX.matcher(name);
        if (index.matches()) return index.group(1);
        if (INDEX.matcher(name).matches()) return null;
        String stem = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length())
                : name.endsWith(".bin") ? name.substring(0, name.length() - ".bin".length()) : null;
        if (stem == null) return null;
        stem = SHARD.matcher(stem).replaceFirst("");
        int dot = stem.lastIndexOf('.');
        if (dot < 0) return null;
        String token = stem.substring(dot + 1);
        return VARIANT_TOKEN.matcher(token).matches() ? token : null;
    }

    /** fnmatch-style glob as huggingface_hub's filter_repo_objects uses: '*' matches any run, '/' included. */
    static Pattern glob(String glob) {
        if (glob.endsWith("/")) glob = glob + "*";
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int end = glob.indexOf(']', i + 2);
                    if (end < 0) {
                        re.append("\\[");
                    } else {
                        String set = glob.substring(i + 1, end);
                        if (set.startsWith("!")) set = "^" + set.substring(1);
                        re.append('[').append(set.replace("\\", "\\\\")).append(']');
                        i = end;
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    @Override
    public String toString() {
        String what = switch (mode) {
            case MODEL -> "model";
            case COMPONENTS -> "components " + components;
            case PATTERNS -> "patterns " + patternTexts;
        };
        return what + (variant == null ? "" : ", variant " + variant);
    }
}
