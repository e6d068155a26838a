package dev.zoetrope.cli;

import dev.zoetrope.hub.DownloadProgress;
import dev.zoetrope.hub.FileSelection;
import dev.zoetrope.hub.HubClient;
import dev.zoetrope.hub.HubConfig;
import dev.zoetrope.hub.RepoId;
import dev.zoetrope.hub.Snapshot;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code zoe pull REPO}: downloads a model from the Hugging Face Hub into the standard cache without running
 * it, and prints the snapshot directory (usable wherever a model directory is expected).
 */
@Command(name = "pull", mixinStandardHelpOptions = true, description = {
        "Download a model from the Hugging Face Hub into the local cache (shared with Python's huggingface_hub)"
                + " without running it; prints the snapshot directory.",
        "Honours HF_ENDPOINT, HF_HOME / HF_HUB_CACHE, HF_TOKEN and HF_HUB_OFFLINE."})
final class PullCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "REPO", description = "Repository id, e.g. stable-diffusion-v1-5/stable-diffusion-v1-5.")
    String repo;

    @Option(names = "--revision", paramLabel = "REV", description = "Branch, tag or commit (default: main).")
    String revision;

    @Option(names = "--variant", paramLabel = "NAME", description = "Prefer weights of this variant, e.g. fp16 (diffusers naming).")
    String variant;

    @Option(names = "--component", split = ",", paramLabel = "NAME",
            description = "Only these pipeline components (folders named in model_index.json), e.g. unet,vae.")
    List<String> components;

    @Option(names = "--include", paramLabel = "GLOB",
            description = "Only files matching these glob patterns, e.g. 'unet/*' (replaces the automatic choice).")
    List<String> include;

    HubConfig config = null; // tests set a configuration; otherwise the environment's

    @Override
    public Integer call() throws IOException {
        RepoId id = RepoId.parse(repo);
        if (components != null && include != null) throw new UserError("--component and --include cannot be combined");
        FileSelection selection = include != null ? FileSelection.patterns(include)
                : components != null ? FileSelection.components(components) : FileSelection.model();
        selection = selection.variant(variant);

        ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), System.console() != null);
        int[] lastFile = {-1};
        Snapshot snapshot;
        try (HubClient client = new HubClient(config != null ? config : HubConfig.fromEnvironment())) {
            snapshot = client.download(id, revision, selection, p -> {
                bar.update(p.fraction(), detail(p), false);
                if (p.fileBytes() == p.fileSize() && p.fileIndex() != lastFile[0]) {
                    lastFile[0] = p.fileIndex();
                    if (!bar.isInteractive()) {
                        bar.line(String.format("%d/%d %s (%s)", p.fileIndex() + 1, p.fileCount(), p.file(), ProgressBar.bytes(p.fileSize())));
                    }
                }
            });
        } finally {
            bar.finish();
        }
        spec.commandLine().getErr().println((snapshot.fromCache() ? "cached (hub not contacted): " : "")
                + snapshot.repo() + "@" + snapshot.commit() + ", " + snapshot.files().size() + " files");
        spec.commandLine().getOut().println(snapshot.dir());
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static String detail(DownloadProgress p) {
        return ProgressBar.bytes(p.bytes()) + " / " + ProgressBar.bytes(p.totalBytes()) + "  " + p.file();
    }
}
