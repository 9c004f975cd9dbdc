package io.tern.broker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(10)
class PagedSequencesTest {

    @Test
    void takesFromTheFrontInOrderAndInsertsLateOnesInTheirPlace() {
        PagedSequences s = new PagedSequences();
        for (long seq : new long[] {10, 20, 30, 25, 5, 40}) {
            s.add(seq);
        }
        s.add(20); // known already
        assertThat(s.size()).isEqualTo(6);
        assertThat(s.peek(3)).containsExactly(5, 10, 20);
        assertThat(s.after(20, 10)).containsExactly(25, 30, 40);
        assertThat(s.after(21, 1)).containsExactly(25);
        assertThat(s.after(40, 5)).isEmpty();
        s.drop(3);
        assertThat(s.peek(10)).containsExactly(25, 30, 40);
        assertThat(s.clear()).isEqualTo(3);
        assertThat(s.isEmpty()).isTrue();
    }

    @Test
    void matchesASortedSetUnderRandomAddsAndDrops() {
        Random random = new Random(42);
        PagedSequences s = new PagedSequences();
        TreeSet<Long> model = new TreeSet<>();
        long next = 0;
        for (int round = 0; round < 20_000; round++) {
            int op = random.nextInt(10);
            if (op < 6) {
                next += 1 + random.nextInt(3);
                s.add(next);
                model.add(next);
            } else if (op < 8 && next > 10) {
                long late = next - random.nextInt(10); // a placement that came late
                s.add(late);
                model.add(late);
            } else {
                int n = random.nextInt(5);
                long[] front = s.peek(n);
                List<Long> expected = new ArrayList<>(model).subList(0, Math.min(n, model.size()));
                assertThat(front).containsExactly(expected.stream().mapToLong(Long::longValue).toArray());
                s.drop(front.length);
                expected.forEach(model::remove);
            }
            assertThat(s.size()).isEqualTo(model.size());
        }
        assertThat(s.peek(s.size())).containsExactly(model.stream().mapToLong(Long::longValue).toArray());
    }
}
