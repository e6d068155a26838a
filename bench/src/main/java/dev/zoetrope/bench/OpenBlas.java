package dev.zoetrope.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The system OpenBLAS called through the FFM API ({@code cblas_sgemm}, {@code openblas_set_num_threads}), the
 * yardstick for Zoetrope's GEMM. Found by library name ({@code libopenblas.so.0} on Debian/Ubuntu from
 * {@code libopenblas0-pthread}) or an explicit path.
 */
public final class OpenBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final String[] LIBRARY_NAMES = {
            "libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libopenblas.dylib",
            "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib"
    };

    private final String library;
    private final MethodHandle sgemm;
    private final MethodHandle setThreads;
    private final MethodHandle getConfig;

    private OpenBlas(String library, SymbolLookup lookup) {
        Linker linker = Linker.nativeLinker();
        ValueLayout i32 = ValueLayout.JAVA_INT, f32 = ValueLayout.JAVA_FLOAT, ptr = ValueLayout.ADDRESS;
        this.library = library;
        this.sgemm = linker.downcallHandle(symbol(lookup, "cblas_sgemm"), FunctionDescriptor.ofVoid(
                i32, i32, i32, i32, i32, i32, f32, ptr, i32, ptr, i32, f32, ptr, i32));
        this.setThreads = linker.downcallHandle(symbol(lookup, "openblas_set_num_threads"), FunctionDescriptor.ofVoid(i32));
        this.getConfig = lookup.find("openblas_get_config")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ptr)))
                .orElse(null);
    }

    private static MemorySegment symbol(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new IllegalArgumentException("no symbol " + name));
    }

    /**
     * Loads OpenBLAS from {@code explicitPath} when given, else by the usual library names; empty with the
     * reasons in {@code problems} when none loads.
     */
    public static Optional<OpenBlas> load(String explicitPath, List<String> problems) {
        List<String> candidates = new ArrayList<>();
        if (explicitPath != null) candidates.add(explicitPath);
        else candidates.addAll(List.of(LIBRARY_NAMES));
        for (String name : candidates) {
            try {
                return Optional.of(new OpenBlas(name, SymbolLookup.libraryLookup(name, Arena.global())));
            } catch (IllegalArgumentException | IllegalCallerException e) {
                problems.add(name + ": " + e.getMessage());
            }
        }
        return Optional.empty();
    }

    public String library() {
        return library;
    }

    /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64". */
    public String config() {
        if (getConfig == null) return "OpenBLAS";
        try {
            MemorySegment s = (MemorySegment) getConfig.invokeExact();
            return s.reinterpret(1024).getString(0);
        } catch (Throwable e) {
            return "OpenBLAS";
        }
    }

    public void setThreads(int threads) {
        try {
            setThreads.invokeExact(threads);
        } catch (Throwable e) {
            throw new IllegalStateException("openblas_set_num_threads failed", e);
        }
    }

    /** C[m×n] = A[m×k]·B[k×n], all row-major F32 with leading dimensions k, n, n. */
    public void sgemm(int m, int n, int k, MemorySegment a, MemorySegment b, MemorySegment c) {
        try {
            sgemm.invokeExact(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1f, a, k, b, n, 0f, c, n);
        } catch (Throwable e) {
            throw new IllegalStateException("cblas_sgemm failed", e);
        }
    }
}
