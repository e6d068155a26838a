package dev.zoetrope.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Component folders stored as symlinks, as link files (a checkout without symlink support) or as themselves. */
class ComponentFoldersTest {
    @TempDir
    Path tmp;

    @Test
    void linkFilesAndSymlinksLeadToTheSharedFolder() throws IOException {
        Path shared = Files.createDirectories(tmp.resolve("base/vae"));
        Path model = Files.createDirectories(tmp.resolve("inpaint"));
        Files.writeString(model.resolve("vae"), "../base/vae\n");                  // git core.symlinks=false
        Files.createSymbolicLink(model.resolve("scheduler"), Path.of("../base/vae")); // a real symlink
        Path own = Files.createDirectories(model.resolve("unet"));

        assertEquals(shared.normalize(), ComponentFolders.resolve(model, "vae"));
        assertEquals(model.resolve("scheduler"), ComponentFolders.resolve(model, "scheduler"));
        assertEquals(own, ComponentFolders.resolve(model, "unet"));
        assertEquals(model.resolve("missing"), ComponentFolders.resolve(model, "missing"));
    }

    @Test
    void filesThatAreNotLinksStayAsTheyAre() throws IOException {
        Files.createDirectories(tmp.resolve("target"));
        Path notADir = Files.writeString(tmp.resolve("points-nowhere"), "../nothing-here");
        Path config = Files.writeString(tmp.resolve("config.json"), "{\"a\": 1}");
        Path twoLines = Files.writeString(tmp.resolve("two-lines"), "target\ntarget");
        Path binary = Files.write(tmp.resolve("binary"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        for (Path p : new Path[] {notADir, config, twoLines, binary}) assertEquals(p, ComponentFolders.follow(p));
    }
}
