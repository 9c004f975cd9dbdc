package io.tern.it;

import io.tern.server.EmbeddedTern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A test against one node in this JVM with the default settings: {@link #tern}, started before each test and closed after. */
abstract class EmbeddedTernTest {
    EmbeddedTern tern;

    @BeforeEach
    void startTern() {
        tern = EmbeddedTern.start();
    }

    @AfterEach
    void closeTern() {
        tern.close();
    }
}
