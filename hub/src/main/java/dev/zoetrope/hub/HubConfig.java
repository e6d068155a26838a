package dev.zoetrope.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where and how to reach the Hugging Face Hub, resolved from the same environment variables as
 * {@code huggingface_hub} (constants.py), so that Zoetrope and Python tools share one cache:
 * <ul>
 *   <li>{@code HF_ENDPOINT} (default {@code https://huggingface.co}, trailing slash removed);</li>
 *   <li>{@code HF_HUB_CACHE}, else {@code HUGGINGFACE_HUB_CACHE}, else {@code $HF_HOME/hub}, where
 *       {@code HF_HOME} defaults to {@code $XDG_CACHE_HOME/huggingface} or {@code ~/.cache/huggingface};</li>
 *   <li>{@code HF_TOKEN}, else the token file {@code HF_TOKEN_PATH} (default {@code $HF_HOME/token}), sent as
 *       {@code Authorization: Bearer};</li>
 *   <li>{@code HF_HUB_OFFLINE} (or {@code TRANSFORMERS_OFFLINE}) set to 1/ON/YES/TRUE: use the cache only.</li>
 * </ul>
 */
public record HubConfig(String endpoint, Path cacheDir, String token, boolean offline, Duration timeout) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");

    public HubConfig {
        if (endpoint == null || endpoint.isBlank()) endpoint = DEFAULT_ENDPOINT;
        while (endpoint.endsWith("/")) endpoint = endpoint.substring(0, endpoint.length() - 1);
        URI uri = URI.create(endpoint);
        if (uri.getScheme() == null || uri.getHost() == null
                || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new IllegalArgumentException("HF_ENDPOINT '" + endpoint + "' is not an http(s) URL");
        }
        if (cacheDir == null) throw new IllegalArgumentException("cache directory missing");
        if (token != null && token.isBlank()) token = null;
        if (timeout == null) timeout = Duration.ofSeconds(30);
    }

    public static HubConfig fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** The configuration for these environment variables and home directory. */
    public static HubConfig fromEnvironment(Map<String, String> env, Path home) {
        Path hfHome = env.containsKey("HF_HOME") ? expand(env.get("HF_HOME"), home)
                : (env.containsKey("XDG_CACHE_HOME") ? expand(env.get("XDG_CACHE_HOME"), home) : home.resolve(".cache"))
                .resolve("huggingface");
        Path cache = env.containsKey("HF_HUB_CACHE") ? expand(env.get("HF_HUB_CACHE"), home)
                : env.containsKey("HUGGINGFACE_HUB_CACHE") ? expand(env.get("HUGGINGFACE_HUB_CACHE"), home)
                : hfHome.resolve("hub");
        String token = env.get("HF_TOKEN");
        if (token == null || token.isBlank()) {
            Path tokenFile = env.containsKey("HF_TOKEN_PATH") ? expand(env.get("HF_TOKEN_PATH"), home) : hfHome.resolve("token");
            token = readToken(tokenFile);
        }
        String offline = env.getOrDefault("HF_HUB_OFFLINE", env.get("TRANSFORMERS_OFFLINE"));
        boolean isOffline = offline != null && TRUE_VALUES.contains(offline.strip().toUpperCase(Locale.ROOT));
        return new HubConfig(env.get("HF_ENDPOINT"), cache, token == null ? null : token.strip(), isOffline, null);
    }

    public HubConfig withOffline(boolean offline) {
        return new HubConfig(endpoint, cacheDir, token, offline, timeout);
    }

    private static Path expand(String value, Path home) {
        if (value.equals("~")) return home;
        if (value.startsWith("~/")) return home.resolve(value.substring(2));
        return Path.of(value);
    }

    private static String readToken(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file).strip() : null;
        } catch (IOException e) {
            return null; // an unreadable token file means anonymous access, as in huggingface_hub
        }
    }

    /** The host part of the endpoint, to decide whether a redirect may carry the token. */
    String endpointAuthority() {
        return URI.create(endpoint).getAuthority();
    }

    @Override
    public String toString() { // never print the token
        return "HubConfig[endpoint=" + endpoint + ", cacheDir=" + cacheDir + ", token=" + (token == null ? "none" : "set")
                + ", offline=" + offline + ", timeout=" + timeout + "]";
    }
}
