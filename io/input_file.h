// Opening an input file with errors that name the file and the problem.
#pragma once

#include <fstream>
#include <string>

namespace glimpse {

// Opens `path` for binary reading; throws glimpse::Error "cannot read <path>: file does not exist
// / it is a folder / cannot open it (permissions?)".
std::ifstream open_input_file(const std::string& path);

}  // namespace glimpse
