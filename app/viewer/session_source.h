// What the viewer opens: a dataset folder or a folder of photographs (a local Session that
// waits for Start), a run folder or a splat file (a read-only ModelSession), or a running
// session over the HTTP link (RemoteSession).
#pragma once

#include "app/session.h"
#include "app/session_client.h"
#include "app/train_config.h"

#include <memory>
#include <string>

namespace glimpse::viewer {

struct OpenedSession {
  std::shared_ptr<SessionClient> client;
  Session* local = nullptr;  // the same object when it is a local session (views, settings)
  std::string kind;          // "dataset", "model", "remote"
};

// What `path` is, without opening it: "model" (a splat file by name or content, or a run folder
// with point_cloud/iteration_N/), "dataset" (any other folder), or throws glimpse::Error naming
// the path when it does not exist or is a file of no splat format.
std::string classify_path(const std::string& path);

// Opens `path` (see classify_path). A dataset starts loading at once on the session's worker
// with `base` (dataset set to `path`; output: `base.output`, else a new folder under the
// temporary directory) and waits for Start. Throws glimpse::Error naming the path when a model
// does not load; a dataset's own errors show as its Failed phase and log.
OpenedSession open_path(const std::string& path, const TrainConfig& base, int render_threads);

// A running session at `url` (throws for a malformed URL; connects lazily).
OpenedSession connect_remote(const std::string& url, const std::string& token);

// The output folder a viewer run of `dataset` writes to when none is given:
// <temp>/glimpse-viewer/<dataset name>-<yyyymmdd-hhmmss>.
std::string default_output_for(const std::string& dataset);

}  // namespace glimpse::viewer
