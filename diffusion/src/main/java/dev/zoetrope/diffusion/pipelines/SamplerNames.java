package dev.zoetrope.diffusion.pipelines;

import dev.zoetrope.diffusion.schedulers.SchedulerConfig;

/** AUTOMATIC1111's sampler names for the schedulers, for the generation parameters written into images. */
final class SamplerNames {
    private SamplerNames() {
    }

    static String of(SchedulerConfig c) {
        String karras = c.useKarrasSigmas() ? " Karras" : "";
        return switch (c.type()) {
            case DDIM -> "DDIM";
            case PNDM -> "PLMS";
            case EULER -> "Euler" + karras;
            case EULER_ANCESTRAL -> "Euler a";
            case LMS -> "LMS" + karras;
            case DPM_SOLVER_MULTISTEP -> {
                boolean plusPlus = c.algorithmType() == SchedulerConfig.AlgorithmType.DPMSOLVER_PLUS_PLUS;
                boolean sde = c.algorithmType() == SchedulerConfig.AlgorithmType.SDE_DPMSOLVER_PLUS_PLUS;
                String base = plusPlus || sde ? "DPM++ " + c.solverOrder() + "M" + (sde ? " SDE" : "")
                        : "DPM-Solver " + c.solverOrder() + "M";
                yield base + karras;
            }
        };
    }
}
