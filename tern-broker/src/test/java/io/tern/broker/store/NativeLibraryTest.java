package io.tern.broker.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.util.Environment;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(60)
class NativeLibraryTest {
    @TempDir
    Path root;

    private List<Path> files() throws Exception {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void theLibraryIsCopiedOnceAndReusedByLaterStarts() throws Exception {
        Path dir = NativeLibrary.cached(root);
        Path library = dir.resolve(NativeLibrary.LOADED_NAME);
        long size = RocksDbStore.class.getClassLoader()
                .getResource(Environment.getJniLibraryFileName("rocksdb")).openConnection().getContentLengthLong();
        assertThat(Files.size(library)).isEqualTo(size);
        FileTime copied = FileTime.fromMillis(0);
        Files.setLastModifiedTime(library, copied);

        assertThat(NativeLibrary.cached(root)).isEqualTo(dir);
        assertThat(Files.getLastModifiedTime(library)).as("a later start reuses the copy").isEqualTo(copied);
        assertThat(files()).containsExactly(library);
    }

    @Test
    void aStoreLoadsTheCachedCopy() {
        new RocksDbStore(root.resolve("store")).close();
        assertThat(NativeLibrary.loadedFrom()).as("loaded from the cache, not from a new temporary file")
                .isNotNull().startsWith(NativeLibrary.cacheRoot());
    }

    @Test
    void concurrentStartsLeaveOneWholeCopy() throws Exception {
        List<CompletableFuture<Path>> starts = Stream.generate(() -> CompletableFuture.supplyAsync(() -> {
            try {
                return NativeLibrary.cached(root);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        })).limit(4).toList();
        Path dir = starts.get(0).get();
        for (CompletableFuture<Path> start : starts) {
            assertThat(start.get()).isEqualTo(dir);
        }
        assertThat(files()).as("no partial copy is left behind")
                .containsExactly(dir.resolve(NativeLibrary.LOADED_NAME));
    }
}
