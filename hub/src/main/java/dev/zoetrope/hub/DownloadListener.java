package dev.zoetrope.hub;

/** Receives progress while files are fetched (on the downloading thread; keep it quick). */
@FunctionalInterface
public interface DownloadListener {
    DownloadListener NONE = p -> {
    };

    void progress(DownloadProgress progress);
}
