package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.ComponentFolders;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Schedulers by the names users know. The model's {@code scheduler_config.json} supplies the training schedule
 * (betas, timestep count, prediction type, spacing …); the name picks the sampler, as swapping schedulers with
 * diffusers' {@code from_config} does:
 * <ul>
 *   <li>{@code default} — the class the config names ({@code _class_name})</li>
 *   <li>{@code ddim} — DDIMScheduler</li>
 *   <li>{@code pndm} / {@code plms} — PNDMScheduler</li>
 *   <li>{@code euler} — EulerDiscreteScheduler</li>
 *   <li>{@code euler-a} — EulerAncestralDiscreteScheduler</li>
 *   <li>{@code dpmpp-2m} — DPMSolverMultistepScheduler (dpmsolver++, order 2)</li>
 *   <li>{@code dpmpp-2m-karras} — the same with use_karras_sigmas</li>
 *   <li>{@code lms} — LMSDiscreteScheduler</li>
 * </ul>
 */
public final class Schedulers {
    /** The names {@link #create} accepts. */
    public static final List<String> NAMES = List.of("default", "ddim", "pndm", "euler", "euler-a", "dpmpp-2m",
            "dpmpp-2m-karras", "lms");

    private Schedulers() {
    }

    /**
     * A scheduler by name from a model's config (the config may name any diffusers class, even one not
     * implemented here, unless {@code name} is "default").
     */
    public static Scheduler create(String name, SchedulerConfig modelConfig) {
        String key = normalize(name);
        if (key.equals("default")) return create(modelConfig);
        SchedulerConfig config = modelConfig.as(typeFor(key, name));
        if (key.startsWith("dpmpp-2m")) {
            // dpmsolver++ of order 2, as DPM++ 2M is defined in the web UIs (keeping the model's other settings)
            config = config.with("algorithm_type", "dpmsolver++").with("solver_order", 2L)
                    .with("use_karras_sigmas", key.equals("dpmpp-2m-karras"));
        }
        return create(config);
    }

    private static String normalize(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return key.isEmpty() ? "default" : key;
    }

    private static SchedulerType typeFor(String key, String name) {
        return switch (key) {
            case "ddim" -> SchedulerType.DDIM;
            case "pndm", "plms" -> SchedulerType.PNDM;
            case "euler" -> SchedulerType.EULER;
            case "euler-a", "euler-ancestral" -> SchedulerType.EULER_ANCESTRAL;
            case "dpmpp-2m", "dpmpp-2m-karras" -> SchedulerType.DPM_SOLVER_MULTISTEP;
            case "lms" -> SchedulerType.LMS;
            default -> throw new IllegalArgumentException("unknown scheduler \"" + name + "\"; choose one of " + NAMES);
        };
    }

    /** The scheduler class the config is resolved for. */
    public static Scheduler create(SchedulerConfig config) {
        return switch (config.type()) {
            case DDIM -> new DDIMScheduler(config);
            case PNDM -> new PNDMScheduler(config);
            case EULER -> new EulerDiscreteScheduler(config);
            case EULER_ANCESTRAL -> new EulerAncestralDiscreteScheduler(config);
            case DPM_SOLVER_MULTISTEP -> new DPMSolverMultistepScheduler(config);
            case LMS -> new LMSDiscreteScheduler(config);
        };
    }

    /**
     * A scheduler by name for a model directory (its {@code scheduler/scheduler_config.json}), a scheduler
     * folder, or the config file itself.
     */
    public static Scheduler load(Path modelDirOrConfig, String name) {
        Path file = configFile(modelDirOrConfig);
        String key = normalize(name);
        if (key.equals("default")) return create(SchedulerConfig.load(file));
        return create(name, SchedulerConfig.load(file, typeFor(key, name)));
    }

    /**
     * Finds scheduler_config.json under a model directory or scheduler folder (a {@code scheduler} entry checked out
     * as a link file is followed: {@link ComponentFolders}).
     */
    public static Path configFile(Path modelDirOrConfig) {
        if (Files.isRegularFile(modelDirOrConfig) && modelDirOrConfig.getFileName().toString().endsWith(".json")) {
            return modelDirOrConfig;
        }
        Path schedulerDir = ComponentFolders.resolve(modelDirOrConfig, "scheduler");
        for (Path candidate : new Path[] {schedulerDir.resolve("scheduler_config.json"),
                modelDirOrConfig.resolve("scheduler_config.json")}) {
            if (Files.isRegularFile(candidate)) return candidate;
        }
        throw new IllegalArgumentException("no scheduler config: neither " + modelDirOrConfig.resolve("scheduler/scheduler_config.json")
                + " nor " + modelDirOrConfig.resolve("scheduler_config.json") + " exists");
    }
}
