// The HTTP link against a real server on loopback: every endpoint round-tripped through
// RemoteSession against a scripted session, the encodings' stated bounds, the token, the bounds on
// requests, bad input, clients that vanish mid-reply, concurrent clients and a stopped server.
#include "app/http_link.h"

#include "core/check.h"
#include "tests/app/fake_session_client.h"
#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <functional>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace glimpse {
namespace {

using glimpse::testing::error_of;

namespace fs = std::filesystem;
using testing::FakeSessionClient;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// ------------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client on a POSIX socket (Connection: close), so that the tests can send
// what RemoteSession never would.

int connect_loopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  GLIMPSE_CHECK(fd >= 0) << "socket()";
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  GLIMPSE_CHECK(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0)
      << "connect to port " << port;
  return fd;
}

void send_all(int fd, const std::string& data) {
  for (size_t sent = 0; sent < data.size();) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    GLIMPSE_CHECK(n > 0) << "send";
    sent += static_cast<size_t>(n);
  }
}

struct RawReply {
  int status = 0;
  std::string headers;
  std::string body;
  std::string error() const {
    try {
      return nlohmann::json::parse(body).at("error").get<std::string>();
    } catch (const std::exception&) {
      return "(no JSON error in: " + body.substr(0, 100) + ")";
    }
  }
};

// Sends `request` as is and reads one reply (its Content-Length, or until the server closes).
RawReply raw_exchange(int port, const std::string& request) {
  const int fd = connect_loopback(port);
  send_all(fd, request);
  std::string text;
  char buffer[65536];
  RawReply reply;
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    text.append(buffer, n);
    const size_t end = text.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    reply.headers = text.substr(0, end);
    const size_t length = reply.headers.find("Content-Length: ");
    if (length != std::string::npos &&
        text.size() >= end + 4 + std::stoul(reply.headers.substr(length + 16)))
      break;
  }
  close(fd);
  const size_t end = text.find("\r\n\r\n");
  if (text.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::stoi(text.substr(9, 3));
  reply.body = text.substr(end + 4);
  return reply;
}

// A request with `token` (none when empty) and a JSON body for POST.
RawReply http(int port, const std::string& method, const std::string& target,
              const std::string& token, const std::string& body = "") {
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "Connection: close\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  if (method == "POST")
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return raw_exchange(port, request + "\r\n" + body);
}

// ------------------------------------------------------------------------------------------------
// Options, parsing, tokens

TEST(HttpLinkOptionsTest, DefaultsAreValidAndBadFieldsAreNamed) {
  EXPECT_NO_THROW(HttpLinkOptions{}.check());
  auto error = [](const std::function<void(HttpLinkOptions&)>& edit) {
    HttpLinkOptions o;
    edit(o);
    return error_of([&] { o.check(); });
  };
  EXPECT_HAS(error([](HttpLinkOptions& o) { o.port = 70000; }), "port");
  EXPECT_HAS(error([](HttpLinkOptions& o) { o.host = "0.0.0.0"; }), "not a loopback address");
  EXPECT_HAS(error([](HttpLinkOptions& o) { o.token = "short"; }), "token");
  EXPECT_HAS(error([](HttpLinkOptions& o) { o.token = "has a space in it ok"; }), "token");
  EXPECT_HAS(error([](HttpLinkOptions& o) { o.threads = 0; }), "threads");
  EXPECT_HAS(error([](HttpLinkOptions& o) { o.max_body_bytes = 10; }), "max_body_bytes");
  EXPECT_HAS(error([](HttpLinkOptions& o) { o.max_url_bytes = 100000; }), "max_url_bytes");
  HttpLinkOptions remote;
  remote.host = "0.0.0.0";
  remote.allow_remote = true;
  EXPECT_NO_THROW(remote.check());
}

TEST(HttpLinkOptionsTest, ParsesHostAndPort) {
  HostPort hp = parse_host_port("127.0.0.1:7007");
  EXPECT_EQ(hp.host, "127.0.0.1");
  EXPECT_EQ(hp.port, 7007);
  hp = parse_host_port("[::1]:0");
  EXPECT_EQ(hp.host, "::1");
  EXPECT_EQ(hp.port, 0);
  hp = parse_host_port(":8080");
  EXPECT_EQ(hp.host, "127.0.0.1");
  EXPECT_EQ(hp.port, 8080);
  EXPECT_EQ(parse_host_port("localhost:65535").port, 65535);
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000",
                          "127.0.0.1:-1", "127.0.0.1:80x", "::1:7007"}) {
    const std::string message = error_of([&] { parse_host_port(bad); });
    EXPECT_HAS(message, bad);
  }
}

TEST(HttpLinkOptionsTest, TellsLoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback_host(host)) << host;
  for (const char* host : {"0.0.0.0", "192.168.1.2", "::", "example.com", "128.0.0.1", ""})
    EXPECT_FALSE(is_loopback_host(host)) << host;
}

TEST(HttpLinkTokenTest, ConstantTimeEqualIsEquality) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("0123456789abcdef", "0123456789abcdef"));
  EXPECT_FALSE(constant_time_equal("0123456789abcdef", "0123456789abcdeF"));
  EXPECT_FALSE(constant_time_equal("0123456789abcdef", "X123456789abcdef"));
  // Different lengths, including one a prefix of the other and trailing zero bytes.
  EXPECT_FALSE(constant_time_equal("0123456789abcdef", "0123456789abcde"));
  EXPECT_FALSE(constant_time_equal("0123456789abcde", "0123456789abcdef"));
  EXPECT_FALSE(constant_time_equal("abc", ""));
  EXPECT_FALSE(constant_time_equal("", "abc"));
  EXPECT_FALSE(constant_time_equal(std::string_view("abc\0", 4), "abc"));
  EXPECT_FALSE(constant_time_equal("abc", std::string_view("abc\0", 4)));
}

TEST(HttpLinkTokenTest, RandomTokensAre128BitHex) {
  const std::string a = random_link_token(), b = random_link_token();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b);
}

// ------------------------------------------------------------------------------------------------
// Encodings

TEST(HttpLinkEncodingTest, SnapshotRoundTripsWithinTheStatedQuantisation) {
  SplatSnapshot in;
  in.version = 0x1234567890ull;
  in.iteration = 4321;
  in.gaussians = testing::make_fake_gaussians(2000, 2);
  // Edge cases: a zero quaternion (identity), opacity beyond the 8-bit range.
  for (int c = 0; c < 4; ++c) in.gaussians.quats[c] = 0;
  in.gaussians.opacity_logits[1] = 20;
  in.gaussians.opacity_logits[2] = -20;
  const std::string bytes = encode_link_snapshot(in);
  ASSERT_EQ(bytes.size(), kLinkSnapshotHeaderBytes + 2000 * kLinkSnapshotRecordBytes);
  const SplatSnapshot out = decode_link_snapshot(bytes);
  EXPECT_EQ(out.version, in.version);
  EXPECT_EQ(out.iteration, in.iteration);
  const Gaussians &a = in.gaussians, &b = out.gaussians;
  ASSERT_EQ(b.size(), a.size());
  EXPECT_EQ(b.sh_degree, 0);
  EXPECT_NO_THROW(b.check("decoded"));
  const size_t k = static_cast<size_t>(a.sh_coeffs());
  double worst_chord = 0, worst_opacity = 0, worst_colour = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(b.means[3 * i + c], a.means[3 * i + c]);
      EXPECT_EQ(b.log_scales[3 * i + c], a.log_scales[3 * i + c]);
      const double colour_in = std::clamp(0.5 + kShC0 * a.sh[i * k * 3 + c], 0.0, 1.0);
      worst_colour = std::max(worst_colour, std::abs(0.5 + kShC0 * b.sh[3 * i + c] - colour_in));
    }
    double qa[4], norm2 = 0, dot = 0, chord = 0;
    for (int c = 0; c < 4; ++c) qa[c] = a.quats[4 * i + c], norm2 += qa[c] * qa[c];
    if (norm2 == 0) qa[0] = 1, norm2 = 1;
    for (int c = 0; c < 4; ++c) dot += qa[c] / std::sqrt(norm2) * b.quats[4 * i + c];
    for (int c = 0; c < 4; ++c) {
      const double d = (dot < 0 ? -1 : 1) * b.quats[4 * i + c] - qa[c] / std::sqrt(norm2);
      chord += d * d;
    }
    worst_chord = std::max(worst_chord, std::sqrt(chord));
    worst_opacity = std::max(worst_opacity,
                             std::abs(sigmoid(b.opacity_logits[i]) - sigmoid(a.opacity_logits[i])));
  }
  EXPECT_LE(worst_chord, LinkSnapshotQuantisation::kQuaternion);
  EXPECT_LE(worst_opacity, LinkSnapshotQuantisation::kOpacity + 1e-7);
  EXPECT_LE(worst_colour, LinkSnapshotQuantisation::kColour + 1e-7);
  EXPECT_GT(worst_chord, 0);   // it is quantised, and the test would notice if it were not
  EXPECT_EQ(b.quats[0], 1.f);  // the zero quaternion came back as the identity

  // Corrupt input is refused with a message, never read past its end.
  EXPECT_HAS(error_of([&] { decode_link_snapshot(bytes.substr(0, bytes.size() - 1)); }),
             "expected");
  EXPECT_HAS(error_of([&] { decode_link_snapshot("GLS"); }), "not a Glimpse snapshot");
  std::string wrong_version = bytes;
  wrong_version[4] = 9;
  EXPECT_HAS(error_of([&] { decode_link_snapshot(wrong_version); }), "format version 9");
}

TEST(HttpLinkEncodingTest, RenderRoundTripsColoursTo8BitsAndDepthExactly) {
  FakeSessionClient fake;
  const Camera camera = fake.scene().views[1].camera;
  const ViewRender in = fake.render(camera, 1);
  const ViewRender out = decode_link_render(encode_link_render(in));
  EXPECT_EQ(out.view_index, 1);
  EXPECT_EQ(out.iteration, in.iteration);
  EXPECT_EQ(out.psnr, in.psnr);
  ASSERT_EQ(out.depth.vector(), in.depth.vector());
  for (auto [a, b] : {std::pair{&in.render, &out.render}, std::pair{&in.truth, &out.truth},
                      std::pair{&in.error, &out.error}}) {
    ASSERT_EQ(b->width(), a->width());
    ASSERT_EQ(b->height(), a->height());
    ASSERT_EQ(b->channels(), a->channels());
    for (size_t i = 0; i < a->size(); ++i)
      ASSERT_NEAR(b->data()[i], a->data()[i], kLinkRenderColourStep + 1e-6) << i;
  }
  // Without truth, only render and depth travel; NaN psnr comes back NaN.
  const ViewRender free = decode_link_render(encode_link_render(fake.render(camera, -1)));
  EXPECT_EQ(free.view_index, -1);
  EXPECT_TRUE(free.truth.empty());
  EXPECT_TRUE(free.error.empty());
  EXPECT_TRUE(std::isnan(free.psnr));
  const std::string bytes = encode_link_render(in);
  EXPECT_HAS(error_of([&] { decode_link_render(bytes.substr(0, bytes.size() - 3)); }),
             "does not fit");
  EXPECT_HAS(error_of([&] { decode_link_render(bytes + "x"); }), "extra bytes");
  EXPECT_THROW(decode_link_render("\xff\xff\xff\x7f{}"), Error);
}

// ------------------------------------------------------------------------------------------------
// A server on loopback and a RemoteSession talking to it

class HttpLinkTest : public ::testing::Test {
 protected:
  HttpLinkTest() : server_(fake_), remote_(server_.url(), server_.token()) {}

  int port() const { return server_.port(); }
  const std::string& token() const { return server_.token(); }

  testing::TempDir temp_;
  FakeSessionClient fake_;
  HttpLinkServer server_;
  RemoteSession remote_;
};

TEST_F(HttpLinkTest, ServesOnLoopbackWithAFreshToken) {
  EXPECT_GT(port(), 0);
  EXPECT_EQ(token().size(), 32u);
  EXPECT_EQ(server_.url(), "http://127.0.0.1:" + std::to_string(port()));
  EXPECT_EQ(remote_.describe(), "remote: " + server_.url());
}

TEST_F(HttpLinkTest, StatusRoundTripsEveryField) {
  SessionStatus s = fake_.status();
  s.phase = SessionPhase::DepthPriors;
  s.phase_detail = "multi-view stereo, view 2 of 3";
  s.paused = true;
  s.num_gaussians = 12345678901;
  s.test_psnr = kSessionNaN;
  s.error = "bad \xff byte";  // invalid UTF-8 must not break the reply
  s.output = temp_.path().string();
  s.snapshot_version = 18446744073709551000ull;
  fake_.set_status(s);
  const SessionStatus r = remote_.status();
  EXPECT_EQ(r.phase, s.phase);
  EXPECT_EQ(r.phase_detail, s.phase_detail);
  EXPECT_EQ(r.phase_fraction, s.phase_fraction);
  EXPECT_EQ(r.paused, s.paused);
  EXPECT_EQ(r.iteration, s.iteration);
  EXPECT_EQ(r.total_iterations, s.total_iterations);
  EXPECT_EQ(r.num_gaussians, s.num_gaussians);
  EXPECT_EQ(r.its_per_second, s.its_per_second);
  EXPECT_EQ(r.loss, s.loss);
  EXPECT_EQ(r.psnr, s.psnr);
  EXPECT_EQ(r.eta_seconds, s.eta_seconds);
  EXPECT_EQ(r.step_ms, s.step_ms);
  EXPECT_EQ(r.phase_ms, s.phase_ms);
  EXPECT_TRUE(std::isnan(r.test_psnr));
  EXPECT_HAS(r.error, "bad ");
  EXPECT_EQ(r.dataset, s.dataset);
  EXPECT_EQ(r.output, s.output);
  EXPECT_EQ(r.device, s.device);
  EXPECT_EQ(r.snapshot_version, s.snapshot_version);
  EXPECT_EQ(r.log_sequence, s.log_sequence);
}

TEST_F(HttpLinkTest, CurveTestsAndLogRoundTrip) {
  const std::vector<SessionCurvePoint> all = fake_.curve(-1);
  const std::vector<SessionCurvePoint> curve = remote_.curve(-1);
  ASSERT_EQ(curve.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(curve[i].iteration, all[i].iteration);
    EXPECT_EQ(curve[i].loss, all[i].loss);
    EXPECT_EQ(curve[i].psnr, all[i].psnr);
    EXPECT_EQ(curve[i].num_gaussians, all[i].num_gaussians);
    EXPECT_EQ(curve[i].step_ms, all[i].step_ms);
  }
  const std::vector<SessionCurvePoint> tail = remote_.curve(45);
  ASSERT_EQ(tail.size(), 6u);
  EXPECT_EQ(tail.front().iteration, 50);
  EXPECT_TRUE(remote_.curve(100).empty());

  const std::vector<SessionTestPoint> tests = remote_.tests();
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[1].iteration, 100);
  EXPECT_EQ(tests[1].psnr, 20.25);
  EXPECT_EQ(tests[1].ssim, 0.7);

  const std::vector<SessionLogEntry> log = remote_.log(0);
  const std::vector<SessionLogEntry> expected = fake_.log(0);
  ASSERT_EQ(log.size(), 5u);
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].sequence, expected[i].sequence);
    EXPECT_EQ(log[i].level, expected[i].level);
    EXPECT_EQ(log[i].message, expected[i].message);
  }
  ASSERT_EQ(remote_.log(3).size(), 2u);
  EXPECT_EQ(remote_.log(3)[0].sequence, 4u);
  EXPECT_TRUE(remote_.log(5).empty());
}

TEST_F(HttpLinkTest, SceneCamerasAreExact) {
  const SessionScene expected = fake_.scene();
  const SessionScene scene = remote_.scene();
  EXPECT_EQ(scene.root, expected.root);
  EXPECT_EQ(scene.format, expected.format);
  EXPECT_EQ(scene.near_depth, expected.near_depth);
  EXPECT_EQ(scene.far_depth, expected.far_depth);
  ASSERT_EQ(scene.views.size(), 3u);
  for (size_t v = 0; v < scene.views.size(); ++v) {
    const SessionView &a = expected.views[v], &b = scene.views[v];
    EXPECT_EQ(b.index, a.index);
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.train, a.train);
    EXPECT_EQ(b.test, a.test);
    EXPECT_EQ(b.camera.width, a.camera.width);
    EXPECT_EQ(b.camera.height, a.camera.height);
    EXPECT_EQ(b.camera.fx, a.camera.fx);
    EXPECT_EQ(b.camera.fy, a.camera.fy);
    EXPECT_EQ(b.camera.cx, a.camera.cx);
    EXPECT_EQ(b.camera.cy, a.camera.cy);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(b.camera.translation[i], a.camera.translation[i]);
      for (int k = 0; k < 3; ++k) EXPECT_EQ(b.camera.rotation.m[i][k], a.camera.rotation.m[i][k]);
    }
  }
  EXPECT_TRUE(scene.views[2].test);
}

TEST_F(HttpLinkTest, ThumbnailRoundTripsAndBadViewsAreNamed) {
  const Image<uint8_t> image = remote_.thumbnail(2, 24);
  const Image<uint8_t> expected = fake_.thumbnail(2, 24);
  ASSERT_EQ(image.width(), expected.width());
  ASSERT_EQ(image.height(), expected.height());
  ASSERT_EQ(image.channels(), 3);
  EXPECT_EQ(image.vector(), expected.vector());
  EXPECT_LE(std::max(image.width(), image.height()), 24);
  EXPECT_HAS(error_of([&] { remote_.thumbnail(3, 24); }), "view: 3 is out of range");
  EXPECT_HAS(error_of([&] { remote_.thumbnail(0, 0); }), "max_side");
}

TEST_F(HttpLinkTest, SnapshotsArriveWhenNewerAndDecodeWithinQuantisation) {
  auto snapshot = std::make_shared<SplatSnapshot>();
  snapshot->version = 7;
  snapshot->iteration = 300;
  snapshot->gaussians = testing::make_fake_gaussians(500, 3, 11);
  fake_.set_snapshot(snapshot);
  const auto received = remote_.snapshot(0);
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->version, 7u);
  EXPECT_EQ(received->iteration, 300);
  const Gaussians &a = snapshot->gaussians, &b = received->gaussians;
  ASSERT_EQ(b.size(), 500u);
  EXPECT_EQ(b.sh_degree, 0);
  EXPECT_EQ(b.means, a.means);
  EXPECT_EQ(b.log_scales, a.log_scales);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(sigmoid(b.opacity_logits[i]), sigmoid(a.opacity_logits[i]),
                LinkSnapshotQuantisation::kOpacity + 1e-7);
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(b.sh[3 * i + c], a.sh[16 * 3 * i + c],
                  LinkSnapshotQuantisation::kColour / kShC0 + 1e-5);
  }
  // Not newer: 204, null, and asking was recorded (asking is what makes a session publish).
  const int asked = fake_.snapshot_requests();
  EXPECT_EQ(remote_.snapshot(7), nullptr);
  EXPECT_EQ(remote_.snapshot(8), nullptr);
  EXPECT_EQ(fake_.snapshot_requests(), asked + 2);
  RawReply raw = http(port(), "GET", "/api/snapshot?newer_than=7", token());
  EXPECT_EQ(raw.status, 204);
  EXPECT_TRUE(raw.body.empty());
  raw = http(port(), "GET", "/api/snapshot?newer_than=x", token());
  EXPECT_EQ(raw.status, 400);
  EXPECT_HAS(raw.error(), "newer_than");
}

TEST_F(HttpLinkTest, RendersViewsAndFreeCameras) {
  const SessionScene scene = fake_.scene();
  const ViewRender view = remote_.render(scene.views[1].camera, 1);
  EXPECT_EQ(view.view_index, 1);
  EXPECT_EQ(view.iteration, 120);
  EXPECT_EQ(view.psnr, 31.5);
  const Camera& c = scene.views[1].camera;
  ASSERT_EQ(view.render.width(), c.width);
  ASSERT_EQ(view.render.height(), c.height);
  ASSERT_EQ(view.truth.width(), c.width);
  ASSERT_EQ(view.error.channels(), 1);
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x) {
      EXPECT_EQ(view.depth.at(x, y), testing::fake_depth_value(x, y));
      for (int ch = 0; ch < 3; ++ch) {
        EXPECT_NEAR(view.render.at(x, y, ch),
                    testing::fake_render_value(x, y, ch, c.width, c.height),
                    kLinkRenderColourStep + 1e-6);
        EXPECT_NEAR(view.truth.at(x, y, ch), testing::fake_truth_value(x, y, ch),
                    kLinkRenderColourStep + 1e-6);
      }
    }

  Camera free = scene.views[0].camera;
  free.width = 64, free.height = 48, free.translation[2] = 7.5;
  const ViewRender r = remote_.render(free, -1);
  EXPECT_EQ(r.view_index, -1);
  EXPECT_EQ(r.render.width(), 64);
  EXPECT_EQ(r.depth.height(), 48);
  EXPECT_TRUE(r.truth.empty());
  EXPECT_TRUE(std::isnan(r.psnr));
  // The session received the cameras exactly.
  const auto calls = fake_.renders();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].view_index, 1);
  EXPECT_EQ(calls[1].view_index, -1);
  EXPECT_EQ(calls[1].camera.translation[2], 7.5);
  EXPECT_EQ(calls[1].camera.fx, free.fx);
  EXPECT_EQ(calls[1].camera.rotation.m[2][0], free.rotation.m[2][0]);

  // {"view": I} alone renders that view's own camera.
  const RawReply raw = http(port(), "POST", "/api/render", token(), R"({"view": 2})");
  ASSERT_EQ(raw.status, 200) << raw.body.substr(0, 200);
  const ViewRender by_index = decode_link_render(raw.body);
  EXPECT_EQ(by_index.view_index, 2);
  EXPECT_EQ(by_index.render.width(), scene.views[2].camera.width);
  EXPECT_EQ(fake_.renders().back().camera.fy, scene.views[2].camera.fy);
}

TEST_F(HttpLinkTest, CommandsReachTheSession) {
  remote_.command(SessionCommand::Pause);
  EXPECT_TRUE(remote_.status().paused);
  remote_.command(SessionCommand::Step);
  remote_.command(SessionCommand::Resume);
  EXPECT_FALSE(remote_.status().paused);
  remote_.command(SessionCommand::Save);
  remote_.command(SessionCommand::Stop);
  EXPECT_EQ(remote_.status().phase, SessionPhase::Stopped);
  const std::vector<SessionCommand> expected = {SessionCommand::Pause, SessionCommand::Step,
                                                SessionCommand::Resume, SessionCommand::Save,
                                                SessionCommand::Stop};
  EXPECT_EQ(fake_.commands(), expected);
}

TEST_F(HttpLinkTest, SessionRefusalsAre409WithTheSessionsMessage) {
  fake_.set_refusal("cannot start: the run is already training");
  EXPECT_EQ(error_of([&] { remote_.command(SessionCommand::Start); }),
            "cannot start: the run is already training");
  const RawReply raw = http(port(), "POST", "/api/command", token(), R"({"command": "start"})");
  EXPECT_EQ(raw.status, 409);
  EXPECT_EQ(raw.error(), "cannot start: the run is already training");
  EXPECT_TRUE(fake_.commands().empty());
  EXPECT_HAS(error_of([&] { remote_.render(fake_.scene().views[0].camera, 0); }),
             "already training");
}

TEST_F(HttpLinkTest, ExportsAreConfinedToTheRunsExportsFolder) {
  SessionStatus s = fake_.status();
  s.output = (temp_.path() / "run").string();
  fake_.set_status(s);
  SessionExport request;
  request.output = "model.splat";
  request.format = "splat";
  request.crop = std::array<double, 6>{-1, -2, -3, 1, 2, 3.5};
  remote_.export_model(request);
  const fs::path written = temp_.path() / "run" / "exports" / "model.splat";
  EXPECT_TRUE(fs::is_regular_file(written));
  auto exports = fake_.exports();
  ASSERT_EQ(exports.size(), 1u);
  EXPECT_EQ(exports[0].output, written.string());
  EXPECT_EQ(exports[0].format, "splat");
  ASSERT_TRUE(exports[0].crop.has_value());
  EXPECT_EQ(*exports[0].crop, *request.crop);

  const RawReply raw = http(port(), "POST", "/api/export", token(), R"({"output": "b.ply"})");
  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(nlohmann::json::parse(raw.body).at("output"),
            (temp_.path() / "run" / "exports" / "b.ply").string());
  EXPECT_EQ(fake_.exports().back().format, "");
  EXPECT_FALSE(fake_.exports().back().crop.has_value());

  for (const char* bad :
       {"../escape.ply", "..", "a/b.ply", "/tmp/abs.ply", "sub\\x.ply", "x..ply", ""}) {
    SessionExport e;
    e.output = bad;
    EXPECT_HAS(error_of([&] { remote_.export_model(e); }), "output");
  }
  SessionExport bad_crop;
  bad_crop.output = "c.ply";
  bad_crop.crop = std::array<double, 6>{1, 0, 0, 0, 1, 1};
  EXPECT_HAS(error_of([&] { remote_.export_model(bad_crop); }), "crop: min x > max");
  EXPECT_EQ(fake_.exports().size(), 2u);
  EXPECT_FALSE(fs::exists(temp_.path() / "escape.ply"));
  EXPECT_FALSE(fs::exists(temp_.path() / "run" / "escape.ply"));
}

TEST_F(HttpLinkTest, ExportWithoutAnOutputFolderIsRefused) {
  SessionExport request;
  request.output = "model.ply";
  EXPECT_HAS(error_of([&] { remote_.export_model(request); }), "no output folder");
  EXPECT_TRUE(fake_.exports().empty());
}

TEST_F(HttpLinkTest, MissingTokenIs401AndReachesNothing) {
  RawReply raw = http(port(), "GET", "/api/status", "");
  EXPECT_EQ(raw.status, 401);
  EXPECT_HAS(raw.error(), "this run needs its token");
  EXPECT_HAS(raw.headers, "WWW-Authenticate: Bearer");
  raw = raw_exchange(port(),
                     "POST /api/command HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Basic " +
                         token() +
                         "\r\nContent-Length: 21\r\n\r\n"
                         R"({"command": "pause"})"
                         "\n");
  EXPECT_EQ(raw.status, 401);
  EXPECT_HAS(raw.error(), "this run needs its token");
  EXPECT_TRUE(fake_.commands().empty());
  RemoteSession anonymous(server_.url(), "");
  EXPECT_HAS(error_of([&] { anonymous.status(); }), "the run refused the token: this run needs");
}

TEST_F(HttpLinkTest, WrongTokenIsUnknownOrExpired) {
  std::string wrong = token();
  wrong[5] = wrong[5] == 'a' ? 'b' : 'a';
  for (const std::string& t : {wrong, token().substr(0, 31), token() + "0", std::string("x")}) {
    const RawReply raw = http(port(), "POST", "/api/command", t, R"({"command": "pause"})");
    EXPECT_EQ(raw.status, 401) << t;
    EXPECT_HAS(raw.error(), "unknown or expired token");
  }
  EXPECT_TRUE(fake_.commands().empty());
  RemoteSession stale(server_.url(), wrong);
  EXPECT_HAS(error_of([&] { stale.status(); }), "the run refused the token: unknown or expired");
  EXPECT_HAS(error_of([&] { stale.command(SessionCommand::Stop); }), "unknown or expired token");
  EXPECT_TRUE(fake_.commands().empty());
  // The right token still works, and a path outside /api/ is simply unknown.
  EXPECT_EQ(http(port(), "GET", "/api/status", token()).status, 200);
  EXPECT_EQ(http(port(), "GET", "/", "").status, 404);
}

TEST_F(HttpLinkTest, OversizedBodyIs413AndRunsNothing) {
  // The header announces too much: refused on the length alone (the body is never parsed).
  RawReply raw =
      raw_exchange(port(),
                   "POST /api/command HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   "Authorization: Bearer " +
                       token() + "\r\nContent-Length: 100000\r\n\r\n{\"command\": \"pause\"}" +
                       std::string(100000 - 20, ' '));
  EXPECT_EQ(raw.status, 413);
  EXPECT_HAS(raw.error(), "larger than 65536 bytes");
  // A real oversized body through RemoteSession: a clear error, and the run is untouched.
  SessionExport huge;
  huge.output = "a.ply";
  huge.format = std::string(70000, 'p');
  EXPECT_HAS(error_of([&] { remote_.export_model(huge); }), "larger than 65536 bytes");
  EXPECT_TRUE(fake_.exports().empty());
  EXPECT_TRUE(fake_.commands().empty());
  EXPECT_EQ(remote_.status().iteration, 120);
}

TEST_F(HttpLinkTest, MalformedRequestsAre400NamingTheField) {
  struct Case {
    const char* method;
    const char* target;
    const char* body;
    const char* expected;
  };
  const Case cases[] = {
      {"POST", "/api/command", R"({"command": )", "not valid JSON"},
      {"POST", "/api/command", R"(["pause"])", "expected a JSON object"},
      {"POST", "/api/command", R"({})", "command: missing"},
      {"POST", "/api/command", R"({"command": 3})", "command: expected a string"},
      {"POST", "/api/command", R"({"command": "explode"})", "command: unknown command 'explode'"},
      {"POST", "/api/command", R"({"command": "pause", "force": true})", "unknown field 'force'"},
      {"POST", "/api/render", R"({})", "give \"view\""},
      {"POST", "/api/render", R"({"view": -1})", "view: -1 is out of range"},
      {"POST", "/api/render", R"({"view": 99})", "view: 99 is out of range (the scene has 3"},
      {"POST", "/api/render", R"({"view": 1.5})", "view: expected an integer"},
      {"POST", "/api/render", R"({"view": 99999999999999999999})", "view"},
      {"POST", "/api/render", R"({"camera": {"width": 10}})", "camera.height: missing"},
      {"POST", "/api/render",
       R"({"camera": {"width": 100000, "height": 10, "fx": 10, "fy": 10, "cx": 5, "cy": 5,
           "rotation": [1,0,0,0,1,0,0,0,1], "translation": [0,0,0]}})",
       "camera.width: 100000 is out of range"},
      {"POST", "/api/render",
       R"({"camera": {"width": 10, "height": 10, "fx": "a", "fy": 10, "cx": 5, "cy": 5,
           "rotation": [1,0,0,0,1,0,0,0,1], "translation": [0,0,0]}})",
       "camera.fx: expected a number"},
      {"POST", "/api/render",
       R"({"camera": {"width": 10, "height": 10, "fx": 10, "fy": 10, "cx": 5, "cy": 5,
           "rotation": [1,0,0,0,1,0,0,0], "translation": [0,0,0]}})",
       "camera.rotation: expected 9 numbers"},
      {"POST", "/api/render",
       R"({"camera": {"width": 10, "height": 10, "fx": 10, "fy": 10, "cx": 5, "cy": 5,
           "rotation": [2,0,0,0,1,0,0,0,1], "translation": [0,0,0]}})",
       "camera"},
      {"POST", "/api/export", R"({"output": 5})", "output: expected a string"},
      {"POST", "/api/export", R"({"output": "a.ply", "crop": [1, 2]})", "crop: expected"},
      {"POST", "/api/export", R"({"output": "a.ply", "crop": [0,0,0,1,1,"x"]})",
       "crop: expected a number"},
      {"GET", "/api/curve?after=abc", "", "after: 'abc' is not an integer"},
      {"GET", "/api/curve?after=-2", "", "after: -2 is out of range"},
      {"GET", "/api/curve?after=99999999999999999999", "", "after"},
      {"GET", "/api/log?after=-1", "", "after"},
      {"GET", "/api/thumbnail", "", "view: missing"},
      {"GET", "/api/thumbnail?view=0&max_side=5000", "", "max_side: 5000 is out of range"},
  };
  for (const Case& c : cases) {
    const RawReply raw = http(port(), c.method, c.target, token(), c.body);
    EXPECT_EQ(raw.status, 400) << c.target << " " << c.body << ": " << raw.body;
    EXPECT_HAS(raw.error(), c.expected);
  }
  EXPECT_TRUE(fake_.commands().empty());
  EXPECT_TRUE(fake_.renders().empty());
  EXPECT_TRUE(fake_.exports().empty());
  EXPECT_EQ(remote_.status().iteration, 120);  // still serving
}

TEST_F(HttpLinkTest, UnknownPathIs404WrongMethodIs405LongUrlIs414) {
  RawReply raw = http(port(), "GET", "/api/nothing", token());
  EXPECT_EQ(raw.status, 404);
  EXPECT_HAS(raw.error(), "no endpoint /api/nothing");
  raw = http(port(), "GET", "/api/command", token());
  EXPECT_EQ(raw.status, 405);
  EXPECT_HAS(raw.error(), "/api/command takes POST");
  EXPECT_HAS(raw.headers, "Allow: POST");
  raw = http(port(), "POST", "/api/status", token(), "{}");
  EXPECT_EQ(raw.status, 405);
  raw = http(port(), "GET", "/api/curve?after=1&pad=" + std::string(3000, 'a'), token());
  EXPECT_EQ(raw.status, 414);
  EXPECT_HAS(raw.error(), "longer than 2048 bytes");
  raw = raw_exchange(port(), "NONSENSE\r\n\r\n");
  EXPECT_EQ(raw.status, 400);
  EXPECT_EQ(remote_.status().iteration, 120);
}

// A server alone in its process (no RemoteSession to have ignored SIGPIPE): a client that closes
// its socket with most of a 6.4 MB snapshot unsent must cost the server one failed write.
TEST(HttpLinkServerTest, ClientVanishingMidSnapshotDoesNotHurtTheServer) {
  std::signal(SIGPIPE, SIG_DFL);
  FakeSessionClient fake;
  auto big = std::make_shared<SplatSnapshot>();
  big->version = 99;
  big->gaussians = testing::make_fake_gaussians(200000, 0);
  fake.set_snapshot(big);
  HttpLinkServer server(fake);
  const std::string request =
      "GET /api/snapshot?newer_than=0 HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " +
      server.token() + "\r\n\r\n";
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int fd = connect_loopback(server.port());
    send_all(fd, request);
    char head[64];
    size_t got = 0;
    while (got < sizeof(head)) {
      const ssize_t n = recv(fd, head + got, sizeof(head) - got, 0);
      ASSERT_GT(n, 0);
      got += static_cast<size_t>(n);
    }
    EXPECT_EQ(std::string(head, 12), "HTTP/1.1 200");
    close(fd);
  }
  const RawReply status = http(server.port(), "GET", "/api/status", server.token());
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(nlohmann::json::parse(status.body).at("snapshot_version"), 99);
  RemoteSession remote(server.url(), server.token());
  const auto snapshot = remote.snapshot(0);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->gaussians.size(), 200000u);
  EXPECT_EQ(snapshot->gaussians.means, big->gaussians.means);
}

TEST_F(HttpLinkTest, TwoRemoteSessionsPollAtOnce) {
  RemoteSession other(server_.url(), token());
  std::atomic<int> failures{0}, polls{0};
  auto poll = [&](RemoteSession& remote) {
    try {
      for (int i = 0; i < 25; ++i) {
        bool ok = remote.status().iteration == 120;
        ok = ok && remote.curve(-1).size() == 10;
        const auto snapshot = remote.snapshot(0);
        ok = ok && snapshot != nullptr && snapshot->gaussians.size() == 50;
        ok = ok && remote.log(2).size() == 3;
        ok = ok && remote.render(fake_.scene().views[0].camera, 0).view_index == 0;
        failures += ok ? 0 : 1;
        ++polls;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      ++failures;
    }
  };
  std::thread a(poll, std::ref(remote_)), b(poll, std::ref(other));
  // A third thread on the first session at the same time (RemoteSession is thread-safe).
  std::thread c(poll, std::ref(remote_));
  a.join(), b.join(), c.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(polls, 75);
  EXPECT_EQ(fake_.renders().size(), 75u);
}

TEST_F(HttpLinkTest, StoppedServerGivesLostConnection) {
  EXPECT_EQ(remote_.status().iteration, 120);  // a kept-alive connection exists
  server_.stop();
  server_.stop();  // idempotent
  const std::string expected = "lost the connection to " + server_.url();
  EXPECT_HAS(error_of([&] { remote_.status(); }), expected);
  EXPECT_HAS(error_of([&] { remote_.snapshot(0); }), expected);
  EXPECT_HAS(error_of([&] { remote_.command(SessionCommand::Pause); }), expected);
  EXPECT_TRUE(fake_.commands().empty());
}

// ------------------------------------------------------------------------------------------------
// Binding

TEST(HttpLinkServerTest, NonLoopbackHostIsRefusedWithoutAllowRemote) {
  FakeSessionClient fake;
  HttpLinkOptions options;
  options.host = "0.0.0.0";
  EXPECT_HAS(error_of([&] { HttpLinkServer server(fake, options); }), "not a loopback address");
  // Allowed, an address that is not this machine's cannot be bound: the message names it.
  options.host = "192.0.2.1";
  options.allow_remote = true;
  EXPECT_HAS(error_of([&] { HttpLinkServer server(fake, options); }), "cannot listen on 192.0.2.1");
}

TEST(HttpLinkServerTest, BusyPortIsNamedAndAGivenTokenIsUsed) {
  FakeSessionClient fake;
  HttpLinkOptions options;
  options.token = "my-own-token-0123456789";
  HttpLinkServer first(fake, options);
  EXPECT_EQ(first.token(), options.token);
  options.port = first.port();
  EXPECT_HAS(error_of([&] { HttpLinkServer second(fake, options); }),
             "cannot listen on 127.0.0.1:" + std::to_string(first.port()));
  RemoteSession remote(first.url(), options.token);
  EXPECT_EQ(remote.status().iteration, 120);
  EXPECT_HAS(error_of([&] { RemoteSession bad("http://", "t"); }), "not a link address");
}

TEST(HttpLinkServerTest, RemoteSessionWithoutARunSaysSo) {
  int port = 0;
  {
    FakeSessionClient fake;
    HttpLinkServer server(fake);
    port = server.port();
  }
  RemoteSession remote("127.0.0.1:" + std::to_string(port), "0123456789abcdef");
  EXPECT_EQ(remote.url(), "http://127.0.0.1:" + std::to_string(port));
  EXPECT_HAS(error_of([&] { remote.status(); }), "lost the connection to http://127.0.0.1:" +
                                                     std::to_string(port) + ": cannot connect");
}

}  // namespace
}  // namespace glimpse
