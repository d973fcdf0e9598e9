// Names of the session's phases and commands (app/session_client.h), shared by the HTTP link's
// JSON, the viewer and the CLI.
#include "app/session_client.h"

#include "core/check.h"

#include <utility>

namespace glimpse {
namespace {

constexpr std::pair<SessionPhase, const char*> kPhaseNames[] = {
    {SessionPhase::Idle, "idle"},
    {SessionPhase::Loading, "loading"},
    {SessionPhase::Ready, "ready"},
    {SessionPhase::Initialising, "initialising"},
    {SessionPhase::DepthPriors, "depth priors"},
    {SessionPhase::Training, "training"},
    {SessionPhase::Evaluating, "evaluating"},
    {SessionPhase::Exporting, "exporting"},
    {SessionPhase::Finished, "finished"},
    {SessionPhase::Stopped, "stopped"},
    {SessionPhase::Failed, "failed"}};

constexpr std::pair<SessionCommand, const char*> kCommandNames[] = {
    {SessionCommand::Start, "start"},   {SessionCommand::Pause, "pause"},
    {SessionCommand::Resume, "resume"}, {SessionCommand::Step, "step"},
    {SessionCommand::Stop, "stop"},     {SessionCommand::Save, "save"}};

}  // namespace

const char* session_phase_name(SessionPhase phase) {
  for (const auto& [p, name] : kPhaseNames)
    if (p == phase) return name;
  return "unknown";
}

SessionPhase session_phase_from_name(const std::string& name) {
  for (const auto& [p, n] : kPhaseNames)
    if (name == n) return p;
  GLIMPSE_FAIL() << "unknown session phase '" << name << "'";
  return SessionPhase::Failed;
}

bool session_phase_is_final(SessionPhase phase) {
  return phase == SessionPhase::Finished || phase == SessionPhase::Stopped ||
         phase == SessionPhase::Failed;
}

const char* session_command_name(SessionCommand command) {
  for (const auto& [c, name] : kCommandNames)
    if (c == command) return name;
  return "unknown";
}

SessionCommand session_command_from_name(const std::string& name) {
  for (const auto& [c, n] : kCommandNames)
    if (name == n) return c;
  GLIMPSE_FAIL() << "unknown command '" << name
                 << "' (known: start, pause, resume, step, stop, save)";
  return SessionCommand::Stop;
}

}  // namespace glimpse
