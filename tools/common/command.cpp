#include "command.hpp"

#include <iostream>

#include "hloc/contract/json_writer.hpp"

namespace hloc::tools {

int report(const Error& error) {
    std::cerr << contract::to_text(contract::error_json(error)) << "\n";
    return 2;
}

int run_command(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return e.get_exit_code() == 0 ? 0 : 1;
    }
    try {
        return body();
    } catch (const Error& e) {
        return report(e);
    } catch (const std::exception& e) {
        return report(Error(ErrorCode::internal, e.what()));
    }
}

}  // namespace hloc::tools
