// The OpenAPI 3.1 document served at GET /openapi.json: every route, parameter, response and
// error of the service. Its schemas are JSON Schema 2020-12 and tests/serve validates every
// answer the service gives against them, so the document cannot drift from the code.
#pragma once

#include <string>

namespace hloc::serve {

std::string openapi_document();

}  // namespace hloc::serve
