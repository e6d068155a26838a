package dev.zoetrope.diffusion.schedulers;

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
        String key = name == null ? "default" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return switch (key) {
            case "default", "" -> create(modelConfig);
            case "ddim" -> new DDIMScheduler(modelConfig.as(SchedulerType.DDIM));
            case "pndm", "plms" -> new PNDMScheduler(modelConfig.as(SchedulerType.PNDM));
            case "euler" -> new EulerDiscreteScheduler(modelConfig.as(SchedulerType.EULER));
            case "euler-a", "euler-ancestral" -> new EulerAncestralDiscreteScheduler(modelConfig.as(SchedulerType.EULER_ANCESTRAL));
            case "dpmpp-2m" -> new DPMSolverMultistepScheduler(dpmpp2m(modelConfig, false));
            case "dpmpp-2m-karras" -> new DPMSolverMultistepScheduler(dpmpp2m(modelConfig, true));
            case "lms" -> new LMSDiscreteScheduler(modelConfig.as(SchedulerType.LMS));
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
        String key = name == null ? "default" : name.trim().toLowerCase(Locale.ROOT);
        if (key.equals("default") || key.isEmpty()) return create(SchedulerConfig.load(file));
        // resolve for the file's own class when known, else only the explicit keys carry over
        return create(name, SchedulerConfig.load(file, SchedulerType.DDIM));
    }

    /** Finds scheduler_config.json under a model directory or scheduler folder. */
    public static Path configFile(Path modelDirOrConfig) {
        if (Files.isRegularFile(modelDirOrConfig)) return modelDirOrConfig;
        for (Path candidate : new Path[] {modelDirOrConfig.resolve("scheduler").resolve("scheduler_config.json"),
                modelDirOrConfig.resolve("scheduler_config.json")}) {
            if (Files.isRegularFile(candidate)) return candidate;
        }
        throw new IllegalArgumentException("no scheduler config: neither " + modelDirOrConfig.resolve("scheduler/scheduler_config.json")
                + " nor " + modelDirOrConfig.resolve("scheduler_config.json") + " exists");
    }

    /** dpmsolver++ of order 2, as DPM++ 2M is defined in the web UIs (keeping the model's other settings). */
    private static SchedulerConfig dpmpp2m(SchedulerConfig modelConfig, boolean karras) {
        return modelConfig.as(SchedulerType.DPM_SOLVER_MULTISTEP)
                .with("algorithm_type", "dpmsolver++")
                .with("solver_order", 2L)
                .with("use_karras_sigmas", karras);
    }
}
