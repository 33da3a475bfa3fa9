// kube-scheduler's scheduling queue: order, backoff durations, the unschedulable pool and
// its flushes on kube's 1 s and 30 s grids.
#include <gtest/gtest.h>

#include "k8s/queue.hpp"

using namespace aifsim::k8s;

// Priority first, then creation time, then id.
TEST(SchedulingQueue, PopsByPriorityThenCreation) {
  SchedulingQueue q;
  q.add(1, 0, 5.0);
  q.add(2, 10, 7.0);
  q.add(3, 0, 1.0);
  q.add(4, 0, 1.0);
  EXPECT_EQ(*q.pop(), 2u);
  EXPECT_EQ(*q.pop(), 3u);
  EXPECT_EQ(*q.pop(), 4u);
  EXPECT_EQ(*q.pop(), 1u);
  EXPECT_FALSE(q.pop());
}

// podInitialBackoffSeconds 1 doubled per attempt, capped by podMaxBackoffSeconds 10.
TEST(SchedulingQueue, BackoffDoublesToTenSeconds) {
  SchedulingQueue q;
  EXPECT_EQ(q.backoff_duration_s(1), 1);
  EXPECT_EQ(q.backoff_duration_s(2), 2);
  EXPECT_EQ(q.backoff_duration_s(3), 4);
  EXPECT_EQ(q.backoff_duration_s(4), 8);
  EXPECT_EQ(q.backoff_duration_s(5), 10);
  EXPECT_EQ(q.backoff_duration_s(50), 10);
}

// An unschedulable pod stays in the pool until an event; moved before its backoff ends
// it waits in the backoff queue, flushed on the next whole second after the backoff.
TEST(SchedulingQueue, EventMovesUnschedulableThroughBackoff) {
  SchedulingQueue q;
  q.add(1, 0, 0.0);
  ASSERT_EQ(*q.pop(), 1u);
  q.add_unschedulable(1, 3, 10.2);  // backoff 4 s: until 14.2
  EXPECT_FALSE(q.pop());
  EXPECT_EQ(q.unschedulable_size(), 1u);
  q.move_all_to_active_or_backoff(12.0);
  EXPECT_EQ(q.backoff_size(), 1u);
  EXPECT_DOUBLE_EQ(*q.next_flush_s(12.0), 15.0);
  q.flush(14.0);
  EXPECT_FALSE(q.pop());
  q.flush(15.0);
  EXPECT_EQ(*q.pop(), 1u);
}

// Without an event, the leftover flush (every 30 s) returns pods unschedulable for more
// than 5 minutes: failed at 10, out at 330 (the first grid time with age > 300 s).
TEST(SchedulingQueue, LeftoverFlushAfterFiveMinutes) {
  SchedulingQueue q;
  q.add(1, 0, 0.0);
  q.pop();
  q.add_unschedulable(1, 1, 10.0);
  EXPECT_DOUBLE_EQ(*q.next_flush_s(10.0), 330.0);
  q.flush(300.0);
  EXPECT_FALSE(q.pop());
  q.flush(330.0);
  EXPECT_EQ(*q.pop(), 1u);
}

TEST(SchedulingQueue, RemoveForgetsThePodWherever) {
  SchedulingQueue q;
  q.add(1, 0, 0.0);
  q.add(2, 0, 1.0);
  q.remove(1);
  EXPECT_EQ(*q.pop(), 2u);
  q.add_backoff(2, 1, 0.0);
  q.remove(2);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.next_flush_s(0.0));
}
