#!/usr/bin/python3
"""The HTTP service end to end: the real hospital-locator-serve on an ephemeral loopback port,
real clients (http.client and raw sockets), exact expected answers.

Oracles: the CLI (`hospital-locator ... --format json`) over the same index gives the same JSON
shape and values; a few answers are also written out literally (Chester's phone, CH4 7QP's grid
reference). Every JSON answer is validated against the schema that /openapi.json gives for its
route and status.

    serve_test.py --server BIN --cli BIN --gb-index FILE --tiny-index FILE --work DIR [unittest args]
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

import jsonschema

ARGS = None
START_TIMEOUT_S = 60  # an ASan build loads the GB index slowly


class Server:
    """One running hospital-locator-serve; stderr goes to a file the tests read."""

    def __init__(self, index, *extra, name="server", wrapper=(), env=None, listen="127.0.0.1:0"):
        os.makedirs(ARGS.work, exist_ok=True)
        self.stderr_path = os.path.join(ARGS.work, f"{name}-{os.getpid()}-{time.monotonic_ns()}.err")
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [*wrapper, ARGS.server, "--index", index, "--listen", listen, "--threads", "2", *extra],
            stdout=subprocess.DEVNULL, stderr=self.stderr, env=None if env is None else {**os.environ, **env})
        deadline = time.monotonic() + START_TIMEOUT_S
        self.port = None
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited {self.proc.returncode}: {self.log()}")
            time.sleep(0.02)
        if self.port is None:
            self.proc.kill()
            raise AssertionError("the server did not start: " + self.log())

    def log(self):
        with open(self.stderr_path) as f:
            return f.read()

    def request(self, method, target, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def get_json(self, target):
        status, headers, body = self.request("GET", target)
        return status, json.loads(body)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("the server did not stop within %d s" % timeout)
        self.stderr.close()
        return self.proc.returncode


def cli_json(index, *args):
    """The CLI's JSON for the same question: the answer on stdout, or the error on stderr."""
    p = subprocess.run([ARGS.cli, "--index", index, *args, "--format", "json"], capture_output=True, text=True)
    return json.loads(p.stdout if p.returncode == 0 else p.stderr)


def q(text):
    return urllib.parse.quote(text, safe="")


class OpenApi:
    """Response schemas from the served document, with $refs resolved inside it."""

    def __init__(self, doc):
        self.doc = doc

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            node = self.pointer(node["$ref"])
        return node

    def pointer(self, ref):
        assert ref.startswith("#/"), ref
        node = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def validator(self, schema):
        # The schema is wrapped with the document's components so "#/components/..." resolves.
        return jsonschema.Draft202012Validator({"allOf": [schema], "components": self.doc["components"]})

    def check(self, test, method, path, status, body):
        """The answer must be described: path, method and this exact status (errors refused
        before routing are checked against the Error schema)."""
        if path is None:
            schema = {"$ref": "#/components/schemas/Error"}
        else:
            op = self.doc["paths"][path][method.lower()]
            test.assertIn(str(status), op["responses"], f"{method} {path} {status} is not in the OpenAPI document")
            response = self.resolve(op["responses"][str(status)])
            schema = response["content"]["application/json"]["schema"]
        errors = sorted(self.validator(schema).iter_errors(body), key=str)
        test.assertEqual([], [f"{list(e.absolute_path)}: {e.message}" for e in errors],
                         f"{method} {path} {status}: {json.dumps(body)[:400]}")


class ServedCase(unittest.TestCase):
    """A GB server shared by the read-only tests of a class."""

    index_attr = "gb_index"
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.index = getattr(ARGS, cls.index_attr)
        cls.server = Server(cls.index, *cls.extra_args, name=cls.__name__)
        status, _, body = cls.server.request("GET", "/openapi.json")
        assert status == 200
        cls.openapi = OpenApi(json.loads(body))

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0, cls.server.log()

    def call(self, method, target, path, body=None, headers=None, expect=200):
        """One request whose answer is checked against the document; returns the parsed JSON."""
        status, resp_headers, raw = self.server.request(method, target, body=body, headers=headers)
        self.assertEqual(expect, status, raw[:400])
        self.assertEqual("application/json", resp_headers.get("Content-Type"))
        self.assertEqual(str(len(raw)), resp_headers.get("Content-Length"))
        data = json.loads(raw)
        self.openapi.check(self, method, path, status, data)
        return data

    def error(self, method, target, path, status, code, body=None, headers=None):
        data = self.call(method, target, path, body=body, headers=headers, expect=status)
        self.assertEqual(code, data["error"]["code"])
        self.assertEqual(status, data["error"]["status"])
        return data


class Routes(ServedCase):
    """Every route, answers checked exactly and against the CLI."""

    def test_nearest_to_chester_hospital_postcode_is_chester_at_distance_zero(self):
        data = self.call("GET", "/v1/nearest?postcode=CH4%207QP", "/v1/nearest")
        self.assertEqual(data, cli_json(self.index, "nearest", "CH4 7QP"))
        first = data["results"][0]
        self.assertEqual("chester", first["site"]["id"])
        self.assertEqual({"metres": 0.0, "km": 0.0, "miles": 0.0}, first["distance"])
        self.assertEqual({"display": "01244 680444", "e164": "+441244680444", "uri": "tel:+44-1244-680444",
                          "source": "listing"}, first["phone"])
        self.assertEqual(3, len(data["results"]))
        self.assertEqual({"input": "CH4 7QP", "postcode": "CH4 7QP", "match": "unit", "lat": 53.1763575,
                          "lon": -2.8952629}, data["query"])

    def test_nearest_takes_k_max_distance_and_forgiving_postcodes(self):
        data = self.call("GET", "/v1/nearest?postcode=ch47qp&k=5", "/v1/nearest")
        self.assertEqual(data, cli_json(self.index, "nearest", "ch47qp", "--k", "5"))
        self.assertEqual(5, len(data["results"]))
        self.assertEqual("chester", data["results"][0]["site"]["id"])
        near = self.call("GET", "/v1/nearest?postcode=CH4+7QP&max_miles=0.5", "/v1/nearest")
        self.assertEqual(near, cli_json(self.index, "nearest", "CH4 7QP", "--max-miles", "0.5"))
        self.assertEqual(["chester"], [r["site"]["id"] for r in near["results"]])
        near_km = self.call("GET", "/v1/nearest?postcode=CH4%207QP&max_km=1&k=10", "/v1/nearest")
        self.assertEqual(["chester"], [r["site"]["id"] for r in near_km["results"]])

    def test_nearest_to_a_point_and_to_a_sector_fallback(self):
        data = self.call("GET", "/v1/nearest?lat=51.5&lon=-0.1&k=2", "/v1/nearest")
        self.assertEqual(data, cli_json(self.index, "nearest", "--lat", "51.5", "--lon", "-0.1", "--k", "2"))
        self.assertEqual("point", data["query"]["match"])
        self.assertEqual(["brentwood", "haywards-heath"], [r["site"]["id"] for r in data["results"]])
        fallback = self.call("GET", "/v1/nearest?postcode=CH4%207ZZ", "/v1/nearest")
        self.assertEqual("sector", fallback["query"]["match"])
        self.assertEqual("CH4 7", fallback["query"]["postcode"])
        self.assertEqual(fallback, cli_json(self.index, "nearest", "CH4 7ZZ"))

    def test_lookup_gives_centroid_grid_reference_quality_and_country(self):
        data = self.call("GET", "/v1/postcodes/CH4%207QP", "/v1/postcodes/{postcode}")
        self.assertEqual({"input": "CH4 7QP", "postcode": "CH4 7QP", "match": "unit", "located": True,
                          "lat": 53.1763575, "lon": -2.8952629, "eastings": 340260.0, "northings": 364734.0,
                          "grid": "EPSG:27700",
                          "quality": 10, "country": "England"}, data)
        sector = self.call("GET", "/v1/postcodes/CH4%207ZZ", "/v1/postcodes/{postcode}")
        self.assertEqual(sector, cli_json(self.index, "lookup", "CH4 7ZZ"))
        self.assertEqual(205, sector["postcode_count"])

    def test_reverse_gives_the_nearest_postcodes_with_distances(self):
        data = self.call("GET", "/v1/postcodes?lat=53.17&lon=-2.89&limit=2", "/v1/postcodes")
        self.assertEqual(data, cli_json(self.index, "reverse", "--lat", "53.17", "--lon", "-2.89", "--k", "2"))
        self.assertEqual(["CH4 7QQ", "CH4 7RL"], [r["postcode"] for r in data["results"]])
        self.assertEqual(670.318, data["results"][0]["distance"]["metres"])
        one = self.call("GET", "/v1/postcodes?lat=53.17&lon=-2.89", "/v1/postcodes")
        self.assertEqual(1, len(one["results"]))

    def test_sites_treatments_and_info(self):
        sites = self.call("GET", "/v1/sites", "/v1/sites")
        cli_sites = cli_json(self.index, "sites")
        self.assertEqual([s["id"] for s in cli_sites], [s["id"] for s in sites])
        self.assertEqual(10, len(sites))
        for ours, theirs in zip(sites, cli_sites):
            self.assertEqual(theirs, ours)  # the CLI's listing carries the phones too
        chester = self.call("GET", "/v1/sites/chester", "/v1/sites/{id}")
        self.assertEqual(next(s for s in sites if s["id"] == "chester"), chester)
        self.assertEqual("01244 680444", chester["phones"]["kyphoplasty"]["display"])
        self.assertEqual([{"name": "kyphoplasty", "sites": 10}], self.call("GET", "/v1/treatments", "/v1/treatments"))
        info = self.call("GET", "/v1/info", "/v1/info")
        self.assertEqual(info, cli_json(self.index, "info"))

    def test_the_openapi_document_is_well_formed_and_lists_every_route(self):
        doc = self.openapi.doc
        self.assertEqual("3.1.0", doc["openapi"])
        self.assertEqual({"/v1/nearest", "/v1/postcodes/{postcode}", "/v1/postcodes", "/v1/sites", "/v1/sites/{id}",
                          "/v1/treatments", "/v1/info", "/healthz", "/readyz", "/metrics", "/openapi.json",
                          "/admin/reload"}, set(doc["paths"]))
        refs = []

        def walk(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    refs.append(node["$ref"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(doc)
        self.assertGreater(len(refs), 50)
        for ref in refs:
            self.openapi.pointer(ref)  # every reference resolves
        for name, schema in doc["components"]["schemas"].items():
            jsonschema.Draft202012Validator.check_schema(schema)
        for path, item in doc["paths"].items():
            for method, op in item.items():
                self.assertIn("operationId", op)
                for param in op.get("parameters", []):
                    self.assertIn(param["in"], ("query", "path"))
                    if param["in"] == "path":
                        self.assertTrue(param["required"])
                        self.assertIn("{%s}" % param["name"], path)
                for status, response in op["responses"].items():
                    response = self.openapi.resolve(response)
                    self.assertIn("description", response)
                    for media in response["content"].values():
                        jsonschema.Draft202012Validator.check_schema(media["schema"])

    def test_health_readiness_and_the_openapi_document(self):
        self.assertEqual({"status": "ok"}, self.call("GET", "/healthz", "/healthz"))
        ready = self.call("GET", "/readyz", "/readyz")
        self.assertEqual({"status": "ready", "checksum": cli_json(self.index, "info")["checksum"]}, ready)
        self.assertEqual("3.1.0", self.call("GET", "/openapi.json", "/openapi.json")["openapi"])

    def test_bulk_nearest_answers_each_item_in_order_and_one_bad_item_fails_alone(self):
        items = [{"postcode": "CH4 7QP", "k": 1}, {"postcode": "not a postcode"}, 42,
                 {"lat": 51.5, "lon": -0.1, "k": 2}, {"postcode": "BT1 1AA"}, {"postcode": "CH4 7QP", "k": 0},
                 {"postcode": "CH4 7QP", "colour": "red"}, {"postcode": "SO53 2DW", "treatment": "kyphoplasty"}]
        data = self.call("POST", "/v1/nearest", "/v1/nearest", body=json.dumps(items),
                         headers={"Content-Type": "application/json"})
        self.assertEqual(len(items), len(data))
        self.assertEqual(data[0], cli_json(self.index, "nearest", "CH4 7QP", "--k", "1"))
        self.assertEqual("invalid_postcode", data[1]["error"]["code"])
        self.assertEqual({"error": {"code": "invalid_parameter", "status": 400,
                                    "message": "an item must be an object with a postcode, or lat and lon"}}, data[2])
        self.assertEqual(data[3], cli_json(self.index, "nearest", "--lat", "51.5", "--lon", "-0.1", "--k", "2"))
        self.assertEqual({"code": "not_covered", "status": 422}, {k: data[4]["error"][k] for k in ("code", "status")})
        self.assertEqual("k must be a whole number between 1 and 1000 (got 0)", data[5]["error"]["message"])
        self.assertEqual("invalid_parameter", data[6]["error"]["code"])
        self.assertEqual("wessex", data[7]["results"][0]["site"]["id"])
        self.assertEqual([], self.call("POST", "/v1/nearest", "/v1/nearest", body="[]",
                                       headers={"Content-Type": "application/json; charset=utf-8"}))

    def test_bulk_lookup_answers_each_postcode_in_order(self):
        data = self.call("POST", "/v1/postcodes", "/v1/postcodes", body=json.dumps(["CH4 7QP", "XX", 7, "CH4 7ZZ"]),
                         headers={"Content-Type": "application/json"})
        self.assertEqual(data[0], cli_json(self.index, "lookup", "CH4 7QP"))
        self.assertEqual("invalid_postcode", data[1]["error"]["code"])
        self.assertEqual("an item must be a postcode string", data[2]["error"]["message"])
        self.assertEqual("sector", data[3]["match"])

    def test_bulk_lookup_of_many_postcodes_keeps_their_order(self):
        # 600 items: answered in runs of 128 on several threads, joined in order.
        postcodes = ["CH4 7QP", "XX", "SO53 2DW", "CH4 7ZZ", "G12 0PJ"] * 120
        data = self.call("POST", "/v1/postcodes", "/v1/postcodes", body=json.dumps(postcodes),
                         headers={"Content-Type": "application/json"})
        self.assertEqual(600, len(data))
        self.assertEqual(["CH4 7QP", None, "SO53 2DW", "CH4 7", "G12 0PJ"] * 120,
                         [d.get("postcode") for d in data])
        self.assertEqual(data[:5] * 120, data)

    def test_get_and_bulk_answers_match_the_cli_for_postcodes_across_the_country(self):
        postcodes = ["AB10 1AA", "ZE1 0AA", "TR18 2AA", "CT1 1AA", "LL11 1AA", "NE1 1AA", "PL6 8BG", "SW1A 1AA",
                     "G12 0PJ", "BS1 1AA"]
        bulk = self.call("POST", "/v1/nearest", "/v1/nearest",
                         body=json.dumps([{"postcode": p, "k": 10} for p in postcodes]),
                         headers={"Content-Type": "application/json"})
        for postcode, from_bulk in zip(postcodes, bulk):
            expected = cli_json(self.index, "nearest", postcode, "--k", "10")
            self.assertEqual(expected, from_bulk, postcode)
            self.assertEqual(expected, self.call("GET", "/v1/nearest?k=10&postcode=" + q(postcode), "/v1/nearest"))

    def test_bulk_of_a_thousand_postcodes(self):
        postcodes = ["CH4 7QP", "SO53 2DW", "G12 0PJ", "TS20 1PX"] * 250
        data = self.call("POST", "/v1/nearest", "/v1/nearest",
                         body=json.dumps([{"postcode": p} for p in postcodes]),
                         headers={"Content-Type": "application/json"})
        self.assertEqual(["chester", "wessex", "glasgow", "tees"] * 250,
                         [d["results"][0]["site"]["id"] for d in data])

    def test_head_and_options_and_headers(self):
        status, headers, body = self.server.request("HEAD", "/v1/sites/chester")
        self.assertEqual(200, status)
        self.assertEqual(b"", body)
        _, _, full = self.server.request("GET", "/v1/sites/chester")
        self.assertEqual(str(len(full)), headers["Content-Length"])
        self.assertEqual("public, max-age=300", headers["Cache-Control"])
        status, headers, body = self.server.request("OPTIONS", "/v1/nearest")
        self.assertEqual((204, b""), (status, body))
        self.assertEqual("GET, HEAD, POST, OPTIONS", headers["Allow"])
        _, headers, _ = self.server.request("GET", "/healthz")
        self.assertEqual("no-store", headers["Cache-Control"])

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        for postcode, site in [("CH4 7QP", "chester"), ("SO53 2DW", "wessex")] * 20:
            conn.request("GET", "/v1/nearest?k=1&postcode=" + q(postcode))
            r = conn.getresponse()
            self.assertEqual(site, json.loads(r.read())["results"][0]["site"]["id"])
            self.assertIsNone(r.getheader("Connection"))
        conn.close()


class Errors(ServedCase):
    """Every error status, always the JSON error object, checked against the document."""

    extra_args = ("--max-body-bytes", "4000", "--max-bulk-items", "5", "--max-url-bytes", "1000",
                  "--max-header-bytes", "2000")

    def test_bad_postcodes_and_parameters_are_400_and_say_why(self):
        e = self.error("GET", "/v1/nearest?postcode=XX", "/v1/nearest", 400, "invalid_postcode")
        self.assertEqual("'XX' is not a valid UK postcode: it has no digits", e["error"]["message"])
        e = self.error("GET", "/v1/nearest?postcode=CH4%207QP&k=0", "/v1/nearest", 400, "invalid_parameter")
        self.assertEqual("k must be a whole number between 1 and 1000 (got 0)", e["error"]["message"])
        e = self.error("GET", "/v1/nearest?postcode=CH4%207QP&k=three", "/v1/nearest", 400, "invalid_parameter")
        self.assertEqual("k must be a number (got 'three')", e["error"]["message"])
        e = self.error("GET", "/v1/nearest?postcode=CH4%207QP&colour=red", "/v1/nearest", 400, "invalid_parameter")
        self.assertEqual("unknown parameter 'colour' (expected postcode, lat, lon, k, treatment, max_miles, max_km)",
                         e["error"]["message"])
        e = self.error("GET", "/v1/nearest", "/v1/nearest", 400, "invalid_parameter")
        self.assertEqual("give a postcode, or lat and lon", e["error"]["message"])
        e = self.error("GET", "/v1/nearest?postcode=CH4%207QP&lat=1&lon=1", "/v1/nearest", 400, "invalid_parameter")
        self.assertEqual("give a postcode or lat and lon, not both", e["error"]["message"])
        e = self.error("GET", "/v1/nearest?postcode=CH4%207QP&max_miles=1&max_km=1", "/v1/nearest", 400,
                       "invalid_parameter")
        self.assertEqual("give max_miles or max_km, not both", e["error"]["message"])
        e = self.error("GET", "/v1/nearest?lat=-2.89&lon=53.17", "/v1/nearest", 400, "invalid_parameter")
        self.assertIn("looks swapped", e["error"]["message"])
        e = self.error("GET", "/v1/nearest?postcode=CH4%207QP&k=1&k=2", "/v1/nearest", 400, "invalid_parameter")
        self.assertEqual("parameter 'k' is given more than once", e["error"]["message"])
        self.error("GET", "/v1/nearest?postcode=%ZZ", "/v1/nearest", 400, "invalid_parameter")
        self.error("GET", "/v1/nearest?postcode=%FF%FE", "/v1/nearest", 400, "invalid_postcode")
        self.error("GET", "/v1/postcodes?lat=53", "/v1/postcodes", 400, "invalid_parameter")
        e = self.error("GET", "/v1/postcodes?lat=53&lon=-2&limit=1001", "/v1/postcodes", 400, "invalid_parameter")
        self.assertEqual("limit must be a whole number between 1 and 1000 (got 1001)", e["error"]["message"])

    def test_unknown_postcodes_sites_treatments_and_routes_are_404(self):
        e = self.error("GET", "/v1/postcodes/ZE9%209ZZ", "/v1/postcodes/{postcode}", 404, "postcode_not_found")
        self.assertEqual(e, cli_json(self.index, "lookup", "ZE9 9ZZ"))
        self.error("GET", "/v1/nearest?postcode=CH4%207QP&treatment=acupuncture", "/v1/nearest", 404,
                   "unknown_treatment")
        self.error("GET", "/v1/sites/nowhere", "/v1/sites/{id}", 404, "unknown_site")
        e = self.error("GET", "/v2/nearest", None, 404, "not_found")
        self.assertEqual("no route /v2/nearest; see /openapi.json", e["error"]["message"])
        self.error("GET", "/v1/sites/chester/beds", None, 404, "not_found")
        self.error("POST", "/admin/reload", None, 404, "not_found")  # not enabled here

    def test_northern_ireland_is_422_not_covered(self):
        e = self.error("GET", "/v1/nearest?postcode=BT1%201AA", "/v1/nearest", 422, "not_covered")
        self.assertEqual(e, cli_json(self.index, "nearest", "BT1 1AA"))
        self.error("GET", "/v1/postcodes/BT1%201AA", "/v1/postcodes/{postcode}", 422, "not_covered")

    def test_wrong_method_is_405_with_allow(self):
        status, headers, body = self.server.request("DELETE", "/v1/nearest")
        self.assertEqual(405, status)
        self.assertEqual("GET, HEAD, POST, OPTIONS", headers["Allow"])
        self.openapi.check(self, "DELETE", None, 405, json.loads(body))
        self.assertEqual("method_not_allowed", json.loads(body)["error"]["code"])
        status, headers, _ = self.server.request("POST", "/v1/sites")
        self.assertEqual((405, "GET, HEAD, OPTIONS"), (status, headers["Allow"]))

    def test_bodies_over_the_limits_are_413_and_non_json_is_415(self):
        big = json.dumps([{"postcode": "CH4 7QP", "treatment": "x" * 900}] * 5)
        self.assertGreater(len(big), 4000)
        self.error("POST", "/v1/nearest", None, 413, "payload_too_large", body=big,
                   headers={"Content-Type": "application/json"})
        e = self.error("POST", "/v1/nearest", "/v1/nearest", 413, "too_many_items",
                       body=json.dumps([{"postcode": "CH4 7QP"}] * 6), headers={"Content-Type": "application/json"})
        self.assertEqual("at most 5 items per request (got 6)", e["error"]["message"])
        self.error("POST", "/v1/postcodes", "/v1/postcodes", 415, "unsupported_media_type", body="CH4 7QP",
                   headers={"Content-Type": "text/plain"})
        self.error("POST", "/v1/nearest", "/v1/nearest", 415, "unsupported_media_type", body="[]")
        self.error("POST", "/v1/nearest", "/v1/nearest", 400, "invalid_json", body="[{",
                   headers={"Content-Type": "application/json"})
        self.error("POST", "/v1/nearest", "/v1/nearest", 400, "invalid_json", body='{"postcode": "CH4 7QP"}',
                   headers={"Content-Type": "application/json"})
        # The server is still fine after the refusals.
        self.call("GET", "/healthz", "/healthz")

    def test_long_urls_are_414_and_large_headers_431(self):
        self.error("GET", "/v1/nearest?postcode=" + "A" * 1200, None, 414, "uri_too_long")
        self.error("GET", "/v1/nearest?postcode=CH4%207QP", None, 431, "headers_too_large",
                   headers={"X-Padding": "p" * 3500})
        self.call("GET", "/v1/nearest?postcode=CH4%207QP", "/v1/nearest", headers={"X-Padding": "p" * 500})

    def test_malformed_http_is_400_as_json(self):
        for raw in [b"GET /healthz HTTP/1.x\r\n\r\n", b"NOT HTTP AT ALL\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\nHost localhost\r\n\r\n",
                    b"POST /v1/nearest HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                    b"\r\nzz\r\n[]\r\n0\r\n\r\n",
                    b"POST /v1/nearest HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]"]:
            status, body = raw_exchange(self.server.port, raw)
            self.assertEqual(400, status, raw)
            data = json.loads(body)
            self.assertEqual("bad_request", data["error"]["code"], raw)
            self.openapi.check(self, "GET", None, 400, data)


class Framing(ServedCase):
    """Hostile framing (RFC 9110/9112), over raw sockets as a careless client or an attacker
    would send it: HEAD never has a body, a length that two parsers could read differently
    closes the connection, 100-continue is answered before the body, HTTP/1.0 keep-alive says
    so."""

    extra_args = ("--max-body-bytes", "4000", "--max-url-bytes", "1000")

    def test_head_to_error_routes_has_the_get_length_and_no_body(self):
        for target, status in [("/v2/nowhere", 404), ("/v1/sites/nowhere", 404),
                               ("/v1/nearest?postcode=XX", 400), ("/v1/nearest?postcode=CH4%207QP&k=0", 400)]:
            get_status, _, get_body = self.server.request("GET", target)
            self.assertEqual(status, get_status)
            with RawConnection(self.server.port) as c:
                # Sent together: a body after the HEAD answer would be read as the next answer.
                c.send(f"HEAD {target} HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                head_status, headers = c.head()
                self.assertEqual(status, head_status, target)
                self.assertEqual(str(len(get_body)), headers["content-length"], target)
                self.assertEqual("application/json", headers["content-type"])
                self.assertEqual((200, b'{"status":"ok"}'), c.response()[::2], target)

    def test_head_refused_by_the_server_itself_has_no_body(self):
        # 414 is decided before routing; the answer closes the connection, so all that follows
        # the header must be nothing.
        with RawConnection(self.server.port) as c:
            c.send(b"HEAD /v1/nearest?postcode=" + b"A" * 1200 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
            status, headers = c.head()
            self.assertEqual(414, status)
            self.assertGreater(int(headers["content-length"]), 0)
            self.assertEqual(b"", c.read_to_eof())

    SMUGGLED = b"GET /v1/sites/chester HTTP/1.1\r\nHost: t\r\n\r\n"

    def test_ambiguous_framing_is_400_and_closes_so_a_smuggled_request_is_never_answered(self):
        post = b"POST /v1/nearest HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        chunked_body = b"2\r\n[]\r\n0\r\n\r\n"
        cases = [
            post + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked_body,
            post + b"Transfer-Encoding: chunked, identity\r\n\r\n" + chunked_body,
            post + b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body,
            post + b"Transfer-Encoding: xchunked\r\n\r\n" + chunked_body,
            post + b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n" + chunked_body,
            post + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body,
            post + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n[]",
            post + b"Content-Length: 2, 2\r\n\r\n[]",
            post + b"Content-Length: 2\r\nContent-Length: 0\r\n\r\n[]",
            b"POST /v1/nearest HTTP/1.0\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunked_body,
        ]
        for raw in cases:
            with RawConnection(self.server.port) as c:
                c.send(raw + self.SMUGGLED)
                everything = c.read_to_eof()
            self.assertEqual(1, len(re.findall(rb"HTTP/1\.1 \d{3} ", everything)), (raw, everything[:600]))
            self.assertTrue(everything.startswith(b"HTTP/1.1 400 "), (raw, everything[:300]))
            head, _, body = everything.partition(b"\r\n\r\n")
            self.assertIn(b"\r\nConnection: close\r\n", head + b"\r\n")
            data = json.loads(body)
            self.assertEqual("bad_request", data["error"]["code"], raw)
            self.assertTrue(data["error"]["message"].startswith("malformed HTTP request: "), data)
            self.openapi.check(self, "POST", None, 400, data)
        # A plain chunked body is still read, and the request after it answered.
        with RawConnection(self.server.port) as c:
            c.send(post + b"Transfer-Encoding: chunked\r\n\r\n" + chunked_body + self.SMUGGLED)
            self.assertEqual((200, b"[]"), c.response()[::2])
            self.assertEqual(200, c.response()[0])

    def test_out_of_range_numbers_in_a_bulk_body_are_400_never_500(self):
        json_type = {"Content-Type": "application/json"}
        for body in ["1e309", '{"postcode":"CH4 7QP","k":1e400}', '[{"postcode":"CH4 7QP","k":1e400}]',
                     '[{"lat":1e309,"lon":0}]', '["CH4 7QP", -1e999]']:
            for path in ["/v1/nearest", "/v1/postcodes"]:
                e = self.error("POST", path, path, 400, "invalid_json", body=body, headers=json_type)
                self.assertIn("number overflow", e["error"]["message"], body)
        # A k that is a number but not a count: the item fails with the contract's own message,
        # the one GET gives, and the request is still answered.
        for k in ["2.5", "1e300", "-3"]:
            expected = self.error("GET", "/v1/nearest?postcode=CH4%207QP&k=" + k, "/v1/nearest", 400,
                                  "invalid_parameter")
            self.assertTrue(expected["error"]["message"].startswith("k must be a whole number between 1 and 1000"))
            items = self.call("POST", "/v1/nearest", "/v1/nearest", body='[{"postcode":"CH4 7QP","k":%s}]' % k,
                              headers=json_type)
            self.assertEqual([expected], items, k)

    def test_expect_100_continue_is_answered_before_the_body_is_sent(self):
        body = json.dumps([{"postcode": "CH4 7QP", "k": 1}]).encode()
        with RawConnection(self.server.port, timeout=5) as c:
            c.send(b"POST /v1/nearest HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                   b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
            status, headers = c.head()  # before any body byte is sent
            self.assertEqual((100, {}), (status, headers))
            c.send(body)
            status, _, answer = c.response()
            self.assertEqual(200, status)
            self.assertEqual("chester", json.loads(answer)[0]["results"][0]["site"]["id"])
            # The connection goes on.
            c.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertEqual(200, c.response()[0])

    def test_expect_100_continue_refused_requests_get_their_final_status_unread(self):
        cases = [  # target, content type, content length, status, code
            ("/v1/nearest", "application/json", 5000, 413, "payload_too_large"),
            ("/v1/nearest", "text/plain", 10, 415, "unsupported_media_type"),
            ("/v2/nearest", "application/json", 10, 404, "not_found"),
            ("/v1/sites", "application/json", 10, 405, "method_not_allowed"),
        ]
        for target, content_type, length, status, code in cases:
            with RawConnection(self.server.port, timeout=5) as c:
                c.send(f"POST {target} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\n"
                       f"Expect: 100-continue\r\nContent-Length: {length}\r\n\r\n".encode())
                everything = c.read_to_eof()  # the body is never sent
            self.assertTrue(everything.startswith(b"HTTP/1.1 %d " % status), (target, everything[:300]))
            self.assertNotIn(b"100 Continue", everything)
            head, _, body = everything.partition(b"\r\n\r\n")
            self.assertIn(b"\r\nConnection: close\r\n", head + b"\r\n")
            self.assertEqual(code, json.loads(body)["error"]["code"])

    def test_expect_100_continue_from_http_1_0_is_ignored(self):
        body = b'["CH4 7QP"]'
        with RawConnection(self.server.port, timeout=5) as c:
            c.send(b"POST /v1/postcodes HTTP/1.0\r\nContent-Type: application/json\r\n"
                   b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            everything = c.read_to_eof()
        self.assertTrue(everything.startswith(b"HTTP/1.1 200 "), everything[:300])
        self.assertNotIn(b"100 Continue", everything)

    def test_http_1_0_keep_alive_is_honoured_and_said(self):
        with RawConnection(self.server.port, timeout=5) as c:
            for target in ["/healthz", "/v1/sites/chester", "/v2/nowhere"]:
                c.send(f"GET {target} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
                status, headers, _ = c.response()
                self.assertIn(status, (200, 404))
                self.assertEqual("keep-alive", headers.get("connection"), target)
            # Without keep-alive an HTTP/1.0 connection ends with the answer.
            c.send(b"GET /healthz HTTP/1.0\r\n\r\n")
            status, headers, body = c.response()
            self.assertEqual((200, "close"), (status, headers.get("connection")))
            self.assertEqual(b"", c.read_to_eof())
        with RawConnection(self.server.port, timeout=5) as c:
            c.send(b"GET /healthz HTTP/1.0\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n")
            everything = c.read_to_eof()
        self.assertEqual(1, len(re.findall(rb"HTTP/1\.1 \d{3} ", everything)), everything)
        # HTTP/1.1 keep-alive is the default and is not said.
        with RawConnection(self.server.port, timeout=5) as c:
            c.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertNotIn("connection", c.response()[1])


class NotReady(unittest.TestCase):
    """Readiness: 503 until an index is loaded, then ready after SIGHUP."""

    def test_without_an_index_data_routes_are_503_until_sighup_loads_one(self):
        path = os.path.join(ARGS.work, "not-yet.hlx")
        if os.path.exists(path):
            os.remove(path)
        server = Server(path, "--wait-for-index", name="not-ready")
        try:
            openapi = OpenApi(json.loads(server.request("GET", "/openapi.json")[2]))
            for target, route in [("/readyz", "/readyz"), ("/v1/nearest?postcode=CH4%207QP", "/v1/nearest"),
                                  ("/v1/sites", "/v1/sites")]:
                status, _, body = server.request("GET", target)
                self.assertEqual(503, status)
                self.assertEqual("not_ready", json.loads(body)["error"]["code"])
                openapi.check(self, "GET", route, 503, json.loads(body))
            self.assertEqual((200, {"status": "ok"}), server.get_json("/healthz"))
            shutil.copyfile(ARGS.tiny_index, path + ".tmp")
            os.rename(path + ".tmp", path)
            server.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: server.request("GET", "/readyz")[0] == 200)
            status, data = server.get_json("/v1/treatments")
            self.assertEqual((200, ["kyphoplasty", "spinal-injection"]), (status, [t["name"] for t in data]))
            # The second treatment's sites and phones, exactly as the CLI gives them.
            for treatment in ("spinal-injection", "kyphoplasty"):
                status, data = server.get_json("/v1/nearest?postcode=CF11%200SN&k=10&treatment=" + treatment)
                self.assertEqual((200, cli_json(path, "nearest", "CF11 0SN", "--k", "10", "--treatment", treatment)),
                                 (status, data))
        finally:
            self.assertEqual(0, server.stop(), server.log())


class SlowClients(unittest.TestCase):
    """A slowloris client is cut off with 408 while other clients are served."""

    def test_a_slow_client_gets_408_while_others_are_served(self):
        server = Server(ARGS.gb_index, "--read-timeout-ms", "600", "--idle-timeout-ms", "600", name="slowloris")
        try:
            slow = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            slow.sendall(b"GET /v1/nearest?postcode=CH4")
            started = time.monotonic()
            served = 0
            # Others are served while the slow client dribbles a byte at a time.
            while time.monotonic() - started < 1.5:
                try:
                    slow.sendall(b"%")
                except OSError:
                    break
                status, data = server.get_json("/v1/nearest?postcode=SO53%202DW&k=1")
                self.assertEqual((200, "wessex"), (status, data["results"][0]["site"]["id"]))
                served += 1
                time.sleep(0.05)
            self.assertGreater(served, 3)
            status, body = read_response(slow)
            self.assertEqual(408, status)
            self.assertEqual({"error": {"code": "request_timeout", "status": 408,
                                        "message": "the request was not received within 600 ms"}}, json.loads(body))
            self.assertEqual(b"", slow.recv(100))  # and the connection is closed
            slow.close()
            # An idle connection that never sends a byte is closed, without an answer, after
            # the idle timeout.
            idle = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            self.assertEqual(b"", idle.recv(100))
            idle.close()
        finally:
            self.assertEqual(0, server.stop(), server.log())


class SlowReaders(unittest.TestCase):
    """The write deadline follows progress: a slow but steady reader gets its whole answer, one
    that stops reading is cut after --write-timeout-ms, and the log and /metrics say so."""

    # The largest bulk answer: the maximum items, each with many results (several MB of JSON).
    BODY = json.dumps([{"postcode": p, "k": 25} for p in ["CH4 7QP", "SO53 2DW", "G12 0PJ", "TS20 1PX"] * 250]
                      ).encode()

    def request_bytes(self):
        return (b"POST /v1/nearest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(self.BODY) + self.BODY)

    def slow_socket(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)  # before connect: a small window
        s.settimeout(30)
        s.connect(("127.0.0.1", port))
        return s

    def test_a_slow_but_steady_reader_gets_every_byte_of_a_large_answer(self):
        log = os.path.join(ARGS.work, "slow-access-%d.log" % os.getpid())
        if os.path.exists(log):
            os.remove(log)
        server = Server(ARGS.gb_index, "--write-timeout-ms", "500", "--access-log", log, name="slowreader")
        try:
            status, _, fast = server.request("POST", "/v1/nearest", body=self.BODY,
                                             headers={"Content-Type": "application/json"})
            self.assertEqual(200, status)
            self.assertGreater(len(fast), 2_000_000)
            s = self.slow_socket(server.port)
            s.sendall(self.request_bytes())
            started = time.monotonic()
            data = b""
            # ~1 MB/s: the whole answer takes several times write_timeout, but no gap between
            # two reads comes near it.
            while True:
                chunk = s.recv(16384)
                if not chunk:
                    break
                data += chunk
                time.sleep(0.015)
            s.close()
            elapsed = time.monotonic() - started
            self.assertGreater(elapsed, 1.5)  # well over the 500 ms write timeout
            head, _, body = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
            self.assertEqual(len(fast), len(body))
            self.assertEqual(json.loads(fast), json.loads(body))
        finally:
            self.assertEqual(0, server.stop(), server.log())
        with open(log) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual([(200, len(fast), len(fast), False)] * 2,
                         [(x["status"], x["bytes"], x["bytes_due"], x["cut"]) for x in lines])

    def test_a_reader_that_stops_is_cut_and_the_log_and_metrics_say_so(self):
        log = os.path.join(ARGS.work, "stalled-access-%d.log" % os.getpid())
        if os.path.exists(log):
            os.remove(log)
        server = Server(ARGS.gb_index, "--write-timeout-ms", "500", "--access-log", log, name="stalled")
        try:
            s = self.slow_socket(server.port)
            s.sendall(self.request_bytes())
            s.recv(1000)  # the head arrives, then the client reads no more

            def cut_lines():
                with open(log) as f:
                    return [json.loads(line) for line in f if '"/v1/nearest"' in line]
            wait_for(lambda: len(cut_lines()) == 1, timeout=30)
            (line,) = cut_lines()
            self.assertEqual((200, True), (line["status"], line["cut"]))
            self.assertLess(line["bytes"], line["bytes_due"])
            self.assertGreater(line["bytes_due"], 2_000_000)
            _, _, metrics = server.request("GET", "/metrics")
            text = metrics.decode()
            self.assertIn("hloc_http_answers_cut_total 1\n", text)
            unsent = int(re.search(r"^hloc_http_answer_bytes_unsent_total (\d+)$", text, re.M).group(1))
            self.assertGreaterEqual(unsent, line["bytes_due"] - line["bytes"])
            s.close()
        finally:
            self.assertEqual(0, server.stop(), server.log())

    def test_a_drain_that_cuts_an_answer_says_so_and_exits_1(self):
        log = os.path.join(ARGS.work, "drain-access-%d.log" % os.getpid())
        if os.path.exists(log):
            os.remove(log)
        server = Server(ARGS.gb_index, "--write-timeout-ms", "60000", "--shutdown-timeout-ms", "500",
                        "--access-log", log, name="draincut")
        s = self.slow_socket(server.port)
        try:
            s.sendall(self.request_bytes())
            s.recv(1000)  # the answer has begun; the client stalls
            time.sleep(0.3)
            server.proc.send_signal(signal.SIGTERM)
            self.assertEqual(1, server.proc.wait(30))
            self.assertIn("stopped: the shutdown timeout cut off 1 answers and 0 requests in flight", server.log())
            self.assertNotIn("every request answered", server.log())
        finally:
            s.close()
            server.stop()
        with open(log) as f:
            (line,) = [json.loads(x) for x in f]
        self.assertTrue(line["cut"])
        self.assertLess(line["bytes"], line["bytes_due"])

    def test_a_second_signal_that_cuts_an_answer_says_so_and_exits_1(self):
        server = Server(ARGS.gb_index, "--write-timeout-ms", "60000", name="secondsignal")
        s = self.slow_socket(server.port)
        try:
            s.sendall(self.request_bytes())
            s.recv(1000)
            time.sleep(0.3)
            server.proc.send_signal(signal.SIGTERM)
            wait_for(lambda: "stopping" in server.log(), timeout=30)
            server.proc.send_signal(signal.SIGINT)
            self.assertEqual(1, server.proc.wait(30))
            self.assertIn("stopped: a second signal cut off 1 answers and 0 requests in flight", server.log())
        finally:
            s.close()
            server.stop()


class Threads(unittest.TestCase):
    """--threads has a maximum (hloc::kMaxThreads, as batch and Python) and a clear refusal."""

    def test_threads_beyond_the_maximum_are_a_usage_error(self):
        for value in ("3000", "4294967295", "257"):
            p = subprocess.run([ARGS.server, "--index", ARGS.tiny_index, "--listen", "127.0.0.1:0",
                                "--threads", value], capture_output=True, text=True, timeout=30)
            self.assertEqual(1, p.returncode, p.stderr)
            self.assertIn("--threads", p.stderr)
            self.assertIn("256", p.stderr)


class Descriptors(unittest.TestCase):
    """The connection cap fits the descriptor limit; past it idle connections are shed first,
    then new ones refused; running out of descriptors neither spins nor floods the log."""

    def cpu_seconds(self, pid):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def test_max_connections_above_the_descriptor_limit_is_capped_and_said(self):
        # 2 worker threads: 32 + 3 x 3 = 41 descriptors reserved.
        server = Server(ARGS.tiny_index, "--max-connections", "4096", name="nofile",
                        wrapper=("prlimit", "--nofile=64:64"))
        try:
            self.assertIn("with 2 threads, at most 23 connections (--max-connections 4096 capped: "
                          "64 descriptors, 41 reserved)", server.log())
        finally:
            self.assertEqual(0, server.stop(), server.log())
        # The soft limit is raised to the hard one first.
        server = Server(ARGS.tiny_index, "--max-connections", "4096", name="nofile",
                        wrapper=("prlimit", "--nofile=64:128"))
        try:
            self.assertIn("at most 87 connections (--max-connections 4096 capped: 128 descriptors",
                          server.log())
        finally:
            self.assertEqual(0, server.stop(), server.log())

    def test_past_the_cap_the_oldest_idle_connections_are_shed_then_new_ones_refused(self):
        server = Server(ARGS.tiny_index, "--max-connections", "4", name="shed")
        clients = []

        def served(c, close=False):
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n%s\r\n" % (b"Connection: close\r\n" if close else b""))
            return c.response()[0]
        try:
            held = []
            for _ in range(4):
                held.append(RawConnection(server.port))
                clients.append(held[-1])
                self.assertEqual(200, served(held[-1]))
                time.sleep(0.05)  # distinct idle ages
            # Two more, each served: the two connections idle longest make room, oldest first.
            newer = []
            for oldest in held[:2]:
                newer.append(RawConnection(server.port))
                clients.append(newer[-1])
                self.assertEqual(200, served(newer[-1]))
                self.assertEqual(b"", oldest.read_to_eof())
                time.sleep(0.05)
            for c in held[2:] + newer:  # the younger ones still serve
                self.assertEqual(200, served(c))
            for c in newer:
                c.sock.close()
            time.sleep(0.3)
            # With every connection busy (a request half sent), none is idle: 503.
            busy = held[2:] + [RawConnection(server.port) for _ in range(2)]
            clients += busy[2:]
            for c in busy:
                c.send(b"GET /healthz HTTP/1.1\r\n")
            time.sleep(0.3)
            with RawConnection(server.port) as c:
                self.assertEqual(503, served(c))
            for c in clients:
                c.sock.close()

            def shed_counted():
                status, _, metrics = server.request("GET", "/metrics")
                return status == 200 and "hloc_http_connections_shed_total 2\n" in metrics.decode()
            wait_for(shed_counted, timeout=30)
        finally:
            for c in clients:
                c.sock.close()
            self.assertEqual(0, server.stop(), server.log())

    def test_out_of_descriptors_the_server_backs_off_and_logs_at_a_bounded_rate(self):
        server = Server(ARGS.tiny_index, "--max-connections", "1000", "--read-timeout-ms", "30000",
                        name="emfile", wrapper=("prlimit", "--nofile=64:64"))
        clients = []
        try:
            # Each sends half a request at once, so none is idle (none can be shed): the
            # descriptors run out and accept() fails with EMFILE.
            for _ in range(100):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
                clients.append(s)
            wait_for(lambda: "accept failed" in server.log(), timeout=30)
            cpu_before = self.cpu_seconds(server.proc.pid)
            time.sleep(2.5)
            self.assertLess(self.cpu_seconds(server.proc.pid) - cpu_before, 0.5)
            self.assertLessEqual(server.log().count("accept failed"), 2, server.log())
            for s in clients:
                s.close()
            clients = []
            wait_for(lambda: server.request("GET", "/healthz", timeout=10)[0] == 200, timeout=30)
        finally:
            for s in clients:
                s.close()
            self.assertEqual(0, server.stop(), server.log())


class Garbage(unittest.TestCase):
    """Random bytes and malformed HTTP never crash or hang the server."""

    def test_random_bytes_and_truncated_requests_leave_the_server_serving(self):
        server = Server(ARGS.tiny_index, "--read-timeout-ms", "300", "--idle-timeout-ms", "300", name="garbage")
        try:
            rng = random.Random(20261125)
            templates = [b"GET /v1/nearest?postcode=CH4%207QP HTTP/1.1\r\nHost: x\r\n\r\n",
                         b"POST /v1/nearest HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
                         b"[{\"postcode\":\"CH4\"}]"]
            for i in range(150):
                kind = i % 3
                if kind == 0:
                    payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000)))
                else:
                    t = bytearray(rng.choice(templates))
                    for _ in range(rng.randint(1, 8)):  # flip, drop or duplicate bytes
                        at = rng.randrange(len(t))
                        op = rng.randrange(3)
                        if op == 0:
                            t[at] = rng.getrandbits(8)
                        elif op == 1:
                            del t[at]
                        else:
                            t.insert(at, t[at])
                    payload = bytes(t)
                with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
                    try:
                        s.sendall(payload)
                        if i % 2:
                            s.shutdown(socket.SHUT_WR)
                        while s.recv(65536):
                            pass
                    except OSError:
                        pass
                self.assertIsNone(server.proc.poll(), f"the server died on payload {i}: {payload[:80]!r}")
            self.assertEqual((200, {"status": "ok"}), server.get_json("/healthz"))
            status, data = server.get_json("/v1/nearest?postcode=CH4%207QP&treatment=kyphoplasty&k=1")
            self.assertEqual((200, "chester"), (status, data["results"][0]["site"]["id"]))
        finally:
            self.assertEqual(0, server.stop(), server.log())


class Reload(unittest.TestCase):
    """SIGHUP swaps the index under load without losing a request; a corrupt file is refused."""

    def test_sighup_under_load_loses_no_request_and_changes_the_checksum(self):
        served = os.path.join(ARGS.work, "reload.hlx")
        install(ARGS.gb_index, served)
        gb_sum = cli_json(ARGS.gb_index, "info")["checksum"]
        tiny_sum = cli_json(ARGS.tiny_index, "info")["checksum"]
        self.assertNotEqual(gb_sum, tiny_sum)
        server = Server(served, name="reload")
        try:
            load = Load(server.port, "/v1/nearest?lat=53.1763575&lon=-2.8952629&treatment=kyphoplasty&k=1")
            load.start()
            wait_for(lambda: load.count() > 50)
            seen = []
            for index, checksum in [(ARGS.tiny_index, tiny_sum), (ARGS.gb_index, gb_sum), (ARGS.tiny_index, tiny_sum)]:
                install(index, served)
                before = load.count()
                server.proc.send_signal(signal.SIGHUP)
                wait_for(lambda: server.get_json("/v1/info")[1]["checksum"] == checksum)
                wait_for(lambda: load.count() > before + 50)
                seen.append(server.get_json("/readyz")[1]["checksum"])
            load.stop()
            self.assertEqual([tiny_sum, gb_sum, tiny_sum], seen)
            self.assertEqual([], load.failures)
            self.assertGreater(load.count(), 200)
            # Every answer came whole from one index or the other: Chester is first in both.
            self.assertEqual({"chester"}, load.first_sites)
            metrics = server.request("GET", "/metrics")[2].decode()
            self.assertIn("hloc_index_reloads_total 3\n", metrics)
            self.assertIn('hloc_index_info{checksum="%s"' % tiny_sum, metrics)
        finally:
            self.assertEqual(0, server.stop(), server.log())

    def test_a_corrupt_or_truncated_replacement_is_refused_and_the_old_index_serves(self):
        served = os.path.join(ARGS.work, "corrupt.hlx")
        install(ARGS.tiny_index, served)
        tiny_sum = cli_json(ARGS.tiny_index, "info")["checksum"]
        server = Server(served, "--admin-reload", name="corrupt")
        try:
            with open(ARGS.tiny_index, "rb") as f:
                good = bytearray(f.read())
            flipped = bytearray(good)
            flipped[len(flipped) * 2 // 3] ^= 0x40
            for i, bad in enumerate([bytes(flipped), bytes(good[: len(good) // 2]), b"not an index"]):
                write_atomically(served, bad)
                server.proc.send_signal(signal.SIGHUP)
                wait_for(lambda: server.log().count("reload refused") >= i + 1)
                status, data = server.get_json("/v1/nearest?postcode=CH4%207QP&treatment=kyphoplasty&k=1")
                self.assertEqual((200, "chester"), (status, data["results"][0]["site"]["id"]))
                self.assertEqual(tiny_sum, server.get_json("/readyz")[1]["checksum"])
                # The admin route refuses it the same way, with the engine's error.
                status, _, body = server.request("POST", "/admin/reload")
                self.assertEqual(500, status)
                self.assertEqual("bad_index", json.loads(body)["error"]["code"])
            self.assertEqual(3, server.log().count("reload refused"))
            metrics = server.request("GET", "/metrics")[2].decode()
            self.assertIn("hloc_index_reload_failures_total 6\n", metrics)
            install(ARGS.tiny_index, served)
            status, _, body = server.request("POST", "/admin/reload")
            self.assertEqual((200, {"status": "reloaded", "checksum": tiny_sum, "file": served}),
                             (status, json.loads(body)))
        finally:
            self.assertEqual(0, server.stop(), server.log())


class Replicas(unittest.TestCase):
    """The recipe of tools/serve/nginx-replicas.conf, run as written: nginx in front of two
    replicas, under wrk load, loses no request while a new index is rolled to both (rename, then
    SIGHUP one replica at a time), nor while a replica is killed (SIGKILL) or stopped (SIGTERM)
    and started again, under GETs and under bulk POSTs. Without the recipe's proxy_next_upstream
    the kill costs clients 502s (and without its non_idempotent, the POSTs' kill does)."""

    TARGET = "/v1/nearest?lat=53.1763575&lon=-2.8952629&treatment=kyphoplasty&k=1"
    FAIL_TIMEOUT_S = 2  # the recipe's fail_timeout: a downed replica is tried again after it
    CLIENTS = 4  # wrk's connections: bounded load on two cores shared with nginx and two replicas
    HOLD_S = 2  # load held after each step

    def setUp(self):
        for name in ("nginx", "wrk", "recipe"):
            path = getattr(ARGS, name)
            self.assertTrue(path and os.path.isfile(path),
                            f"--{name} {path!r} is not a file (scripts/setup installs nginx-light and wrk)")
        self.root = os.path.join(ARGS.work, f"replicas-{os.getpid()}")
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        self.served = os.path.join(self.root, "hospitals.hlx")
        install(ARGS.gb_index, self.served)
        self.replicas = [Server(self.served, "--admin-reload", name=f"replica-{i}") for i in (1, 2)]
        # Bulk POSTs, as wrk sends them with this script.
        self.post_script = os.path.join(self.root, "post.lua")
        with open(self.post_script, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.body = \'[{"postcode": "CH4 7QP"}, {"lat": 51.5, "lon": -0.1}]\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')
        self.nginx = None
        self.wrk = None

    def tearDown(self):
        if self.wrk is not None and self.wrk.poll() is None:
            self.wrk.kill()
            self.wrk.wait()
        if self.nginx is not None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        for replica in self.replicas:
            replica.stop()

    def start_nginx(self):
        """The recipe with its three addresses moved to our ports, included from a main
        configuration that lets nginx run unprivileged in a directory of its own."""
        with open(ARGS.recipe) as f:
            recipe = f.read()
        self.port = free_port()
        for old, new in [("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};"),
                         ("server 127.0.0.1:8081 ", f"server 127.0.0.1:{self.replicas[0].port} "),
                         ("server 127.0.0.1:8082 ", f"server 127.0.0.1:{self.replicas[1].port} ")]:
            self.assertEqual(1, recipe.count(old), f"the recipe no longer has {old!r} once")
            recipe = recipe.replace(old, new)
        with open(os.path.join(self.root, "replicas.conf"), "w") as f:
            f.write(recipe)
        self.access_log = os.path.join(self.root, "access.log")
        root = self.root
        with open(os.path.join(root, "nginx.conf"), "w") as f:
            f.write(f"""worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  log_format upstreams '$status $upstream_addr $upstream_status';
  access_log {self.access_log} upstreams;
  client_body_temp_path {root}; proxy_temp_path {root}; fastcgi_temp_path {root};
  uwsgi_temp_path {root}; scgi_temp_path {root};
  include {root}/replicas.conf;
}}
""")
        # Until it reads the configuration, nginx reports on stderr (and warns there that it
        # cannot open the compiled-in /var/log/nginx/error.log, which is harmless).
        with open(os.path.join(root, "error.log"), "w") as stderr:
            self.nginx = subprocess.Popen([ARGS.nginx, "-c", os.path.join(root, "nginx.conf"), "-p", root],
                                          stdout=subprocess.DEVNULL, stderr=stderr)

        def answers():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/readyz")
                return conn.getresponse().status == 200
            except OSError:
                self.assertIsNone(self.nginx.poll(), "nginx exited: " + self.nginx_errors())
                return False
        wait_for(answers, timeout=20)

    def nginx_errors(self):
        with open(os.path.join(self.root, "error.log")) as f:
            return f.read()

    def access_lines(self):
        with open(self.access_log) as f:
            return f.read().splitlines()

    def start_load(self, post=False):
        # Stopped by SIGINT once the steps are done (wrk then prints its figures), so the load
        # lasts as long as the steps, however slow the build; -d only bounds a hung test.
        self.phase_start = len(self.access_lines())
        script = ["-s", self.post_script] if post else []
        target = "/v1/nearest" if post else self.TARGET
        self.wrk = subprocess.Popen([ARGS.wrk, "-t1", f"-c{self.CLIENTS}", "-d120s", "--timeout", "10s", *script,
                                     f"http://127.0.0.1:{self.port}{target}"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.hold_load()

    def hold_load(self, seconds=HOLD_S):
        """Load for `seconds` more, and at least 200 more answers."""
        before = len(self.access_lines())
        time.sleep(seconds)
        wait_for(lambda: len(self.access_lines()) >= before + 200, timeout=60)

    def stop_load(self):
        """wrk's count of requests and of every failure it can see (non-2xx/3xx answers;
        connect, read, write and timeout errors), and nginx's access-log lines of the phase."""
        self.assertIsNone(self.wrk.poll(), "wrk ended before the steps did")
        answered = len(self.access_lines())
        self.wrk.send_signal(signal.SIGINT)
        out, _ = self.wrk.communicate(timeout=30)
        self.wrk = None
        requests = re.search(r"(\d+) requests in", out)
        self.assertIsNotNone(requests, out)
        errors = {"non-2xx": 0}
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        if m:
            errors.update(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if m:
            errors["non-2xx"] = int(m.group(1))
        # wrk stops with requests in flight, which nginx logs as 499 (client closed) once it
        # sees the close: at most one per connection, after wrk was told to stop. Wait until
        # the log is still, then keep them out of the phase's lines.
        lines = self.access_lines()
        while True:
            time.sleep(0.3)
            if len(self.access_lines()) == len(lines):
                break
            lines = self.access_lines()
        tail = [line for line in lines[answered:] if not line.startswith("200 ")]
        self.assertTrue(all(line.startswith("499 ") for line in tail) and len(tail) <= self.CLIENTS, tail)
        phase = [line for line in lines[self.phase_start:answered]] + \
            [line for line in lines[answered:] if line.startswith("200 ")]
        return int(requests.group(1)), {k: v for k, v in errors.items() if v}, phase

    def checksum(self, replica):
        status, data = replica.get_json("/readyz")
        self.assertEqual(200, status, data)
        return data["checksum"]

    def test_a_rolled_index_and_a_killed_replica_lose_no_request(self):
        gb_sum = cli_json(ARGS.gb_index, "info")["checksum"]
        tiny_sum = cli_json(ARGS.tiny_index, "info")["checksum"]
        self.assertEqual([gb_sum, gb_sum], [self.checksum(r) for r in self.replicas])
        self.start_nginx()
        addresses = [f"127.0.0.1:{r.port}" for r in self.replicas]

        # (a) A new index: a new file renamed over the served path, then SIGHUP to each replica
        # in turn, the next only once /readyz shows the first serving the new checksum.
        self.start_load()
        install(ARGS.tiny_index, self.served)
        for i, replica in enumerate(self.replicas):
            replica.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: self.checksum(replica) == tiny_sum)
            self.hold_load()
            seen = [self.checksum(r) for r in self.replicas]
            self.assertEqual([tiny_sum] * (i + 1) + [gb_sum] * (1 - i), seen)
        requests, errors, rolled = self.stop_load()
        print(f"\n(a) rolled: {requests} requests, errors {errors}", file=sys.stderr)
        self.assertEqual({}, errors, f"client errors while rolling the index ({requests} requests)")
        # Not one request needed nginx's retry: each replica swapped its index failing none.
        self.assertEqual([], [line for line in rolled if not re.fullmatch(r"200 [\d.:]+ 200", line)][:5])
        self.assertEqual(set(addresses), {line.split()[1] for line in rolled})

        # (b) One replica killed outright, and started again on its port; (c) the other stopped
        # as a planned restart would (SIGTERM: it refuses new connections at once and finishes
        # those in flight), and started again; (d) a kill under bulk POSTs, which nginx resends
        # only because the recipe says non_idempotent.
        phases = [("b", 0, signal.SIGKILL, False), ("c", 1, signal.SIGTERM, False), ("d", 1, signal.SIGKILL, True)]
        for phase, i, sig, post in phases:
            self.start_load(post)
            exit_code = 0 if sig == signal.SIGTERM else -sig
            self.assertEqual(exit_code, self.replicas[i].stop(sig), self.replicas[i].log())
            self.hold_load()  # the survivor alone
            self.replicas[i] = Server(self.served, "--admin-reload", name=f"replica-{i + 1}-again",
                                      listen=addresses[i])
            self.assertEqual(tiny_sum, self.checksum(self.replicas[i]))
            # nginx tries the restarted replica again after fail_timeout; wait until it serves.
            after_restart = len(self.access_lines())
            wait_for(lambda: any(line.split()[1] == addresses[i] for line in self.access_lines()[after_restart:]),
                     timeout=self.FAIL_TIMEOUT_S + 30)
            self.hold_load()
            requests, errors, lines = self.stop_load()
            other = addresses[1 - i]
            retried = [line for line in lines if line.split()[1:3] == [f"{addresses[i]},", other]]
            print(f"({phase}) {sig.name}{' under POSTs' if post else ''}: {requests} requests, errors {errors}, "
                  f"{len(retried)} retried by nginx", file=sys.stderr)
            self.assertEqual({}, errors, f"client errors around {sig.name} ({requests} requests); "
                             f"nginx said: {self.nginx_errors()[-2000:]}")
            self.assertEqual([], [line for line in lines if not line.startswith("200 ")][:5])
            if sig == signal.SIGKILL:
                # The kill did meet requests, and nginx sent them on to the survivor: the zero
                # above is the recipe's doing, not a kill that fell between requests.
                self.assertNotEqual([], retried, "no request was retried after the kill")

        # The reload route is loopback-only, and behind the proxy every client is loopback:
        # the recipe keeps it off the proxy.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("POST", "/admin/reload")
        r = conn.getresponse()
        self.assertEqual((403, "forbidden"), (r.status, json.loads(r.read())["error"]["code"]))
        conn.close()
        status, _, body = self.replicas[0].request("POST", "/admin/reload")
        self.assertEqual((200, "reloaded"), (status, json.loads(body)["status"]))


class SlowReload(unittest.TestCase):
    """SIGHUP opens the new file on a thread of its own: while the file sits on a stalled disk
    (tests/faults/slow_open.cpp delays its open), connections are accepted and answered from the
    old index, more SIGHUPs queue one reload, and a SIGTERM is acted on at once."""

    DELAY_S = 4

    def slow_server(self, served):
        env = {"LD_PRELOAD": ARGS.slow_open, "HLOC_SLOW_OPEN_PATH": served,
               "HLOC_SLOW_OPEN_MS": str(self.DELAY_S * 1000),
               # The shim is preloaded ahead of a sanitizer runtime, which would refuse to start.
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
        return Server(served, name="slow-reload", env=env)

    def test_requests_are_answered_during_a_slow_reload_and_sighups_queue_one_more(self):
        served = os.path.join(ARGS.work, "slow-reload.hlx")
        marker = served + ".slow"
        install(ARGS.tiny_index, served)
        tiny_sum = cli_json(ARGS.tiny_index, "info")["checksum"]
        gb_sum = cli_json(ARGS.gb_index, "info")["checksum"]
        server = self.slow_server(served)
        try:
            install(ARGS.gb_index, served)
            open(marker, "w").close()
            server.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: server.log().count("reloading ") == 1)
            started = time.monotonic()
            for _ in range(3):
                server.proc.send_signal(signal.SIGHUP)
            # New connections, each accepted and answered well within the stall, by the old index.
            for _ in range(5):
                t = time.monotonic()
                status, data = server.get_json("/readyz")
                self.assertEqual((200, tiny_sum), (status, data["checksum"]))
                self.assertLess(time.monotonic() - t, 1.0)
            self.assertLess(time.monotonic() - started, self.DELAY_S - 1, "the checks ran past the stall")
            os.remove(marker)
            # The stalled reload, then one more for the three SIGHUPs that came during it.
            wait_for(lambda: server.log().count("reloaded ") == 2)
            time.sleep(0.5)
            self.assertEqual(2, server.log().count("reloading "), server.log())
            self.assertEqual(gb_sum, server.get_json("/readyz")[1]["checksum"])
            self.assertIn("hloc_index_reloads_total 2\n", server.request("GET", "/metrics")[2].decode())
        finally:
            if os.path.exists(marker):
                os.remove(marker)
            self.assertEqual(0, server.stop(), server.log())

    def test_sigterm_during_a_slow_reload_stops_at_once(self):
        served = os.path.join(ARGS.work, "slow-stop.hlx")
        marker = served + ".slow"
        install(ARGS.tiny_index, served)
        server = self.slow_server(served)
        try:
            open(marker, "w").close()
            server.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "reloading " in server.log())
            server.proc.send_signal(signal.SIGHUP)  # queued behind the stalled one: never run
            t = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            wait_for(lambda: "stopping" in server.log(), timeout=self.DELAY_S - 1)
            self.assertLess(time.monotonic() - t, 1.0)
            # The process waits for the file being read, then exits cleanly; nothing was cut.
            self.assertEqual(0, server.proc.wait(60), server.log())
            self.assertEqual(1, server.log().count("reloading "), server.log())
            self.assertIn("stopped: every request answered", server.log())
        finally:
            if os.path.exists(marker):
                os.remove(marker)
            server.stop()


class Shutdown(unittest.TestCase):
    """SIGTERM: no new connections, requests in flight are answered, exit 0."""

    def test_sigterm_completes_requests_in_flight(self):
        server = Server(ARGS.gb_index, name="shutdown")
        body = json.dumps([{"postcode": "CH4 7QP", "k": 1}] * 50).encode()
        half = len(body) // 2
        in_flight = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            s.sendall(b"POST /v1/nearest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body[:half])
            in_flight.append(s)
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(200, read_response(idle)[0])
        time.sleep(0.3)  # let the server read the halves
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "stopping" in server.log())
        self.assertEqual(b"", idle.recv(100))  # an idle keep-alive connection is closed at once
        for s in in_flight:
            s.sendall(body[half:])
        for s in in_flight:
            status, answer, headers = read_response(s, with_headers=True)
            self.assertEqual(200, status)
            self.assertEqual("close", headers.get("connection"))
            self.assertEqual(["chester"] * 50, [a["results"][0]["site"]["id"] for a in json.loads(answer)])
            s.close()
        self.assertEqual(0, server.proc.wait(60))
        self.assertIn("stopped: every request answered", server.log())
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=5).recv(1)
        server.stop()


class Metrics(unittest.TestCase):
    """Prometheus counters by route and status, histogram, index info."""

    def test_requests_are_counted_by_route_and_status(self):
        server = Server(ARGS.tiny_index, name="metrics")
        try:
            for _ in range(3):
                server.request("GET", "/v1/nearest?postcode=CH4%207QP&treatment=kyphoplasty")
            server.request("GET", "/v1/nearest?postcode=XX")
            server.request("GET", "/nowhere")
            status, headers, body = server.request("GET", "/metrics")
            self.assertEqual(200, status)
            self.assertEqual("text/plain; version=0.0.4; charset=utf-8", headers["Content-Type"])
            text = body.decode()
            self.assertIn('hloc_http_requests_total{method="GET",route="/v1/nearest",status="200"} 3\n', text)
            self.assertIn('hloc_http_requests_total{method="GET",route="/v1/nearest",status="400"} 1\n', text)
            self.assertIn('hloc_http_requests_total{method="",route="unknown",status="404"} 1\n', text)
            self.assertIn('hloc_http_request_duration_seconds_count{method="GET",route="/v1/nearest"} 4\n', text)
            self.assertIn('hloc_http_request_duration_seconds_bucket{method="GET",route="/v1/nearest",le="+Inf"} 4\n',
                          text)
            self.assertIn("hloc_http_requests_in_flight 1\n", text)  # this request
            checksum = cli_json(ARGS.tiny_index, "info")["checksum"]
            self.assertRegex(text, r'hloc_index_info\{checksum="%s",built_at="[^"]+",file="[^"]+"\} 1\n' % checksum)
            self.assertIn("hloc_index_ready 1\n", text)
        finally:
            self.assertEqual(0, server.stop(), server.log())

    def test_the_access_log_has_one_json_line_per_request(self):
        log = os.path.join(ARGS.work, "access-%d.log" % os.getpid())
        if os.path.exists(log):
            os.remove(log)
        server = Server(ARGS.tiny_index, "--access-log", log, name="access")
        try:
            server.request("GET", "/v1/postcodes/CH4%207QP")
            server.request("GET", "/v1/sites/nowhere")
        finally:
            self.assertEqual(0, server.stop(), server.log())
        with open(log) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual([("GET", "/v1/postcodes/CH4%207QP", 200), ("GET", "/v1/sites/nowhere", 404)],
                         [(x["method"], x["path"], x["status"]) for x in lines])
        for x in lines:
            self.assertEqual({"time", "method", "path", "status", "bytes", "bytes_due", "cut", "us", "remote"},
                             set(x))
            self.assertEqual((x["bytes_due"], False), (x["bytes"], x["cut"]))
            self.assertEqual("127.0.0.1", x["remote"])


class Limits(unittest.TestCase):
    """Connection limits and the CORS option."""

    def test_connections_over_the_limit_are_answered_503_and_closed(self):
        server = Server(ARGS.tiny_index, "--max-connections", "2", name="limits")
        try:
            held = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(2)]
            for s in held:  # both are open and served
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(200, read_response(s)[0])
            for s in held:  # and busy (an idle one would be shed to make room)
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
            time.sleep(0.3)
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as extra:
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                status, body, headers = read_response(extra, with_headers=True)
                self.assertEqual(503, status)
                self.assertEqual("close", headers["connection"])
                self.assertEqual({"error": {"code": "too_many_connections", "status": 503,
                                            "message": "the server has 2 connections open; retry later"}},
                                 json.loads(body))
            for s in held:
                s.close()
            # Once they are gone, new clients are served again.
            wait_for(lambda: server.request("GET", "/healthz")[0] == 200)
        finally:
            self.assertEqual(0, server.stop(), server.log())

    def test_a_cors_origin_is_sent_on_answers_and_preflights(self):
        server = Server(ARGS.tiny_index, "--cors-origin", "https://booking.example", name="cors")
        try:
            status, headers, _ = server.request("OPTIONS", "/v1/nearest",
                                                headers={"Origin": "https://booking.example",
                                                         "Access-Control-Request-Method": "POST"})
            self.assertEqual(204, status)
            self.assertEqual("https://booking.example", headers["Access-Control-Allow-Origin"])
            self.assertEqual("GET, HEAD, POST, OPTIONS", headers["Access-Control-Allow-Methods"])
            self.assertEqual("Content-Type", headers["Access-Control-Allow-Headers"])
            status, headers, _ = server.request("GET", "/v1/treatments")
            self.assertEqual((200, "https://booking.example"), (status, headers["Access-Control-Allow-Origin"]))
        finally:
            self.assertEqual(0, server.stop(), server.log())


class Load:
    """Client threads hammering one URL over keep-alive connections, recording every failure."""

    def __init__(self, port, target, threads=3):
        self.port, self.target = port, target
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.first_sites = set()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(60)

    def count(self):
        with self.lock:
            return self.ok

    def run(self):
        while not self.done.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                for _ in range(20):  # some requests per connection, then a new connection
                    conn.request("GET", self.target)
                    r = conn.getresponse()
                    body = r.read()
                    with self.lock:
                        if r.status == 200:
                            self.ok += 1
                            self.first_sites.add(json.loads(body)["results"][0]["site"]["id"])
                        else:
                            self.failures.append((r.status, body[:200]))
            except Exception as e:  # a lost request: a reset, a timeout, a half answer
                with self.lock:
                    self.failures.append(repr(e))
            finally:
                conn.close()


def install(source, target):
    """Replace the served file by rename, as a deployment would: never in place."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(source, target + ".tmp")
    os.rename(target + ".tmp", target)


def write_atomically(target, data):
    with open(target + ".tmp", "wb") as f:
        f.write(data)
    os.rename(target + ".tmp", target)


def free_port():
    """A loopback port free now (nginx needs one before it starts; the race is accepted)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def read_response(sock, with_headers=False):
    """Reads one HTTP/1.1 response with a Content-Length from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a response: %r" % data[:200])
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return (status, rest[:length], headers) if with_headers else (status, rest[:length])


class RawConnection:
    """A raw socket read as a stream: answers are taken one at a time, and bytes that arrived
    early (pipelined answers) are kept for the next."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.data = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def send(self, payload):
        self.sock.sendall(payload)

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed mid-answer: %r" % self.data[:200])
        self.data += chunk

    def head(self):
        """The next status and headers (names lower-case)."""
        while b"\r\n\r\n" not in self.data:
            self._more()
        head, _, self.data = self.data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        return status, {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}

    def response(self):
        """The next (status, headers, body), the body by its Content-Length."""
        status, headers = self.head()
        length = int(headers.get("content-length", "0"))
        while len(self.data) < length:
            self._more()
        body, self.data = self.data[:length], self.data[length:]
        return status, headers, body

    def read_to_eof(self):
        """Everything left until the server closes (the socket timeout bounds the wait)."""
        out, self.data = self.data, b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return out
            if not chunk:
                return out
            out += chunk


def raw_exchange(port, payload):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(payload)
        return read_response(s)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for name in ("--server", "--cli", "--slow-open", "--gb-index", "--tiny-index", "--work"):
        parser.add_argument(name, required=True)
    # Replicas only: nginx, wrk and the recipe it runs (tools/serve/nginx-replicas.conf).
    for name in ("--nginx", "--wrk", "--recipe"):
        parser.add_argument(name)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
