// Fuzz target: the `glimpse train` configuration JSON (app/train_config.h load_train_config, which
// parses the file and applies it with TrainConfig::update_from_json). A configuration it accepts
// must survive its own round trip: update_from_json(to_json()) of it may not throw.
#include "app/train_config.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = (glimpse::fuzz::scratch_dir() / "config.json").string();
  glimpse::fuzz::write_file(path, data, size);
  glimpse::TrainConfig config;
  try {
    config = glimpse::load_train_config(path);
  } catch (const glimpse::Error&) {
    return 0;
  }
  glimpse::TrainConfig again;
  again.update_from_json(config.to_json(), "round trip");  // an Error here is a finding
  return 0;
}
