#include "openapi.hpp"

#include <nlohmann/json.hpp>

namespace hloc::serve {

namespace {

// Written as JSON so it reads as the document it is. Schemas use additionalProperties: false
// wherever the shape is fixed, so that the tests' validation catches an added or renamed
// field that the document does not describe.
constexpr const char* kDocument = R"json({
  "openapi": "3.1.0",
  "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
  "info": {
    "title": "hospital-locator",
    "version": "1",
    "summary": "The nearest hospitals offering a treatment to a UK postcode or point, with phones.",
    "description": "JSON over HTTP/1.1 with keep-alive. Distances are WGS84 geodesics; rankings are exact (ties by site id). Every error is {\"error\": {\"code\", \"message\", \"status\"}} with a stable code. Data answers carry Cache-Control max-age: the data changes only when the index is reloaded (SIGHUP).",
    "license": {"name": "Contains OS data © Crown copyright and database right (Open Government Licence)"}
  },
  "paths": {
    "/v1/nearest": {
      "get": {
        "operationId": "nearest",
        "summary": "The k nearest sites offering a treatment to a postcode, sector, outward code or point",
        "parameters": [
          {"name": "postcode", "in": "query", "description": "Postcode (any case and spacing), sector (\"CM15 8\") or outward code (\"CM15\"). Give this, or lat and lon.", "schema": {"type": "string"}},
          {"name": "lat", "in": "query", "description": "WGS84 latitude, degrees (with lon, instead of postcode)", "schema": {"type": "number", "minimum": -90, "maximum": 90}},
          {"name": "lon", "in": "query", "description": "WGS84 longitude, degrees", "schema": {"type": "number", "minimum": -180, "maximum": 180}},
          {"name": "k", "in": "query", "description": "How many sites", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 3}},
          {"name": "treatment", "in": "query", "description": "Treatment; default the index's only one", "schema": {"type": "string"}},
          {"name": "max_miles", "in": "query", "description": "Leave out sites farther than this (not with max_km)", "schema": {"type": "number", "minimum": 0}},
          {"name": "max_km", "in": "query", "description": "Leave out sites farther than this (not with max_miles)", "schema": {"type": "number", "minimum": 0}}
        ],
        "responses": {
          "200": {"description": "Ranked sites", "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NearestAnswer"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "414": {"$ref": "#/components/responses/UriTooLong"},
          "422": {"$ref": "#/components/responses/NotCovered"},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      },
      "post": {
        "operationId": "nearestBulk",
        "summary": "Many nearest queries at once: one answer or error per item, in order",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "array", "maxItems": 1000, "items": {"$ref": "#/components/schemas/NearestItem"}}}}},
        "responses": {
          "200": {"description": "One entry per item, same order: an answer, or the error for that item alone", "content": {"application/json": {"schema": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/NearestAnswer"}, {"$ref": "#/components/schemas/Error"}]}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "413": {"$ref": "#/components/responses/TooLarge"},
          "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/postcodes/{postcode}": {
      "get": {
        "operationId": "lookup",
        "summary": "A postcode's centroid, grid reference, quality and country (falling back to sector, then district)",
        "parameters": [{"name": "postcode", "in": "path", "required": true, "description": "Postcode, sector or outward code, URL-encoded (\"CH4%207QP\")", "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The postcode", "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PostcodeRecord"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "422": {"$ref": "#/components/responses/NotCovered"},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/postcodes": {
      "get": {
        "operationId": "reverse",
        "summary": "The postcodes nearest to a point",
        "parameters": [
          {"name": "lat", "in": "query", "required": true, "description": "WGS84 latitude, degrees", "schema": {"type": "number", "minimum": -90, "maximum": 90}},
          {"name": "lon", "in": "query", "required": true, "description": "WGS84 longitude, degrees", "schema": {"type": "number", "minimum": -180, "maximum": 180}},
          {"name": "limit", "in": "query", "description": "How many postcodes", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1}}
        ],
        "responses": {
          "200": {"description": "Nearest postcodes", "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReverseAnswer"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      },
      "post": {
        "operationId": "lookupBulk",
        "summary": "Many postcode lookups at once: one record or error per item, in order",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "array", "maxItems": 1000, "items": {"type": "string"}}}}},
        "responses": {
          "200": {"description": "One entry per item, same order", "content": {"application/json": {"schema": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/PostcodeRecord"}, {"$ref": "#/components/schemas/Error"}]}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "413": {"$ref": "#/components/responses/TooLarge"},
          "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/sites": {
      "get": {
        "operationId": "sites",
        "summary": "Every site in the index, with its treatments and phones",
        "responses": {
          "200": {"description": "Sites, by id", "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}, "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/SiteWithPhones"}}}}},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/sites/{id}": {
      "get": {
        "operationId": "site",
        "summary": "One site",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The site", "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SiteWithPhones"}}}},
          "404": {"$ref": "#/components/responses/NotFound"},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/treatments": {
      "get": {
        "operationId": "treatments",
        "summary": "The treatments in the index and how many sites offer each",
        "responses": {
          "200": {"description": "Treatments", "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}, "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Treatment"}}}}},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/info": {
      "get": {
        "operationId": "info",
        "summary": "What the served index holds: sources, dates, counts, checksum",
        "responses": {
          "200": {"description": "Index information", "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Info"}}}},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/healthz": {
      "get": {
        "operationId": "healthz",
        "summary": "Liveness: the process answers",
        "responses": {
          "200": {"description": "Alive", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"], "additionalProperties": false}}}},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/readyz": {
      "get": {
        "operationId": "readyz",
        "summary": "Readiness: an index is loaded and served",
        "responses": {
          "200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ready"}, "checksum": {"$ref": "#/components/schemas/Checksum"}}, "required": ["status", "checksum"], "additionalProperties": false}}}},
          "503": {"$ref": "#/components/responses/NotReady"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus metrics: requests by route and status, a latency histogram, in-flight requests, connections, index info",
        "responses": {
          "200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document",
        "responses": {
          "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "info", "paths"]}}}},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/admin/reload": {
      "post": {
        "operationId": "reload",
        "summary": "Reload the index file (only with --admin-reload, and from loopback clients). The new file is opened and verified first; a refused file leaves the old index serving.",
        "responses": {
          "200": {"description": "Reloaded", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "reloaded"}, "checksum": {"$ref": "#/components/schemas/Checksum"}, "file": {"type": "string"}}, "required": ["status", "checksum", "file"], "additionalProperties": false}}}},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "500": {"$ref": "#/components/responses/Internal"},
          "default": {"$ref": "#/components/responses/Error"}
        }
      }
    }
  },
  "components": {
    "headers": {
      "CacheControl": {"description": "public, max-age=N for data answers (they change only on reload); no-store otherwise", "schema": {"type": "string"}},
      "Allow": {"description": "The methods the path accepts", "schema": {"type": "string"}}
    },
    "responses": {
      "Error": {"description": "Any other error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "BadRequest": {"description": "invalid_postcode, invalid_parameter (the message names the parameter and why), invalid_json or bad_request (malformed HTTP)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "postcode_not_found, unknown_treatment, unknown_site, or not_found (no such route)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotCovered": {"description": "not_covered (Northern Ireland in an index built from Code-Point Open; the Channel Islands and the Isle of Man, which no source positions) or non_geographic_postcode", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Forbidden": {"description": "forbidden: not a loopback client", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "MethodNotAllowed": {"description": "method_not_allowed; the Allow header lists the methods", "headers": {"Allow": {"$ref": "#/components/headers/Allow"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Timeout": {"description": "request_timeout: the request was not received within the read timeout", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooLarge": {"description": "payload_too_large (body over --max-body-bytes) or too_many_items (over --max-bulk-items)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "UriTooLong": {"description": "uri_too_long: request target over --max-url-bytes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "UnsupportedMediaType": {"description": "unsupported_media_type: a body that is not application/json", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "HeadersTooLarge": {"description": "headers_too_large: headers over --max-header-bytes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotReady": {"description": "not_ready: no index loaded yet; too_many_connections", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Internal": {"description": "bad_index (a reload refused: the old index keeps serving), io_error, internal", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {
        "type": "object",
        "properties": {
          "error": {
            "type": "object",
            "properties": {
              "code": {"type": "string", "enum": ["invalid_postcode", "postcode_not_found", "not_covered", "invalid_parameter", "unknown_treatment", "non_geographic_postcode", "bad_index", "io_error", "bad_input", "unknown_site", "internal", "bad_request", "invalid_json", "forbidden", "not_found", "method_not_allowed", "request_timeout", "payload_too_large", "too_many_items", "uri_too_long", "unsupported_media_type", "headers_too_large", "not_ready", "too_many_connections"]},
              "message": {"type": "string", "minLength": 1},
              "status": {"type": "integer", "enum": [400, 403, 404, 405, 408, 413, 414, 415, 422, 431, 500, 503]}
            },
            "required": ["code", "message", "status"],
            "additionalProperties": false
          }
        },
        "required": ["error"],
        "additionalProperties": false
      },
      "Checksum": {"type": "string", "pattern": "^[0-9a-f]{16}$", "description": "XXH3-64 of the index payload"},
      "Match": {"type": "string", "enum": ["unit", "sector", "district", "point", "terminated"], "description": "How the query was resolved: the unit's own centroid, a sector or district centroid (asked for, or a fallback), the caller's point, or a terminated postcode's last position (an index built from ONSPD; batch marks such rows approximate)"},
      "Latitude": {"type": "number", "minimum": -90, "maximum": 90},
      "Longitude": {"type": "number", "minimum": -180, "maximum": 180},
      "Distance": {
        "type": "object",
        "properties": {"metres": {"type": "number", "minimum": 0}, "km": {"type": "number", "minimum": 0}, "miles": {"type": "number", "minimum": 0}},
        "required": ["metres", "km", "miles"],
        "additionalProperties": false
      },
      "Bearing": {
        "type": "object",
        "description": "Initial bearing from the query origin, degrees clockwise from north",
        "properties": {"degrees": {"type": "number", "minimum": 0, "maximum": 360}, "compass": {"type": "string", "enum": ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"]}},
        "required": ["degrees", "compass"],
        "additionalProperties": false
      },
      "Phone": {
        "type": "object",
        "properties": {
          "display": {"type": "string", "description": "National format, \"01277 695695\""},
          "e164": {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$"},
          "uri": {"type": "string", "pattern": "^tel:\\+"},
          "source": {"type": "string", "enum": ["listing", "provider"], "description": "listing: the treatment page's number for this site; provider: the provider's central number (the site has none listed)"}
        },
        "required": ["display", "e164", "uri", "source"],
        "additionalProperties": false
      },
      "Site": {
        "type": "object",
        "properties": {
          "id": {"type": "string"},
          "name": {"type": "string"},
          "address": {"type": "array", "items": {"type": "string"}},
          "postcode": {"type": "string"},
          "lat": {"$ref": "#/components/schemas/Latitude"},
          "lon": {"$ref": "#/components/schemas/Longitude"},
          "located_by": {"type": "string", "description": "postcode (its own listed postcode) or directory"},
          "postcode_quality": {"type": "integer", "description": "Code-Point positional quality of its postcode"},
          "treatments": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["id", "name", "address", "postcode", "lat", "lon", "located_by", "postcode_quality", "treatments"],
        "additionalProperties": false
      },
      "SiteWithPhones": {
        "type": "object",
        "properties": {
          "id": {"type": "string"},
          "name": {"type": "string"},
          "address": {"type": "array", "items": {"type": "string"}},
          "postcode": {"type": "string"},
          "lat": {"$ref": "#/components/schemas/Latitude"},
          "lon": {"$ref": "#/components/schemas/Longitude"},
          "located_by": {"type": "string"},
          "postcode_quality": {"type": "integer"},
          "treatments": {"type": "array", "items": {"type": "string"}},
          "phones": {"type": "object", "description": "The number to ring for each treatment", "additionalProperties": {"$ref": "#/components/schemas/Phone"}}
        },
        "required": ["id", "name", "address", "postcode", "lat", "lon", "located_by", "postcode_quality", "treatments", "phones"],
        "additionalProperties": false
      },
      "NearestQuery": {
        "type": "object",
        "properties": {
          "input": {"type": "string", "description": "The postcode as given; empty for a point"},
          "postcode": {"type": "string", "description": "Canonical unit, sector or district"},
          "match": {"$ref": "#/components/schemas/Match"},
          "lat": {"$ref": "#/components/schemas/Latitude"},
          "lon": {"$ref": "#/components/schemas/Longitude"},
          "note": {"type": "string", "description": "Why a fallback was used; that the postcode was terminated; or, from Northern Ireland, that distances to sites in Great Britain are straight lines across the sea"}
        },
        "required": ["input", "match", "lat", "lon"],
        "additionalProperties": false
      },
      "NearestResult": {
        "type": "object",
        "properties": {
          "rank": {"type": "integer", "minimum": 1},
          "site": {"$ref": "#/components/schemas/Site"},
          "phone": {"$ref": "#/components/schemas/Phone"},
          "distance": {"$ref": "#/components/schemas/Distance"},
          "bearing": {"$ref": "#/components/schemas/Bearing"}
        },
        "required": ["rank", "site", "phone", "distance", "bearing"],
        "additionalProperties": false
      },
      "NearestAnswer": {
        "type": "object",
        "properties": {
          "query": {"$ref": "#/components/schemas/NearestQuery"},
          "treatment": {"type": "string"},
          "results": {"type": "array", "items": {"$ref": "#/components/schemas/NearestResult"}, "description": "By geodesic distance, then site id"}
        },
        "required": ["query", "treatment", "results"],
        "additionalProperties": false
      },
      "NearestItem": {
        "type": "object",
        "description": "One query of a bulk request: postcode, or lat and lon; the other fields as in GET /v1/nearest",
        "properties": {
          "postcode": {"type": "string"},
          "lat": {"type": "number"},
          "lon": {"type": "number"},
          "k": {"type": "integer", "minimum": 1, "maximum": 1000},
          "treatment": {"type": "string"},
          "max_miles": {"type": "number", "minimum": 0},
          "max_km": {"type": "number", "minimum": 0}
        },
        "additionalProperties": false
      },
      "PostcodeRecord": {
        "type": "object",
        "properties": {
          "input": {"type": "string"},
          "postcode": {"type": "string"},
          "match": {"type": "string", "enum": ["unit", "sector", "district", "terminated"]},
          "located": {"type": "boolean", "description": "false: positional quality 90, no coordinates"},
          "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
          "lon": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
          "eastings": {"type": ["number", "null"], "description": "Metres on `grid`: British National Grid (OSGB36), or the Irish Grid (TM75) in Northern Ireland"},
          "northings": {"type": ["number", "null"]},
          "grid": {"type": ["string", "null"], "enum": ["EPSG:27700", "EPSG:29903", null], "description": "The grid of eastings and northings; null when not located"},
          "quality": {"type": "integer", "description": "Positional quality, units and terminated postcodes only: Code-Point's, or ONSPD's osgrdind times 10 (80: a terminated postcode's position from before Gridlink)"},
          "postcode_count": {"type": "integer", "description": "Located postcodes in a sector or district"},
          "country": {"type": "string", "enum": ["England", "Scotland", "Wales", "Northern Ireland", ""]},
          "terminated": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "description": "Year and month Royal Mail terminated the postcode (ONSPD); absent for a live postcode, which never answers as terminated"},
          "note": {"type": "string"}
        },
        "required": ["input", "postcode", "match", "located", "lat", "lon", "eastings", "northings", "grid", "country"],
        "additionalProperties": false
      },
      "ReverseAnswer": {
        "type": "object",
        "properties": {
          "query": {"type": "object", "properties": {"match": {"const": "point"}, "lat": {"$ref": "#/components/schemas/Latitude"}, "lon": {"$ref": "#/components/schemas/Longitude"}}, "required": ["match", "lat", "lon"], "additionalProperties": false},
          "results": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "rank": {"type": "integer", "minimum": 1},
                "postcode": {"type": "string"},
                "lat": {"$ref": "#/components/schemas/Latitude"},
                "lon": {"$ref": "#/components/schemas/Longitude"},
                "quality": {"type": "integer"},
                "distance": {"$ref": "#/components/schemas/Distance"},
                "bearing": {"$ref": "#/components/schemas/Bearing"}
              },
              "required": ["rank", "postcode", "lat", "lon", "quality", "distance", "bearing"],
              "additionalProperties": false
            }
          }
        },
        "required": ["query", "results"],
        "additionalProperties": false
      },
      "Treatment": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "sites": {"type": "integer", "minimum": 0}},
        "required": ["name", "sites"],
        "additionalProperties": false
      },
      "Info": {
        "type": "object",
        "properties": {
          "format_version": {"type": "integer"},
          "checksum": {"$ref": "#/components/schemas/Checksum"},
          "file_bytes": {"type": "integer"},
          "built_at": {"type": "string"},
          "builder": {"type": "string"},
          "transform": {"type": "string"},
          "transform_irish_grid": {"type": "string", "description": "The operation used for Northern Ireland's Irish Grid; only in an index that has Northern Ireland"},
          "sources": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {"role": {"type": "string"}, "file": {"type": "string"}, "bytes": {"type": "integer"}, "modified": {"type": "string"}, "xxh3": {"type": "string"}},
              "required": ["role", "file", "bytes"],
              "additionalProperties": false
            }
          },
          "counts": {
            "type": "object",
            "properties": {"postcodes": {"type": "integer"}, "located": {"type": "integer"}, "unlocated_quality_90": {"type": "integer"}, "terminated": {"type": "integer"}, "sectors": {"type": "integer"}, "districts": {"type": "integer"}, "sites": {"type": "integer"}},
            "required": ["postcodes", "located", "unlocated_quality_90", "terminated", "sectors", "districts", "sites"],
            "additionalProperties": false
          },
          "treatments": {"type": "array", "items": {"$ref": "#/components/schemas/Treatment"}}
        },
        "required": ["format_version", "checksum", "file_bytes", "built_at", "builder", "transform", "sources", "counts", "treatments"],
        "additionalProperties": false
      }
    }
  }
})json";

}  // namespace

std::string openapi_document() {
    // Parsed and re-dumped: a syntax slip in the literal fails every start, not a client.
    return nlohmann::ordered_json::parse(kDocument).dump();
}

}  // namespace hloc::serve
