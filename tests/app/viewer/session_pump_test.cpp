// The viewer's session thread: what it polls and delivers, jobs and their errors, keyed jobs, a
// connection that fails and comes back.
#include "app/viewer/session_pump.h"

#include "tests/app/fake_session_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace glimpse::viewer {
namespace {

using glimpse::testing::FakeSessionClient;

// A fake whose every call throws while `down` is set (a lost remote connection).
class FlakyClient : public FakeSessionClient {
 public:
  std::atomic<bool> down{false};
  SessionStatus status() override {
    GLIMPSE_CHECK(!down) << "lost the connection to http://127.0.0.1:7007: refused";
    return FakeSessionClient::status();
  }
};

SessionPumpOptions fast() {
  SessionPumpOptions o;
  o.poll_seconds = 0.005;
  o.snapshot_seconds = 0.005;
  o.retry_first_seconds = 0.05;
  o.retry_max_seconds = 0.2;
  return o;
}

// Takes updates until `done` says so (or 5 s pass), merging what matters to the tests.
template <typename Pred>
SessionPump::Update collect(SessionPump& pump, Pred done) {
  SessionPump::Update all;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < end) {
    SessionPump::Update u = pump.take();
    if (u.status) all.status = u.status;
    if (u.scene) all.scene = u.scene;
    if (u.description) all.description = u.description;
    if (u.snapshot) all.snapshot = u.snapshot;
    if (u.tests) all.tests = u.tests;
    all.log.insert(all.log.end(), u.log.begin(), u.log.end());
    if (u.curve_reset) {
      all.curve_reset = true;
      all.curve.clear();
    }
    all.curve.insert(all.curve.end(), u.curve.begin(), u.curve.end());
    all.errors.insert(all.errors.end(), u.errors.begin(), u.errors.end());
    all.notes.insert(all.notes.end(), u.notes.begin(), u.notes.end());
    for (auto& d : u.done) all.done.push_back(std::move(d));
    all.connection = u.connection;
    if (done(all)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return all;
}

TEST(SessionPump, PollsEverythingOnce) {
  auto fake = std::make_shared<FakeSessionClient>();
  SessionPump pump(fake, fast());
  const SessionPump::Update u = collect(pump, [](const SessionPump::Update& a) {
    return a.status && a.scene && a.snapshot && a.tests && a.log.size() == 5 &&
           a.curve.size() == 10 && a.description;
  });
  ASSERT_TRUE(u.status.has_value());
  EXPECT_EQ(u.status->iteration, 120);
  EXPECT_EQ(*u.description, "fake");
  ASSERT_TRUE(u.scene.has_value());
  EXPECT_EQ(u.scene->views.size(), 3u);
  ASSERT_NE(u.snapshot, nullptr);
  EXPECT_EQ(u.snapshot->version, 3u);
  EXPECT_EQ(u.log.size(), 5u);  // each entry once
  EXPECT_EQ(u.curve.size(), 10u);
  EXPECT_EQ(u.curve.back().iteration, 100);
  EXPECT_EQ(u.connection, "");
  // Nothing new: no second snapshot, log or curve.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const SessionPump::Update again = pump.take();
  EXPECT_EQ(again.snapshot, nullptr);
  EXPECT_TRUE(again.log.empty());
  EXPECT_TRUE(again.curve.empty());
  EXPECT_GT(fake->snapshot_requests(), 1);  // but it keeps asking (asking makes a run publish)
}

TEST(SessionPump, JobsRunInOrderAndReportErrors) {
  auto fake = std::make_shared<FakeSessionClient>();
  SessionPump pump(fake, fast());
  std::vector<int> ran;
  pump.post("pause", [](SessionClient& c) -> SessionPump::Done {
    c.command(SessionCommand::Pause);
    return {};
  });
  pump.post("render view 9", [](SessionClient& c) -> SessionPump::Done {
    c.render(Camera{}, 9);  // out of range: throws
    return {};
  });
  pump.post("tag",
            [&ran](SessionClient&) { return SessionPump::Done([&ran] { ran.push_back(1); }); });
  const SessionPump::Update u = collect(
      pump, [](const SessionPump::Update& a) { return !a.done.empty() && !a.errors.empty(); });
  ASSERT_EQ(u.errors.size(), 1u);
  EXPECT_EQ(u.errors[0], "render view 9: view 9 is out of range");
  for (const auto& d : u.done) d();
  EXPECT_EQ(ran, (std::vector<int>{1}));
  EXPECT_EQ(fake->commands(), (std::vector<SessionCommand>{SessionCommand::Pause}));
  EXPECT_EQ(pump.pending_jobs(), 0);
}

TEST(SessionPump, KeyedJobsReplaceQueuedOnes) {
  auto fake = std::make_shared<FakeSessionClient>();
  SessionPump pump(fake, fast());
  std::atomic<bool> release{false}, started{false};
  std::atomic<int> runs{0};
  pump.post("block", [&](SessionClient&) -> SessionPump::Done {
    started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return {};
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::atomic<int> last{0};
  for (int i = 1; i <= 5; ++i)
    pump.post(
        "render",
        [&, i](SessionClient&) -> SessionPump::Done {
          ++runs;
          last = i;
          return {};
        },
        "render");
  release = true;
  while (pump.pending_jobs() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(last, 5);
}

TEST(SessionPump, LostConnectionIsRetriedWithBackoff) {
  auto flaky = std::make_shared<FlakyClient>();
  flaky->down = true;
  SessionPump pump(flaky, fast());
  const SessionPump::Update lost = collect(pump, [](const SessionPump::Update& a) {
    return a.connection.rfind("connection lost, retrying", 0) == 0;
  });
  EXPECT_EQ(lost.connection.rfind("connection lost, retrying", 0), 0u) << lost.connection;
  ASSERT_EQ(lost.errors.size(), 1u);  // said once, not at every retry
  EXPECT_EQ(lost.errors[0], "lost the connection to http://127.0.0.1:7007: refused");
  EXPECT_FALSE(lost.status.has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // several failed retries
  EXPECT_TRUE(pump.take().errors.empty());
  flaky->down = false;
  const SessionPump::Update back = collect(pump, [](const SessionPump::Update& a) {
    return a.status.has_value() && a.connection.empty() && !a.notes.empty();
  });
  EXPECT_TRUE(back.status.has_value());
  EXPECT_EQ(back.connection, "");
  EXPECT_EQ(back.notes, (std::vector<std::string>{"connection restored"}));
}

TEST(SessionPump, ANewRunResetsTheCurves) {
  auto fake = std::make_shared<FakeSessionClient>();
  SessionPump pump(fake, fast());
  collect(pump, [](const SessionPump::Update& a) { return a.curve.size() == 10; });
  SessionStatus s = fake->status();
  s.iteration = 2;
  fake->set_status(s);
  fake->set_curve({{1, 0.9, 9, 10, 1}, {2, 0.8, 10, 10, 1}});
  const SessionPump::Update u =
      collect(pump, [](const SessionPump::Update& a) { return a.curve.size() == 2; });
  EXPECT_TRUE(u.curve_reset);
  ASSERT_EQ(u.curve.size(), 2u);
  EXPECT_EQ(u.curve[0].iteration, 1);
}

}  // namespace
}  // namespace glimpse::viewer
