package dev.zoetrope.diffusion.schedulers;

import dev.zoetrope.core.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A diffusers {@code scheduler_config.json} resolved for one scheduler class: every field the six implemented
 * classes read, with the class's own defaults for keys the file does not set (diffusers v0.40 semantics,
 * including {@code from_config} when a pipeline swaps schedulers: only keys present in the file carry over;
 * {@link #as(SchedulerType)} re-resolves them for another class). Fields a class does not take hold inert
 * values. {@link #explicit()} keeps what the file said.
 *
 * @param type                     the class this config is resolved for
 * @param numTrainTimesteps        num_train_timesteps
 * @param betaStart                beta_start
 * @param betaEnd                  beta_end
 * @param betaSchedule             beta_schedule
 * @param trainedBetas             trained_betas, or null
 * @param predictionType           prediction_type
 * @param timestepSpacing          timestep_spacing
 * @param stepsOffset              steps_offset
 * @param setAlphaToOne            set_alpha_to_one (DDIM, PNDM)
 * @param clipSample               clip_sample (DDIM)
 * @param clipSampleRange          clip_sample_range (DDIM)
 * @param thresholding             thresholding (DDIM, DPM-Solver)
 * @param dynamicThresholdingRatio dynamic_thresholding_ratio
 * @param sampleMaxValue           sample_max_value
 * @param rescaleBetasZeroSnr      rescale_betas_zero_snr (DDIM, Euler, Euler ancestral, DPM-Solver)
 * @param skipPrkSteps             skip_prk_steps (PNDM)
 * @param interpolationType        interpolation_type (Euler)
 * @param useKarrasSigmas          use_karras_sigmas (Euler, LMS, DPM-Solver)
 * @param useExponentialSigmas     use_exponential_sigmas
 * @param useBetaSigmas            use_beta_sigmas
 * @param sigmaMin                 sigma_min or null (Euler; DPM-Solver reads it from the hidden config)
 * @param sigmaMax                 sigma_max or null
 * @param timestepType             timestep_type (Euler)
 * @param finalSigmasType          final_sigmas_type (Euler, DPM-Solver)
 * @param solverOrder              solver_order (DPM-Solver)
 * @param algorithmType            algorithm_type ("deis" reads as dpmsolver++, as diffusers registers it)
 * @param solverType               solver_type ("logrho", "bh1", "bh2" read as midpoint)
 * @param lowerOrderFinal          lower_order_final
 * @param eulerAtFinal             euler_at_final
 * @param useLuLambdas             use_lu_lambdas
 * @param useFlowSigmas            use_flow_sigmas
 * @param flowShift                flow_shift
 * @param lambdaMinClipped         lambda_min_clipped
 * @param varianceType             variance_type (null, learned or learned_range)
 * @param useDynamicShifting       use_dynamic_shifting (read, unused: no shift is applied without mu)
 * @param explicit                 the keys the file set, with their JSON values
 * @param source                   where the config came from, for messages
 */
public record SchedulerConfig(
        SchedulerType type,
        int numTrainTimesteps,
        double betaStart,
        double betaEnd,
        BetaSchedule betaSchedule,
        double[] trainedBetas,
        PredictionType predictionType,
        TimestepSpacing timestepSpacing,
        int stepsOffset,
        boolean setAlphaToOne,
        boolean clipSample,
        double clipSampleRange,
        boolean thresholding,
        double dynamicThresholdingRatio,
        double sampleMaxValue,
        boolean rescaleBetasZeroSnr,
        boolean skipPrkSteps,
        InterpolationType interpolationType,
        boolean useKarrasSigmas,
        boolean useExponentialSigmas,
        boolean useBetaSigmas,
        Double sigmaMin,
        Double sigmaMax,
        TimestepType timestepType,
        FinalSigmasType finalSigmasType,
        int solverOrder,
        AlgorithmType algorithmType,
        SolverType solverType,
        boolean lowerOrderFinal,
        boolean eulerAtFinal,
        boolean useLuLambdas,
        boolean useFlowSigmas,
        double flowShift,
        double lambdaMinClipped,
        VarianceType varianceType,
        boolean useDynamicShifting,
        Map<String, Object> explicit,
        String source) {

    public enum BetaSchedule { LINEAR, SCALED_LINEAR, SQUAREDCOS_CAP_V2 }

    public enum PredictionType { EPSILON, V_PREDICTION, SAMPLE, FLOW_PREDICTION }

    public enum TimestepSpacing { LEADING, TRAILING, LINSPACE }

    public enum InterpolationType { LINEAR, LOG_LINEAR }

    public enum TimestepType { DISCRETE, CONTINUOUS }

    public enum FinalSigmasType { ZERO, SIGMA_MIN }

    public enum AlgorithmType { DPMSOLVER, DPMSOLVER_PLUS_PLUS, SDE_DPMSOLVER, SDE_DPMSOLVER_PLUS_PLUS }

    public enum SolverType { MIDPOINT, HEUN }

    public enum VarianceType { LEARNED, LEARNED_RANGE }

    /** Values for keys a class does not take (the feature stays off). */
    private static final Map<String, Object> INERT = inert();

    public SchedulerConfig {
        explicit = Collections.unmodifiableMap(new LinkedHashMap<>(explicit));
    }

    // ---------------------------------------------------------------- construction

    /** The defaults of a class, as {@code SchedulerClass()} with no arguments. */
    public static SchedulerConfig defaults(SchedulerType type) {
        return resolve(Map.of(), type, "defaults of " + type.className());
    }

    /** The class's own config: resolved for the file's {@code _class_name}. */
    public static SchedulerConfig load(Path file) {
        Map<String, Object> explicit = readJson(file);
        Object className = explicit.get("_class_name");
        if (!(className instanceof String name)) {
            throw new IllegalArgumentException(file + ": no \"_class_name\" string naming the scheduler class");
        }
        SchedulerType type = SchedulerType.forClassName(name);
        if (type == null) {
            throw new IllegalArgumentException(file + ": scheduler class " + name + " is not implemented; choose one of "
                    + Schedulers.NAMES + " by name (the betas of this config carry over)");
        }
        return resolve(explicit, type, file.toString());
    }

    /** The file's settings resolved for another class, as {@code OtherScheduler.from_config(config)}. */
    public static SchedulerConfig load(Path file, SchedulerType type) {
        return resolve(readJson(file), type, file.toString());
    }

    /** Explicit settings (JSON-like values: Long/Double/String/Boolean/List/null) resolved for a class. */
    public static SchedulerConfig of(Map<String, Object> explicit, SchedulerType type) {
        return resolve(explicit, type, "config of " + type.className());
    }

    /** This config's explicit settings resolved for another class (what carries over when swapping schedulers). */
    public SchedulerConfig as(SchedulerType other) {
        return other == type ? this : resolve(explicit, other, source);
    }

    /** A copy with one explicit setting replaced, as a keyword argument to {@code from_config}. */
    public SchedulerConfig with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(explicit);
        m.put(key, value == null ? Json.NULL : value);
        return resolve(m, type, source);
    }

    /** The class name the file gave ({@code _class_name}), or null. */
    public String originClassName() {
        Object v = explicit.get("_class_name");
        return v instanceof String s ? s : null;
    }

    // ---------------------------------------------------------------- resolution

    private static SchedulerConfig resolve(Map<String, Object> explicit, SchedulerType type, String source) {
        Reader r = new Reader(explicit, type, source);
        SchedulerConfig c = new SchedulerConfig(
                type,
                r.integer("num_train_timesteps"),
                r.number("beta_start"),
                r.number("beta_end"),
                r.choice("beta_schedule", BetaSchedule.class),
                r.numbers("trained_betas"),
                r.choice("prediction_type", PredictionType.class),
                r.choice("timestep_spacing", TimestepSpacing.class),
                r.integer("steps_offset"),
                r.flag("set_alpha_to_one"),
                r.flag("clip_sample"),
                r.number("clip_sample_range"),
                r.flag("thresholding"),
                r.number("dynamic_thresholding_ratio"),
                r.number("sample_max_value"),
                r.flag("rescale_betas_zero_snr"),
                r.flag("skip_prk_steps"),
                r.choice("interpolation_type", InterpolationType.class),
                r.flag("use_karras_sigmas"),
                r.flag("use_exponential_sigmas"),
                r.flag("use_beta_sigmas"),
                r.hiddenNumber("sigma_min"),
                r.hiddenNumber("sigma_max"),
                r.choice("timestep_type", TimestepType.class),
                r.choice("final_sigmas_type", FinalSigmasType.class),
                r.integer("solver_order"),
                r.algorithm(),
                r.solver(),
                r.flag("lower_order_final"),
                r.flag("euler_at_final"),
                r.flag("use_lu_lambdas"),
                r.flag("use_flow_sigmas"),
                r.number("flow_shift"),
                r.number("lambda_min_clipped"),
                r.choice("variance_type", VarianceType.class),
                r.flag("use_dynamic_shifting"),
                explicit,
                source);
        c.validate();
        return c;
    }

    private void validate() {
        if (numTrainTimesteps < 1) fail("num_train_timesteps", "must be at least 1, got " + numTrainTimesteps);
        if (trainedBetas != null && trainedBetas.length != numTrainTimesteps) {
            fail("trained_betas", "has " + trainedBetas.length + " values, expected num_train_timesteps = " + numTrainTimesteps);
        }
        if (type == SchedulerType.DPM_SOLVER_MULTISTEP && (solverOrder < 1 || solverOrder > 3)) {
            fail("solver_order", "must be 1, 2 or 3, got " + solverOrder);
        }
        int sigmaModes = (useKarrasSigmas ? 1 : 0) + (useExponentialSigmas ? 1 : 0) + (useBetaSigmas ? 1 : 0);
        if (sigmaModes > 1) {
            fail("use_karras_sigmas", "only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas can be true");
        }
    }

    private void fail(String key, String message) {
        throw new IllegalArgumentException(source + ": " + type.className() + " \"" + key + "\" " + message);
    }

    /** Reads one key: the file's value if the class takes it, else the class default, else the inert value. */
    private record Reader(Map<String, Object> explicit, SchedulerType type, String source) {
        Object value(String key) {
            if (type.accepts(key)) {
                if (explicit.containsKey(key)) {
                    Object v = explicit.get(key);
                    return v == Json.NULL ? null : v;
                }
                return type.defaultValue(key);
            }
            return INERT.get(key);
        }

        IllegalArgumentException error(String key, String expected, Object found) {
            return new IllegalArgumentException(source + ": " + type.className() + " config \"" + key + "\" should be "
                    + expected + ", found " + (found == null ? "null" : found));
        }

        int integer(String key) {
            Object v = value(key);
            if (v instanceof Long l && l == (int) (long) l) return (int) (long) l;
            if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < Integer.MAX_VALUE) return (int) (double) d;
            throw error(key, "an integer", v);
        }

        double number(String key) {
            Object v = value(key);
            Double d = toDouble(v);
            if (d == null) throw error(key, "a number", v);
            return d;
        }

        Double hiddenNumber(String key) {
            Object v = explicit.containsKey(key) ? explicit.get(key) : null;
            if (v == null || v == Json.NULL) return null;
            Double d = toDouble(v);
            if (d == null) throw error(key, "a number or null", v);
            return d;
        }

        boolean flag(String key) {
            Object v = value(key);
            if (v == null) return false; // Python None is falsy
            if (v instanceof Boolean b) return b;
            throw error(key, "true or false", v);
        }

        double[] numbers(String key) {
            Object v = value(key);
            if (v == null) return null;
            if (!(v instanceof List<?> list)) throw error(key, "a list of numbers or null", v);
            double[] out = new double[list.size()];
            for (int i = 0; i < out.length; i++) {
                Double d = toDouble(list.get(i));
                if (d == null) throw error(key, "a list of numbers", "element " + i + " = " + list.get(i));
                out[i] = d;
            }
            return out;
        }

        <E extends Enum<E>> E choice(String key, Class<E> kind) {
            Object v = value(key);
            if (v instanceof String s) {
                String name = s.toUpperCase(Locale.ROOT).replace('-', '_');
                // Euler accepts "original_sample" as a synonym of "sample".
                if (kind == PredictionType.class && name.equals("ORIGINAL_SAMPLE")) name = "SAMPLE";
                for (E e : kind.getEnumConstants()) if (e.name().equals(name)) return e;
            }
            // variance_type only matters when learned; other values (DDPM's "fixed_small") are ignored as in diffusers.
            if (kind == VarianceType.class && (v == null || v instanceof String)) return null;
            throw error(key, "one of " + spelled(kind), v == null ? null : "\"" + v + "\"");
        }

        AlgorithmType algorithm() {
            Object v = value("algorithm_type");
            if (v instanceof String s) {
                switch (s) {
                    case "dpmsolver": return AlgorithmType.DPMSOLVER;
                    case "dpmsolver++", "deis": return AlgorithmType.DPMSOLVER_PLUS_PLUS;
                    case "sde-dpmsolver": return AlgorithmType.SDE_DPMSOLVER;
                    case "sde-dpmsolver++": return AlgorithmType.SDE_DPMSOLVER_PLUS_PLUS;
                    default: break;
                }
            }
            throw error("algorithm_type", "one of dpmsolver, dpmsolver++, sde-dpmsolver, sde-dpmsolver++", v);
        }

        SolverType solver() {
            Object v = value("solver_type");
            if (v instanceof String s) {
                switch (s) {
                    case "midpoint", "logrho", "bh1", "bh2": return SolverType.MIDPOINT;
                    case "heun": return SolverType.HEUN;
                    default: break;
                }
            }
            throw error("solver_type", "one of midpoint, heun", v);
        }

        private static Double toDouble(Object v) {
            if (v instanceof Number n) return n.doubleValue();
            if (v instanceof String s) {
                // Python's json writes non-finite floats as bare tokens; readJson turns them into these strings.
                return switch (s) {
                    case "Infinity" -> Double.POSITIVE_INFINITY;
                    case "-Infinity" -> Double.NEGATIVE_INFINITY;
                    case "NaN" -> Double.NaN;
                    default -> null;
                };
            }
            return null;
        }

        private static String spelled(Class<? extends Enum<?>> kind) {
            StringBuilder sb = new StringBuilder();
            for (Enum<?> e : kind.getEnumConstants()) {
                if (!sb.isEmpty()) sb.append(", ");
                sb.append(e.name().toLowerCase(Locale.ROOT));
            }
            return sb.toString();
        }
    }

    private static Map<String, Object> inert() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_train_timesteps", 1000L);
        m.put("beta_start", 0.0001);
        m.put("beta_end", 0.02);
        m.put("beta_schedule", "linear");
        m.put("trained_betas", null);
        m.put("prediction_type", "epsilon");
        m.put("timestep_spacing", "leading");
        m.put("steps_offset", 0L);
        m.put("set_alpha_to_one", false);
        m.put("clip_sample", false);
        m.put("clip_sample_range", 1.0);
        m.put("thresholding", false);
        m.put("dynamic_thresholding_ratio", 0.995);
        m.put("sample_max_value", 1.0);
        m.put("rescale_betas_zero_snr", false);
        m.put("skip_prk_steps", false);
        m.put("interpolation_type", "linear");
        m.put("use_karras_sigmas", false);
        m.put("use_exponential_sigmas", false);
        m.put("use_beta_sigmas", false);
        m.put("timestep_type", "discrete");
        m.put("final_sigmas_type", "zero");
        m.put("solver_order", 2L);
        m.put("algorithm_type", "dpmsolver++");
        m.put("solver_type", "midpoint");
        m.put("lower_order_final", true);
        m.put("euler_at_final", false);
        m.put("use_lu_lambdas", false);
        m.put("use_flow_sigmas", false);
        m.put("flow_shift", 1.0);
        m.put("lambda_min_clipped", Double.NEGATIVE_INFINITY);
        m.put("variance_type", null);
        m.put("use_dynamic_shifting", false);
        return m;
    }

    // ---------------------------------------------------------------- JSON

    /**
     * Parses scheduler_config.json. Python's json module writes non-finite floats as the bare tokens {@code
     * Infinity}, {@code -Infinity} and {@code NaN} (DPM-Solver's lambda_min_clipped is -inf by default); they are
     * turned into strings before the strict parser sees them.
     */
    static Map<String, Object> readJson(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read scheduler config " + file, e);
        }
        try {
            return Json.parseObject(quoteNonFiniteNumbers(text));
        } catch (Json.JsonException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static String quoteNonFiniteNumbers(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                out.append(c);
                if (c == '\\' && i + 1 < text.length()) out.append(text.charAt(++i));
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') {
                inString = true;
                out.append(c);
                continue;
            }
            String token = null;
            for (String t : new String[] {"-Infinity", "Infinity", "NaN"}) {
                if (text.startsWith(t, i)) {
                    token = t;
                    break;
                }
            }
            if (token != null) {
                out.append('"').append(token).append('"');
                i += token.length() - 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return type.className() + explicit + " (" + source + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SchedulerConfig c && c.type == type && c.explicit.equals(explicit);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + explicit.hashCode();
    }

    /** trained_betas as given (a copy). */
    @Override
    public double[] trainedBetas() {
        return trainedBetas == null ? null : Arrays.copyOf(trainedBetas, trainedBetas.length);
    }
}
