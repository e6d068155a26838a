package dev.zoetrope.cli;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One in-process run of {@code zoe}: the exit code, stdout (the command line's writer and {@code System.out}, which
 * inspect and chat print to) and stderr.
 */
record ZoeRun(String command, int exit, String out, String err) {
    static ZoeRun of(String... args) {
        return of(cl -> { }, args);
    }

    /** @param setup adjusts the command objects before the run (a fake hub, a stdin script) */
    static ZoeRun of(Consumer<CommandLine> setup, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        PrintStream savedOut = System.out;
        int exit;
        try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            CommandLine cl = Zoe.commandLine();
            cl.setOut(new PrintWriter(capture, true));
            cl.setErr(new PrintWriter(err, true));
            setup.accept(cl);
            exit = cl.execute(args);
        } finally {
            System.setOut(savedOut);
        }
        return new ZoeRun(commandOf(args), exit, out.toString(StandardCharsets.UTF_8), err.toString());
    }

    /** "txt2img", "bench gemm": the sub-command the arguments name, as error messages name it after "zoe ". */
    private static String commandOf(String[] args) {
        if (args.length == 0) return "";
        boolean nested = args[0].equals("bench") && args.length > 1 && !args[1].startsWith("-");
        return nested ? args[0] + " " + args[1] : args[0];
    }

    /** The command object of a sub-command ("txt2img", "chat" ...) for {@link #of(Consumer, String...)}'s setup. */
    static <T> T command(CommandLine cl, String name) {
        return cl.getSubcommands().get(name).getCommand();
    }

    /** The non-blank lines on stderr. */
    List<String> errLines() {
        return err.lines().filter(l -> !l.isBlank()).toList();
    }

    /**
     * The run failed with exactly one line on stderr that names the command ({@code "zoe <command>: "}) and contains
     * every fragment, and no stack trace.
     */
    ZoeRun assertOneLineError(String... fragments) {
        assertNotEquals(0, exit, "exit code; stderr: " + err);
        assertEquals(1, errLines().size(), "expected one line on stderr, got:\n" + err);
        String line = errLines().get(0);
        assertTrue(line.startsWith("zoe " + command + ": "), line);
        for (String f : fragments) assertTrue(line.contains(f), "missing \"" + f + "\" in: " + line);
        assertFalse(err.contains("\tat "), "stack trace in: " + err);
        return this;
    }
}
