package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.core.CheckpointException;
import dev.zoetrope.core.ComponentFolders;
import dev.zoetrope.core.Json;
import dev.zoetrope.diffusion.schedulers.SchedulerConfig;
import dev.zoetrope.diffusion.schedulers.SchedulerType;
import dev.zoetrope.hub.DownloadListener;
import dev.zoetrope.hub.FileSelection;
import dev.zoetrope.hub.HubClient;
import dev.zoetrope.hub.RepoId;
import dev.zoetrope.hub.Snapshot;
import dev.zoetrope.models.clip.ClipTextConfig;
import dev.zoetrope.models.clip.ClipTextModel;
import dev.zoetrope.models.ldm.LdmCheckpoint;
import dev.zoetrope.models.nn.Configs;
import dev.zoetrope.models.tokenizer.ClipTokenizer;
import dev.zoetrope.models.unet.UNet2DConditionConfig;
import dev.zoetrope.models.unet.UNet2DConditionModel;
import dev.zoetrope.models.vae.AutoencoderKL;
import dev.zoetrope.models.vae.AutoencoderKLConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a {@link StableDiffusion} from what users have:
 * <ul>
 *   <li>a diffusers folder ({@code model_index.json} naming tokenizer, text_encoder, unet, vae and scheduler, each
 *       in its own sub-folder, as {@code save_pretrained} writes it and the Hugging Face hub serves it);</li>
 *   <li>a single-file checkpoint with the original LDM tensor names ({@code .safetensors}, as model sharing sites
 *       offer them), through {@link LdmCheckpoint}. Such a file carries weights only: like diffusers'
 *       {@code from_single_file(..., config=...)}, the tokenizer and the configs come from a config folder (a
 *       diffusers folder of the same architecture; weights there are not needed): the one given, else the folder
 *       holding the file if it has a {@code tokenizer/}, else — with a hub client — the reference repository diffusers
 *       would use for the file's type ({@link LdmCheckpoint.ModelType#referenceRepo()}, config files only). Configs
 *       the folder lacks are inferred from the tensor shapes; a missing scheduler config becomes the one of
 *       stable-diffusion-v1-5 (PNDM, ε) or, for SD 2.x, stable-diffusion-2-1 (DDIM, v-prediction, 768 px);</li>
 *   <li>a hub repo id ({@code org/name}): the five components are downloaded into the standard cache.</li>
 * </ul>
 * Every missing piece is reported naming the component and the path that was expected. A component stored as a link
 * file (a symlink checked out without symlink support) is followed ({@link ComponentFolders}).
 */
public final class StableDiffusionLoader {
    /** The components a Stable Diffusion folder must have (model_index.json keys = sub-folder names). */
    static final List<String> COMPONENTS = List.of("tokenizer", "text_encoder", "unet", "vae", "scheduler");

    private static final Set<String> TEXT_ENCODER_CLASSES = Set.of("CLIPTextModel", "CLIPTextModelWithProjection");
    private static final Set<String> TOKENIZER_CLASSES = Set.of("CLIPTokenizer", "CLIPTokenizerFast");

    /** The config files diffusers fetches from a reference repository for a single file (no weights). */
    static final List<String> CONFIG_FILES = List.of("model_index.json", "tokenizer/*", "scheduler/*",
            "text_encoder/config.json", "unet/config.json", "vae/config.json");

    /**
     * What a single-file checkpoint lacks.
     *
     * @param configDir a diffusers folder of the same architecture (diffusers' {@code config=}): its tokenizer/ and
     *                  its component configs are used; null = the folder holding the file, if it has a tokenizer/
     */
    public record SingleFileOptions(Path configDir) {
        public static SingleFileOptions defaults() {
            return new SingleFileOptions(null);
        }
    }

    private StableDiffusionLoader() {
    }

    /** A diffusers folder, or a single-file {@code .safetensors} checkpoint with default options. */
    public static StableDiffusion load(Path path) {
        return load(path, SingleFileOptions.defaults());
    }

    /** A diffusers folder, or a single-file checkpoint with the given options. */
    public static StableDiffusion load(Path path, SingleFileOptions singleFile) {
        if (Files.isDirectory(path)) return fromDiffusersFolder(path);
        if (Files.isRegularFile(path)) return fromSingleFile(path, singleFile);
        throw new CheckpointException(path + ": no such model folder or checkpoint file");
    }

    // ---------------------------------------------------------------- local path or hub repo

    /**
     * {@link #fromPretrained(String, HubClient, String, String, String, DownloadListener)} with the defaults: branch
     * main, plain (full-precision) weights, no config override, no progress.
     */
    public static StableDiffusion fromPretrained(String model, HubClient client) {
        return fromPretrained(model, client, null, null, null, null);
    }

    /**
     * What users pass as a model: an existing folder or file is loaded from disk; otherwise a Hugging Face repo id
     * ({@code org/name}) whose Stable Diffusion components are downloaded into (or found in) the standard cache
     * through {@code client}. A single-file checkpoint without a config folder at hand gets the config files of its
     * reference repository from the hub, as diffusers' from_single_file does.
     *
     * @param revision a branch, tag or commit (null: main)
     * @param variant  weight variant such as "fp16" (null: plain weights)
     * @param config   for a single file: a config folder, or a hub repo id to take the config files from (null:
     *                 as {@link SingleFileOptions})
     * @param listener download progress (may be null)
     */
    public static StableDiffusion fromPretrained(String model, HubClient client, String revision, String variant,
                                                 String config, DownloadListener listener) {
        Path local = localPath(model);
        try {
            if (local != null && Files.isRegularFile(local)) {
                Path configDir = config != null ? localPath(config) : null;
                if (config != null && configDir == null) {
                    if (!RepoId.looksLikeRepoId(config)) {
                        throw new CheckpointException(config + ": no such config folder, and not a Hugging Face repo id");
                    }
                    configDir = downloadConfigs(client, config, listener);
                } else if (configDir == null && !Files.isDirectory(ComponentFolders.resolve(siblingConfig(local), "tokenizer"))) {
                    configDir = downloadConfigs(client, referenceRepo(local), listener);
                }
                return fromSingleFile(local, new SingleFileOptions(configDir));
            }
            if (local != null) return fromDiffusersFolder(local);
            if (!RepoId.looksLikeRepoId(model)) {
                throw new CheckpointException(model + ": no such model folder or checkpoint file, and not a Hugging Face "
                        + "repo id (org/name)");
            }
            FileSelection selection = FileSelection.components(COMPONENTS).variant(variant);
            RepoId repo = RepoId.parse(model);
            Snapshot snapshot = client.download(repo, revision, selection, listener);
            return fromDiffusersFolder(snapshot.dir(), repo.name());   // the repo's name, not the snapshot's commit folder
        } catch (IOException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
    }

    private static Path downloadConfigs(HubClient client, String repo, DownloadListener listener) throws IOException {
        return client.download(RepoId.parse(repo), null, FileSelection.patterns(CONFIG_FILES), listener).dir();
    }

    private static Path localPath(String model) {
        try {
            Path p = Path.of(model);
            return Files.exists(p) ? p : null;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /** The folder holding a checkpoint file. */
    private static Path siblingConfig(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent != null ? parent : Path.of("").toAbsolutePath();
    }

    private static String referenceRepo(Path file) {
        try (LdmCheckpoint checkpoint = LdmCheckpoint.open(file)) {
            return checkpoint.modelType().referenceRepo();
        }
    }

    // ---------------------------------------------------------------- diffusers folder

    /** A diffusers pipeline folder. */
    public static StableDiffusion fromDiffusersFolder(Path dir) {
        return fromDiffusersFolder(dir, name(dir));
    }

    /** A diffusers pipeline folder, named {@code name} in the generation parameters. */
    static StableDiffusion fromDiffusersFolder(Path dir, String name) {
        Path indexFile = dir.resolve("model_index.json");
        if (!Files.isRegularFile(indexFile)) {
            throw new CheckpointException(dir + ": not a diffusers model folder (model_index.json not found)");
        }
        Json.Obj index = Configs.read(indexFile);
        Map<String, Path> folders = new HashMap<>();
        for (String component : COMPONENTS) {
            String cls = componentClass(index, indexFile, component);
            Path folder = ComponentFolders.resolve(dir, component);
            folders.put(component, folder);
            if (!Files.isDirectory(folder)) {
                throw new CheckpointException(folder + ": folder of component '" + component + "' (" + cls
                        + ", listed in model_index.json) is missing");
            }
            if (component.equals("text_encoder") && !TEXT_ENCODER_CLASSES.contains(cls)) throw unsupported(indexFile, component, cls);
            if (component.equals("tokenizer") && !TOKENIZER_CLASSES.contains(cls)) throw unsupported(indexFile, component, cls);
            if (component.equals("unet") && !cls.equals("UNet2DConditionModel")) throw unsupported(indexFile, component, cls);
            if (component.equals("vae") && !cls.equals("AutoencoderKL")) throw unsupported(indexFile, component, cls);
        }
        SchedulerConfig scheduler = schedulerConfig(folders.get("scheduler").resolve("scheduler_config.json"));
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            ClipTokenizer tokenizer = track(opened, ClipTokenizer.load(folders.get("tokenizer")));
            ClipTextModel textEncoder = track(opened, ClipTextModel.load(folders.get("text_encoder")));
            UNet2DConditionModel unet = track(opened, UNet2DConditionModel.load(folders.get("unet")));
            AutoencoderKL vae = track(opened, AutoencoderKL.load(folders.get("vae")));
            return new StableDiffusion(name, tokenizer, textEncoder, unet, vae, scheduler, 0, reversed(opened));
        } catch (RuntimeException e) {
            closeQuietly(opened, e);
            throw e;
        }
    }

    /** The class a model_index.json entry ["library", "Class"] names; an error when absent or null. */
    private static String componentClass(Json.Obj index, Path indexFile, String component) {
        Object entry = index.raw(component);
        if (entry instanceof List<?> list && list.size() == 2 && list.get(1) instanceof String cls) return cls;
        String found = entry == null ? "no entry" : entry == Json.NULL || entry instanceof List<?> l && l.contains(Json.NULL)
                ? "null" : Json.write(entry);
        throw new CheckpointException(indexFile + ": component '" + component + "' is missing (" + found
                + "); Stable Diffusion needs " + String.join(", ", COMPONENTS));
    }

    private static CheckpointException unsupported(Path indexFile, String component, String cls) {
        return new CheckpointException(indexFile + ": component '" + component + "' is a " + cls
                + ", which this Stable Diffusion pipeline does not support");
    }

    /**
     * The model's scheduler config resolved for its own class; for a class not implemented here, its settings
     * resolved for DDIM, so the betas still carry over when the user names a scheduler (the default then fails
     * with the list of names).
     */
    private static SchedulerConfig schedulerConfig(Path file) {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file + ": scheduler config not found");
        Json.Obj json = Configs.read(file);
        String cls = json.string("_class_name", null);
        return cls != null && SchedulerType.forClassName(cls) != null
                ? SchedulerConfig.load(file) : SchedulerConfig.load(file, SchedulerType.DDIM);
    }

    // ---------------------------------------------------------------- single file

    /** A single-file LDM checkpoint. */
    public static StableDiffusion fromSingleFile(Path file, SingleFileOptions options) {
        LdmCheckpoint checkpoint = LdmCheckpoint.open(file);
        List<AutoCloseable> opened = new ArrayList<>();
        opened.add(checkpoint);
        try {
            if (checkpoint.textEncoderLayout() == LdmCheckpoint.TextEncoderLayout.NONE) {
                throw new CheckpointException(file + ": this checkpoint has no text encoder (cond_stage_model.*); "
                        + "use a complete Stable Diffusion checkpoint or a diffusers folder");
            }
            LdmCheckpoint.ModelType type = checkpoint.modelType();
            Path configDir = options.configDir() != null ? options.configDir() : siblingConfig(file);
            Path tokenizerDir = ComponentFolders.resolve(configDir, "tokenizer");
            if (!Files.isDirectory(tokenizerDir)) {
                throw new CheckpointException(file + ": a single-file checkpoint carries no tokenizer; give a config "
                        + "folder (a diffusers folder of the same architecture, e.g. " + type.referenceRepo()
                        + ", weights not needed) or put its tokenizer/ folder at " + tokenizerDir);
            }
            Path textConfig = ComponentFolders.resolve(configDir, "text_encoder").resolve("config.json");
            Path unetConfig = ComponentFolders.resolve(configDir, "unet").resolve("config.json");
            Path vaeConfig = ComponentFolders.resolve(configDir, "vae").resolve("config.json");
            Path schedulerFile = ComponentFolders.resolve(configDir, "scheduler").resolve("scheduler_config.json");
            ClipTextModel textEncoder = Files.isRegularFile(textConfig)
                    ? checkpoint.textEncoder(ClipTextConfig.load(textConfig)) : checkpoint.textEncoder();
            UNet2DConditionModel unet = Files.isRegularFile(unetConfig)
                    ? checkpoint.unet(UNet2DConditionConfig.load(unetConfig)) : checkpoint.unet();
            AutoencoderKL vae = Files.isRegularFile(vaeConfig)
                    ? checkpoint.vae(AutoencoderKLConfig.load(vaeConfig)) : checkpoint.vae();
            SchedulerConfig scheduler = Files.isRegularFile(schedulerFile) ? schedulerConfig(schedulerFile)
                    : builtInSchedulerConfig(type == LdmCheckpoint.ModelType.V2 ? "sd2" : "sd1");
            ClipTokenizer tokenizer = track(opened, ClipTokenizer.load(tokenizerDir));
            // diffusers' from_single_file: the reference unet config's size; 768 px for SD 2.x, 512 otherwise
            int defaultSize = Files.isRegularFile(unetConfig) ? 0 : type == LdmCheckpoint.ModelType.V2 ? 768 : 512;
            return new StableDiffusion(name(file), tokenizer, textEncoder, unet, vae, scheduler, defaultSize,
                    reversed(opened));
        } catch (RuntimeException e) {
            closeQuietly(opened, e);
            throw e;
        }
    }

    static SchedulerConfig builtInSchedulerConfig(String which) {
        String resource = which + "-scheduler_config.json";
        try (InputStream in = StableDiffusionLoader.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing resource " + resource);
            Map<String, Object> explicit = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            SchedulerType type = SchedulerType.forClassName((String) explicit.get("_class_name"));
            return SchedulerConfig.of(explicit, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String name(Path path) {
        Path n = path.toAbsolutePath().normalize().getFileName();
        String s = n == null ? path.toString() : n.toString();
        return s.endsWith(".safetensors") ? s.substring(0, s.length() - ".safetensors".length()) : s;
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> opened, T resource) {
        opened.add(resource);
        return resource;
    }

    private static List<AutoCloseable> reversed(List<AutoCloseable> opened) {
        List<AutoCloseable> r = new ArrayList<>(opened);
        Collections.reverse(r);
        return r;
    }

    private static void closeQuietly(List<AutoCloseable> opened, RuntimeException cause) {
        for (AutoCloseable c : reversed(opened)) {
            try {
                c.close();
            } catch (Exception e) {
                cause.addSuppressed(e);
            }
        }
    }
}
