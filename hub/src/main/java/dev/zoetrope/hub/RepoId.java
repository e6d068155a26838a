package dev.zoetrope.hub;

import java.util.regex.Pattern;

/**
 * A model repository id, {@code org/name}, validated as {@code huggingface_hub}'s validate_repo_id does
 * (letters, digits, '-', '_', '.'; no "--" or ".."; at most 96 characters).
 */
public record RepoId(String org, String name) {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_.\\-]+");

    public RepoId {
        check(org, "organisation");
        check(name, "name");
    }

    private static void check(String part, String what) {
        if (part == null || !PART.matcher(part).matches() || part.contains("--") || part.contains("..")
                || part.startsWith("-") || part.startsWith(".") || part.endsWith("-") || part.endsWith(".")) {
            throw new IllegalArgumentException("invalid repo " + what + " '" + part + "'");
        }
    }

    /** Parses {@code org/name}; the message says what a repo id looks like. */
    public static RepoId parse(String id) {
        if (id == null || id.length() > 96 || id.chars().filter(c -> c == '/').count() != 1) {
            throw new IllegalArgumentException("'" + id + "' is not a Hugging Face repo id (expected org/name,"
                    + " e.g. stable-diffusion-v1-5/stable-diffusion-v1-5)");
        }
        int slash = id.indexOf('/');
        try {
            return new RepoId(id.substring(0, slash), id.substring(slash + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + id + "' is not a Hugging Face repo id: " + e.getMessage());
        }
    }

    /** True when {@code id} has the form of a repo id. */
    public static boolean looksLikeRepoId(String id) {
        try {
            parse(id);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The cache folder name: {@code models--org--name} (huggingface_hub's repo_folder_name). */
    public String cacheFolderName() {
        return "models--" + org + "--" + name;
    }

    @Override
    public String toString() {
        return org + "/" + name;
    }
}
