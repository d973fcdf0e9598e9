// The HTTP link between a session and remote viewers: HttpLinkServer serves any SessionClient over
// a small token-protected JSON + binary API (cpp-httplib), RemoteSession is the SessionClient a
// viewer uses at the other end. The endpoints and the binary encodings are documented below.
#pragma once

#include "app/session_client.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace glimpse {

// ------------------------------------------------------------------------------------------------
// The API. Every path under /api/ needs the header `Authorization: Bearer <token>`. Errors are
// JSON {"error": "..."} with the status saying whose fault it is:
//   400 malformed request (the message names the field or parameter), 401 token missing or
//   unknown (a restarted run prints a new token), 404 unknown path, 405 wrong method, 409 the
//   session refused (a command the phase does not allow, a failed export), 413 body larger than
//   max_body_bytes, 414 URL longer than max_url_bytes, 500 internal error.
// Numbers that are NaN (unknown) are null. Binary bodies are little-endian.
//
// GET  /api/status -> {"phase": "training", "phase_detail", "phase_fraction", "paused",
//        "iteration", "total_iterations", "num_gaussians", "its_per_second", "loss", "psnr",
//        "eta_seconds", "step_ms", "phase_ms": [9 numbers], "test_psnr", "error", "dataset",
//        "output", "device", "snapshot_version", "log_sequence"}   (SessionStatus, phase by name)
// GET  /api/curve?after=N  (N >= -1, default -1) -> the points with iteration > N, as columns:
//        {"iteration": [..], "loss": [..], "psnr": [..], "num_gaussians": [..], "step_ms": [..]}
// GET  /api/tests -> {"iteration": [..], "psnr": [..], "ssim": [..]}
// GET  /api/log?after=S  (S >= 0, default 0) -> {"entries": [{"sequence", "level": "info",
//        "message"}, ..]}
// GET  /api/scene -> {"root", "format", "near_depth", "far_depth", "views": [{"index", "name",
//        "train", "test", "camera": CAMERA}, ..]}
//        CAMERA = {"width", "height", "fx", "fy", "cx", "cy", "rotation": [9 numbers, row-major
//        cam_from_world], "translation": [3 numbers]}; doubles round-trip exactly.
// GET  /api/thumbnail?view=I&max_side=S  (S in 1..4096, default 256) -> application/octet-stream,
//        the pixels 8-bit interleaved, rows top to bottom; headers X-Glimpse-Width,
//        X-Glimpse-Height, X-Glimpse-Channels.
// GET  /api/snapshot?newer_than=V  (default 0) -> 204 without a body when the newest snapshot is
//        not newer than V, else application/x-glimpse-snapshot (layout below).
// POST /api/command {"command": "pause"} -> {"ok": true}  (names of session_command_from_name)
// POST /api/render {"view": I} | {"camera": CAMERA} | both (that view with this camera) ->
//        application/x-glimpse-render (layout below). Sides are limited to kHttpMaxRenderSide.
// POST /api/export {"output": "name.ply", "format": "ply" (optional), "crop": [min x, y, z, max
//        x, y, z] (optional)} -> {"output": "<run output>/exports/name.ply"}. A remote export may
//        only name a plain file (no '/', '\\' or ".."): the server writes it into the run's
//        exports/ folder.
// Unknown fields in a request body are refused (400), so a typo never goes unnoticed.

// ------------------------------------------------------------------------------------------------
// Snapshot encoding (application/x-glimpse-snapshot), what a viewer needs to display splats:
//   offset 0   char[4]  "GLSP"
//          4   u32      format version (1)
//          8   u64      snapshot version
//          16  i32      iteration
//          20  u32      count N
//          24  N records of 32 bytes:
//              f32[3]  position                          (exact)
//              f32[3]  log scale                         (exact)
//              i8[4]   rotation w x y z: round(127 q / |q|) with the sign making w >= 0
//              u8      opacity: round(255 sigmoid(logit))
//              u8[3]   DC colour: round(255 clamp(0.5 + kShC0 f_dc, 0, 1))
// Decoding gives Gaussians with sh_degree 0 (higher bands are not sent).
struct LinkSnapshotQuantisation {
  // Opacity in sigmoid space, within half a step; decoded logits are finite (p kept in
  // [0.5/255, 254.5/255]).
  static constexpr double kOpacity = 0.5 / 255.0;
  // Colour (0.5 + kShC0 f_dc) within half a step for colours in [0, 1].
  static constexpr double kColour = 0.5 / 255.0;
  // Each component within 0.5/127, the 4-vector within 1/127: the chord |q' - q| between the unit
  // input and the normalised output (sign chosen so that q . q' >= 0) is below 2/127 < 1/63.
  static constexpr double kQuaternion = 1.0 / 63.0;
};
inline constexpr uint32_t kLinkSnapshotVersion = 1;
inline constexpr size_t kLinkSnapshotHeaderBytes = 24;
inline constexpr size_t kLinkSnapshotRecordBytes = 32;

std::string encode_link_snapshot(const SplatSnapshot& snapshot);
// Throws glimpse::Error when the bytes are not a snapshot of this version (short, wrong magic,
// count disagreeing with the size).
SplatSnapshot decode_link_snapshot(std::string_view bytes);

// ------------------------------------------------------------------------------------------------
// Render encoding (application/x-glimpse-render):
//   u32 J, then J bytes of JSON {"view_index", "iteration", "psnr", "images": [{"name", "width",
//   "height", "channels", "type", "bytes"}, ..]}, then the images' pixels back to back in the
//   listed order, interleaved, rows top to bottom. "name" is render, depth, truth or error (empty
//   images are not listed). Colour images (render, truth, error) are "u8": round(255 clamp(v, 0,
//   1)), within 0.5/255 of values in [0, 1]; depth is "f32", exact.
inline constexpr double kLinkRenderColourStep = 0.5 / 255.0;
inline constexpr int kHttpMaxRenderSide = 8192;

std::string encode_link_render(const ViewRender& render);
ViewRender decode_link_render(std::string_view bytes);  // throws glimpse::Error when malformed

// ------------------------------------------------------------------------------------------------

struct HttpLinkOptions {
  std::string host = "127.0.0.1";  // the address to listen on
  int port = 0;                    // 0: a free port (HttpLinkServer::port() says which)
  // Empty: a random 128-bit token (32 hex digits); else 16..256 visible ASCII characters.
  std::string token;
  bool allow_remote = false;          // a host that is not loopback is refused unless true
  size_t max_body_bytes = 64 * 1024;  // larger request bodies get 413 and reach no handler
  size_t max_url_bytes = 2048;        // longer request targets get 414 (256..8192)
  // Worker threads (httplib serves one connection per thread). Each kept-alive connection holds
  // one until it has been idle 2 s; a RemoteSession keeps at most 2 between calls, plus one per
  // call in flight.
  int threads = 8;

  void check() const;  // throws glimpse::Error naming the field
};

struct HostPort {
  std::string host;
  int port = 0;
};
// "127.0.0.1:7007", "localhost:7007", "[::1]:7007", ":7007" (host 127.0.0.1). Throws
// glimpse::Error quoting the text when the port is missing, not a number or outside 0..65535.
HostPort parse_host_port(const std::string& text);
// Numeric loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x) and "localhost".
bool is_loopback_host(const std::string& host);
// Equality whose time depends only on the lengths, never on where the strings first differ.
bool constant_time_equal(std::string_view a, std::string_view b);
// 128 bits from std::random_device as 32 lower-case hex digits.
std::string random_link_token();

// Serves a SessionClient over HTTP on its own threads from construction until stop() or
// destruction. Nothing a request carries can crash the server or reach the session except
// through the endpoints above; every handler catches everything.
class HttpLinkServer {
 public:
  // Binds and starts serving; throws glimpse::Error naming host:port when it cannot listen, or
  // when the options are invalid (HttpLinkOptions::check).
  HttpLinkServer(SessionClient& session, HttpLinkOptions options = {});
  ~HttpLinkServer();  // stop()
  HttpLinkServer(const HttpLinkServer&) = delete;
  HttpLinkServer& operator=(const HttpLinkServer&) = delete;

  int port() const;
  const std::string& token() const;
  std::string url() const;  // "http://127.0.0.1:7007" ("http://[::1]:7007" for IPv6)
  // Closes the listening socket and joins the threads (open keep-alive connections end within
  // 2 s). Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct RemoteTimeouts {
  double connect_seconds = 5;
  double read_seconds = 60;      // every call but export (a render of a large view takes a while)
  double export_seconds = 3600;  // an export blocks until written (meshes take minutes)
};

// The SessionClient at the viewer's end of the link. Every failure throws glimpse::Error with a
// message for the UI: "lost the connection to http://...: ..." when the run cannot be reached,
// "the run refused the token: ..." on 401, else the server's own error text. Thread-safe:
// concurrent calls use separate connections (kept alive between calls).
class RemoteSession : public SessionClient {
 public:
  // `url` is "http://host:port" (the scheme may be left out); throws glimpse::Error when it is
  // not one. Connects lazily: a run that is not there shows at the first call.
  RemoteSession(std::string url, std::string token, RemoteTimeouts timeouts = {});
  ~RemoteSession() override;
  RemoteSession(const RemoteSession&) = delete;
  RemoteSession& operator=(const RemoteSession&) = delete;

  SessionStatus status() override;
  std::vector<SessionCurvePoint> curve(int after_iteration) override;
  std::vector<SessionTestPoint> tests() override;
  std::vector<SessionLogEntry> log(uint64_t after_sequence) override;
  SessionScene scene() override;
  Image<uint8_t> thumbnail(int view_index, int max_side) override;
  // Decoded from the compact encoding: sh_degree 0, quantised as LinkSnapshotQuantisation says.
  std::shared_ptr<const SplatSnapshot> snapshot(uint64_t newer_than) override;
  void command(SessionCommand command) override;
  // Colour images come back quantised to 8 bits (kLinkRenderColourStep).
  ViewRender render(const Camera& camera, int view_index) override;
  // request.output must be a plain file name; the run writes it into <its output>/exports/.
  void export_model(const SessionExport& request) override;
  std::string describe() override;  // "remote: http://127.0.0.1:7007"

  const std::string& url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glimpse
