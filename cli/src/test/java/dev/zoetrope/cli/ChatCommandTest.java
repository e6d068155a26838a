package dev.zoetrope.cli;

import dev.zoetrope.core.Json;
import dev.zoetrope.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code zoe chat} on the InternVL fixture: the streamed answer is the reference's response. */
class ChatCommandTest {
    @Test
    void answersAboutAnImageAsTheReferenceDoes() {
        Path folder = Fixtures.folder("internvl");
        Json.Obj c = Fixtures.json(folder.resolve("cases/chat_image_auto_prefix.json"));
        Json.Obj pre = null;
        for (Object o : Fixtures.json(folder.resolve("preprocess/manifest.json")).list("cases")) {
            Json.Obj p = Json.Obj.of(o);
            if (p.string("name", "").equals(Json.Obj.of(c.list("images").get(0)).string("preprocess_case", null))) pre = p;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        int code;
        try {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            code = new CommandLine(new ChatCommand()).execute(folder.resolve("tiny-internvl2").toString(),
                    "--image", folder.resolve(pre.string("image", null)).toString(), "--max-num", String.valueOf(pre.intValue("max_num", 0)),
                    "--max-new-tokens", "12", c.string("question", null));
        } finally {
            System.setOut(saved);
        }
        assertEquals(0, code);
        assertEquals(c.string("response", null), bytes.toString(StandardCharsets.UTF_8).strip());
    }

    @Test
    void aMissingModelIsAOneLineError() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ChatCommand()).setExecutionExceptionHandler(new Zoe.Errors());
        cl.setErr(new PrintWriter(err));
        assertEquals(1, cl.execute("/nonexistent/model", "hi"));
        assertTrue(err.toString().contains("/nonexistent/model: not a directory"), err.toString());
    }
}
