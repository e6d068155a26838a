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
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Zoe());
        cl.setExecutionExceptionHandler(new Errors());
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Zoe.class.getPackage().getImplementationVersion();
            return new String[] {"zoe " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ", "
                    + dev.zoetrope.core.Ops.backend().name() + ")"};
        }
    }

    /** Expected failures (bad input) print one line and exit 1; anything else keeps its stack trace. */
    static final class Errors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
            if (e instanceof UserError || e instanceof dev.zoetrope.core.CheckpointException
                    || e instanceof dev.zoetrope.media.MediaException || e instanceof java.io.IOException
                    || e instanceof IllegalArgumentException || e instanceof java.util.concurrent.CancellationException) {
                cl.getErr().println("zoe " + cl.getCommandName() + ": " + e.getMessage());
                return 1;
            }
            e.printStackTrace(cl.getErr());
            return 2;
        }
    }
}
