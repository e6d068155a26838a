package dev.zoetrope.hub;

import java.nio.file.Path;
import java.util.List;

/**
 * A repository at one commit in the local cache: {@code dir} is {@code snapshots/<commit>}, usable as a model
 * directory; {@code files} are the selected repo paths it holds. {@code fromCache} is true when the hub was not
 * asked (offline mode, or unreachable and the snapshot already cached).
 */
public record Snapshot(RepoId repo, String revision, String commit, Path dir, List<String> files, boolean fromCache) {
}
