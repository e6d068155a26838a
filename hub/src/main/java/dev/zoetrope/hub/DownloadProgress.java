package dev.zoetrope.hub;

/**
 * Where a download stands: the current file ({@code fileIndex} of {@code fileCount}, {@code fileBytes} of
 * {@code fileSize}) and the whole selection ({@code bytes} of {@code totalBytes}, files already cached
 * counted as done). Sizes are those the server announced.
 */
public record DownloadProgress(String file, int fileIndex, int fileCount, long fileBytes, long fileSize,
                               long bytes, long totalBytes) {
    /** 0..1 of the whole selection (1 when there is nothing to fetch). */
    public double fraction() {
        return totalBytes <= 0 ? 1.0 : Math.min(1.0, (double) bytes / totalBytes);
    }
}
