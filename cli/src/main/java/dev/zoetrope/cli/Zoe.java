package dev.zoetrope.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code zoe} command line. */
@Command(name = "zoe",
        mixinStandardHelpOptions = true,
        versionProvider = Zoe.Version.class,
        description = "Zoetrope: open generative vision models on the JVM.",
        subcommands = {
                InspectCommand.class,
                Txt2ImgCommand.class,
                Img2ImgCommand.class,
                InpaintCommand.class,
                ChatCommand.class,
                PullCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Zoe implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int exit;
        try {
            exit = commandLine().execute(args);
        } catch (OutOfMemoryError e) {
            System.err.println("zoe: out of memory (" + e.getMessage() + "): ask for a smaller image, batch or input,"
                    + " or give Java more heap with ZOE_JAVA_OPTS=-Xmx<size>");
            exit = 1;
        }
        System.exit(exit);
    }

    /** The command line with Zoetrope's error handling: bad input is one line on stderr, never a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Zoe());
        cl.setExecutionExceptionHandler(new Errors());
        cl.setParameterExceptionHandler(new UsageErrors());
        return cl;
    }

    /** "zoe txt2img", "zoe bench gemm": how messages name the command. */
    static String commandName(CommandLine cl) {
        return cl.getCommandSpec().qualifiedName();
    }

    /**
     * A command line picocli cannot parse (unknown option, missing or malformed value): one line naming the problem
     * and where the help is, exit code 2 — instead of the whole usage text.
     */
    static final class UsageErrors implements CommandLine.IParameterExceptionHandler {
        @Override
        public int handleParseException(CommandLine.ParameterException e, String[] args) {
            CommandLine cl = e.getCommandLine();
            String message = e.getMessage();
            if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
                message += "; did you mean " + String.join(" or ", u.getSuggestions()) + "?";
            }
            cl.getErr().println(commandName(cl) + ": " + message + " (see " + commandName(cl) + " --help)");
            cl.getErr().flush();
            return cl.getCommandSpec().exitCodeOnInvalidInput();
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Zoe.class.getPackage().getImplementationVersion();
            return new String[] {"zoe " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ", "
                    + dev.zoetrope.core.Ops.backend().name() + ")"};
        }
    }

    /**
     * Expected failures (bad input, unreadable or unwritable files, a failed download) print one line naming the
     * command and exit 1; anything else is a bug and keeps its stack trace (exit 2).
     */
    static final class Errors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
            Throwable reported = e instanceof java.io.UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
            if (reported instanceof UserError || reported instanceof dev.zoetrope.core.CheckpointException
                    || reported instanceof dev.zoetrope.media.MediaException || reported instanceof java.io.IOException
                    || reported instanceof IllegalArgumentException
                    || reported instanceof java.util.concurrent.CancellationException) {
                String message = reported.getMessage() != null ? reported.getMessage() : reported.getClass().getSimpleName();
                cl.getErr().println(commandName(cl) + ": " + message);
                cl.getErr().flush();
                return 1;
            }
            e.printStackTrace(cl.getErr());
            return 2;
        }
    }
}
