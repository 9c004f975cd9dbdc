package io.tern.broker.store;

import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Loads RocksDB's native library from one cached copy per version instead of a new temporary file per process.
 *
 * <p>RocksDB's own loader copies its 15 MB library into {@code java.io.tmpdir} under a random name at every start
 * and relies on {@code deleteOnExit}, which a killed process never runs: each {@code kill -9} of a node (or each
 * crash a supervisor restarts) left 15 MB behind, and repeated fault tests filled a disk. Here the library is
 * copied once into {@code <cache>/tern/native/<crc>/librocksdbjni.so}, named by the CRC of the jar entry, so
 * every process of one RocksDB version shares it. The copy is written to a temporary file beside it and renamed
 * into place, so concurrent starts never load a half-written file.
 *
 * <p>The cache is {@code -Dtern.native.dir} when set, else {@code $XDG_CACHE_HOME/tern/native}, else
 * {@code ~/.cache/tern/native}: a directory of the user's own, never a shared one such as /tmp where another
 * user could plant a library. Where none can be written (a read-only home), RocksDB's own loader is used.
 */
final class NativeLibrary {
    private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);
    /** The name {@link RocksDB#loadLibrary(List)} looks for in each directory it is given (sic: "jnijni"). */
    static final String LOADED_NAME = Environment.getJniLibraryFileName("rocksdbjni");
    /** The directory the library was loaded from, or null if RocksDB's own loader copied it to a temporary file. */
    private static volatile Path loadedFrom;

    private NativeLibrary() {
    }

    /** Loads the library once per JVM; later calls return at once. */
    static synchronized void load() {
        try {
            Path dir = cached(cacheRoot());
            RocksDB.loadLibrary(List.of(dir.toString()));
            loadedFrom = dir;
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            LOG.warn("Cannot use a cached copy of RocksDB's native library ({}); RocksDB copies it to {} instead",
                    e.toString(), System.getProperty("java.io.tmpdir"));
            RocksDB.loadLibrary();
        }
    }

    static Path loadedFrom() {
        return loadedFrom;
    }

    static Path cacheRoot() {
        String configured = System.getProperty("tern.native.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("tern").resolve("native");
    }

    /** The directory under {@code root} that holds this version's library, copied there first if missing. */
    static Path cached(Path root) throws IOException {
        String resource = Environment.getJniLibraryFileName("rocksdb");
        URL url = RocksDB.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IOException("RocksDB's jar has no " + resource + " for this platform");
        }
        URLConnection connection = url.openConnection();
        String version = connection instanceof JarURLConnection jar
                ? Long.toHexString(jar.getJarEntry().getCrc()) + "-" + Long.toHexString(jar.getJarEntry().getSize())
                : Long.toHexString(connection.getContentLengthLong());
        Path dir = root.resolve(version);
        Path library = dir.resolve(LOADED_NAME);
        if (Files.isRegularFile(library)) {
            return dir;
        }
        Files.createDirectories(dir);
        Path partial = Files.createTempFile(dir, LOADED_NAME, ".partial",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (InputStream in = connection.getInputStream()) {
            Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            try {
                Files.move(partial, library, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(partial, library, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(partial);
        }
        LOG.info("Copied RocksDB's native library to {}", library);
        return dir;
    }
}
