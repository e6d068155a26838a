package dev.zoetrope.diffusion.schedulers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The diffusers scheduler classes implemented here, each with the {@code __init__} parameters it accepts and
 * their defaults (diffusers v0.40). A config is resolved against a type: keys the file sets and the class
 * accepts take the file's value, every other key the class's default — what {@code from_config} does when a
 * pipeline swaps schedulers.
 */
public enum SchedulerType {
    DDIM("DDIMScheduler", defaults(
            "num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear",
            "trained_betas", null, "clip_sample", true, "set_alpha_to_one", true, "steps_offset", 0L,
            "prediction_type", "epsilon", "thresholding", false, "dynamic_thresholding_ratio", 0.995,
            "clip_sample_range", 1.0, "sample_max_value", 1.0, "timestep_spacing", "leading",
            "rescale_betas_zero_snr", false)),
    PNDM("PNDMScheduler", defaults(
            "num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear",
            "trained_betas", null, "skip_prk_steps", false, "set_alpha_to_one", false,
            "prediction_type", "epsilon", "timestep_spacing", "leading", "steps_offset", 0L)),
    EULER("EulerDiscreteScheduler", defaults(
            "num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear",
            "trained_betas", null, "prediction_type", "epsilon", "interpolation_type", "linear",
            "use_karras_sigmas", false, "use_exponential_sigmas", false, "use_beta_sigmas", false,
            "sigma_min", null, "sigma_max", null, "timestep_spacing", "linspace", "timestep_type", "discrete",
            "steps_offset", 0L, "rescale_betas_zero_snr", false, "final_sigmas_type", "zero")),
    EULER_ANCESTRAL("EulerAncestralDiscreteScheduler", defaults(
            "num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear",
            "trained_betas", null, "prediction_type", "epsilon", "timestep_spacing", "linspace",
            "steps_offset", 0L, "rescale_betas_zero_snr", false)),
    DPM_SOLVER_MULTISTEP("DPMSolverMultistepScheduler", defaults(
            "num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear",
            "trained_betas", null, "solver_order", 2L, "prediction_type", "epsilon", "thresholding", false,
            "dynamic_thresholding_ratio", 0.995, "sample_max_value", 1.0, "algorithm_type", "dpmsolver++",
            "solver_type", "midpoint", "lower_order_final", true, "euler_at_final", false,
            "use_karras_sigmas", false, "use_exponential_sigmas", false, "use_beta_sigmas", false,
            "use_lu_lambdas", false, "use_flow_sigmas", false, "flow_shift", 1.0, "final_sigmas_type", "zero",
            "lambda_min_clipped", Double.NEGATIVE_INFINITY, "variance_type", null, "timestep_spacing", "linspace",
            "steps_offset", 0L, "rescale_betas_zero_snr", false, "use_dynamic_shifting", false,
            "time_shift_type", "exponential")),
    LMS("LMSDiscreteScheduler", defaults(
            "num_train_timesteps", 1000L, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear",
            "trained_betas", null, "use_karras_sigmas", false, "use_exponential_sigmas", false,
            "use_beta_sigmas", false, "prediction_type", "epsilon", "timestep_spacing", "linspace",
            "steps_offset", 0L));

    private final String className;
    private final Map<String, Object> defaults;

    SchedulerType(String className, Map<String, Object> defaults) {
        this.className = className;
        this.defaults = defaults;
    }

    /** The diffusers class name, as {@code _class_name} in scheduler_config.json. */
    public String className() {
        return className;
    }

    /** Whether the class's {@code __init__} takes this config key. */
    public boolean accepts(String key) {
        return defaults.containsKey(key);
    }

    /** The class's default for an accepted key (null for Python None); fails for keys it does not take. */
    public Object defaultValue(String key) {
        if (!defaults.containsKey(key)) throw new IllegalArgumentException(className + " has no parameter " + key);
        return defaults.get(key);
    }

    /** The accepted keys and their defaults, in diffusers' signature order. */
    public Map<String, Object> defaults() {
        return defaults;
    }

    /** The type for a diffusers {@code _class_name}, or null when it is not implemented here. */
    public static SchedulerType forClassName(String className) {
        for (SchedulerType t : values()) if (t.className.equals(className)) return t;
        return null;
    }

    private static Map<String, Object> defaults(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) m.put((String) keyValues[i], keyValues[i + 1]);
        return Collections.unmodifiableMap(m);
    }
}
