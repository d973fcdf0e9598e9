// Writes the checkpoint fuzz target's seed corpus (checkpoints of the tiny run of
// checkpoint_setup.h, without their CRC-32 trailer) into the folder given as the only argument.
// Generated at build/test time so that the seeds always follow the current checkpoint format.
#include "core/log.h"
#include "tests/fuzz/checkpoint_setup.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

void write_seed(const glimpse::Trainer& trainer, const std::string& metadata,
                const std::filesystem::path& path) {
  std::ostringstream out;
  trainer.save_checkpoint(out, metadata);
  std::string bytes = out.str();
  bytes.resize(bytes.size() - 4);  // the CRC-32 trailer: the fuzz target appends its own
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file) throw glimpse::Error("cannot write " + path.string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_FOLDER\n", argv[0]);
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    glimpse::set_log_level(glimpse::LogLevel::Off);
    const auto trainer = glimpse::fuzz::make_checkpoint_trainer();
    write_seed(*trainer, "", dir / "fresh.ckpt");
    trainer->step();
    write_seed(*trainer, "{\"iterations\": 20}", dir / "step1.ckpt");
    for (int i = 0; i < 4; ++i) trainer->step();  // densified, mid-epoch
    write_seed(*trainer, "{}", dir / "step5.ckpt");
    std::printf("checkpoint_seeds: wrote 3 seeds to %s\n", dir.string().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
