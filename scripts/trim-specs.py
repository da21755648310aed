#!/usr/bin/env python3
"""Trim the official Vultr, DigitalOcean, Linode, Vercel and Cloudflare OpenAPI documents down to the
operations StackDock uses, and convert their request/response schemas to plain
JSON Schema.  Writes fixtures/specs/<provider>/operations.json.

Requirements: python3 (3.8+) and PyYAML (`pip install pyyaml`; libyaml is used
when available, the output is the same without it).  `git` is needed for the
--<provider>-git mode.

Each provider is read either from a git repository (a clone or a bare/mirror
git dir) at a given revision -- the script reads the blobs with `git cat-file`
and records the commit SHA and committer date itself -- or from a file on disk,
in which case the commit and its date must be given:

    python3 -m venv /tmp/specvenv && /tmp/specvenv/bin/pip install pyyaml
    /tmp/specvenv/bin/python scripts/trim-specs.py \\
        --vultr-git        <clone of vultr/vultr-java>          --vultr-rev        <sha> \\
        --digitalocean-git <clone of digitalocean/openapi>      --digitalocean-rev <sha> \\
        --linode-git       <clone of linode/linode-api-docs>    --linode-rev       <sha> \\
        --vercel-git       <clone of vercel/sdk>                --vercel-rev       <sha>

    # or, per provider, from files on disk (relative $refs are resolved from
    # the file's directory):
    ... --vultr-file path/to/v0.0.1.json --vultr-commit <sha> --vultr-commit-date <iso date>

Optional per provider: --<p>-path (path of the spec inside the repo; defaults
below), --<p>-repo (owner/name recorded in the output).  Providers that are not
given are left untouched.  --out defaults to fixtures/specs next to this
script's parent directory.  The output is deterministic (sorted keys, stable
ordering): running the script twice gives byte-identical files.

Conversion rules (see fixtures/specs/README.md):
  * every $ref (in-document and relative-file) is inlined; a $ref that is
    already being expanded higher up (recursion) becomes {};
  * allOf is merged into its parent when the parts do not conflict (union of
    properties and required; a property present in several parts is merged the
    same way; `additionalProperties: false` in any part applies to the merged
    object); otherwise allOf is left in place.  oneOf/anyOf are kept;
  * `nullable: true` adds "null" to `type` (and to `enum` when present); a
    nullable schema without `type` becomes anyOf [schema, {"type": "null"}];
  * dropped keywords: example, examples, xml, externalDocs, discriminator,
    deprecated, readOnly, writeOnly, nullable, x-* ; `description` and `title`
    are kept only when shorter than 120 characters;
  * a `type` that is not a JSON Schema type name is corrected when it is an
    obvious alias (`int` -> `integer`, see TYPE_ALIASES), else the run fails;
  * everything else (enum, format, pattern, minimum/maximum, min/maxLength,
    required, additionalProperties, default, ...) is copied unchanged;
  * responses: 2xx, 4xx and 5xx codes (`default` is skipped); the value is the
    converted application/json schema, or null when the response has no JSON
    body.  request: the application/json request body schema, or null.
"""

import argparse
import copy
import json
import os
import posixpath
import re
import subprocess
import sys
import urllib.parse

import yaml

TRIMMED_BY = "scripts/trim-specs.py"
MAX_REF_DEPTH = 64
DESC_MAX = 120

# (method, path relative to the API base); the path parameters' names are
# placeholders, matched positionally against the spec's own templates.
PROVIDERS = {
    "vultr": {
        "repo": "vultr/vultr-java",
        "path": "blob/v0.0.1.json",
        "base_path": "/v2",
        "strip_prefixes": ["/v2"],
        "operations": [
            ("GET", "/account"),
            ("GET", "/instances"),
            ("POST", "/instances"),
            ("GET", "/instances/{id}"),
            ("PATCH", "/instances/{id}"),
            ("DELETE", "/instances/{id}"),
            ("POST", "/instances/{id}/start"),
            ("POST", "/instances/{id}/halt"),
            ("POST", "/instances/{id}/reboot"),
            ("GET", "/blocks"),
            ("POST", "/blocks"),
            ("GET", "/blocks/{id}"),
            ("PATCH", "/blocks/{id}"),
            ("DELETE", "/blocks/{id}"),
            ("POST", "/blocks/{id}/attach"),
            ("POST", "/blocks/{id}/detach"),
            ("GET", "/databases"),
            ("POST", "/databases"),
            ("GET", "/databases/{id}"),
            ("PUT", "/databases/{id}"),
            ("DELETE", "/databases/{id}"),
            ("GET", "/domains"),
            ("POST", "/domains"),
            ("GET", "/domains/{domain}"),
            ("PUT", "/domains/{domain}"),
            ("DELETE", "/domains/{domain}"),
            ("GET", "/domains/{domain}/records"),
            ("POST", "/domains/{domain}/records"),
            ("GET", "/domains/{domain}/records/{record-id}"),
            ("PATCH", "/domains/{domain}/records/{record-id}"),
            ("DELETE", "/domains/{domain}/records/{record-id}"),
            ("GET", "/regions"),
            ("GET", "/plans"),
            ("GET", "/os"),
            ("GET", "/applications"),
        ],
    },
    "digitalocean": {
        "repo": "digitalocean/openapi",
        "path": "specification/DigitalOcean-public.v2.yaml",
        "base_path": "/v2",
        "strip_prefixes": ["/v2"],
        "operations": [
            ("GET", "/account"),
            ("GET", "/droplets"),
            ("POST", "/droplets"),
            ("GET", "/droplets/{id}"),
            ("DELETE", "/droplets/{id}"),
            ("POST", "/droplets/{id}/actions"),
            ("GET", "/actions/{id}"),
            ("POST", "/tags"),
            ("GET", "/tags/{tag}"),
            ("DELETE", "/tags/{tag}"),
            ("POST", "/tags/{tag}/resources"),
            ("DELETE", "/tags/{tag}/resources"),
            ("GET", "/volumes"),
            ("POST", "/volumes"),
            ("GET", "/volumes/{id}"),
            ("DELETE", "/volumes/{id}"),
            ("POST", "/volumes/{id}/actions"),
            ("GET", "/regions"),
            ("GET", "/sizes"),
            ("GET", "/images"),
            ("GET", "/1-clicks"),
            ("GET", "/domains"),
            ("POST", "/domains"),
            ("GET", "/domains/{name}"),
            ("DELETE", "/domains/{name}"),
            ("GET", "/domains/{name}/records"),
            ("POST", "/domains/{name}/records"),
            ("GET", "/domains/{name}/records/{id}"),
            ("PUT", "/domains/{name}/records/{id}"),
            ("PATCH", "/domains/{name}/records/{id}"),
            ("DELETE", "/domains/{name}/records/{id}"),
        ],
    },
    "linode": {
        "repo": "linode/linode-api-docs",
        "path": "openapi.yaml",
        "base_path": "/v4",
        # Linode templates every path as /{apiVersion}/... (v4 | v4beta).
        "strip_prefixes": ["/{apiVersion}", "/v4"],
        "operations": [
            ("GET", "/profile"),
            ("GET", "/account"),
            ("GET", "/linode/instances"),
            ("POST", "/linode/instances"),
            ("GET", "/linode/instances/{id}"),
            ("PUT", "/linode/instances/{id}"),
            ("DELETE", "/linode/instances/{id}"),
            ("POST", "/linode/instances/{id}/resize"),
            ("POST", "/linode/instances/{id}/boot"),
            ("POST", "/linode/instances/{id}/reboot"),
            ("POST", "/linode/instances/{id}/shutdown"),
            ("GET", "/volumes"),
            ("POST", "/volumes"),
            ("GET", "/volumes/{id}"),
            ("PUT", "/volumes/{id}"),
            ("DELETE", "/volumes/{id}"),
            ("POST", "/volumes/{id}/attach"),
            ("POST", "/volumes/{id}/detach"),
            ("POST", "/volumes/{id}/resize"),
            ("GET", "/object-storage/buckets"),
            ("POST", "/object-storage/buckets"),
            ("GET", "/object-storage/buckets/{region}"),
            ("GET", "/object-storage/buckets/{region}/{label}"),
            ("DELETE", "/object-storage/buckets/{region}/{label}"),
            ("GET", "/domains"),
            ("POST", "/domains"),
            ("GET", "/domains/{domainId}"),
            ("PUT", "/domains/{domainId}"),
            ("DELETE", "/domains/{domainId}"),
            ("GET", "/domains/{domainId}/records"),
            ("POST", "/domains/{domainId}/records"),
            ("GET", "/domains/{domainId}/records/{recordId}"),
            ("PUT", "/domains/{domainId}/records/{recordId}"),
            ("DELETE", "/domains/{domainId}/records/{recordId}"),
            ("GET", "/regions"),
            ("GET", "/linode/types"),
            ("GET", "/images"),
            ("GET", "/linode/stackscripts"),
        ],
    },
    "vercel": {
        "repo": "vercel/sdk",
        "path": "vercel-spec.json",
        # Every path carries its own version (`/v5/domains`, `/v2/domains/{domain}/records`).
        "base_path": "",
        "strip_prefixes": [],
        "operations": [
            ("GET", "/v2/user"),
            ("GET", "/v5/domains"),
            ("POST", "/v7/domains"),
            ("GET", "/v5/domains/{domain}"),
            ("DELETE", "/v6/domains/{domain}"),
            ("GET", "/v4/domains/{domain}/records"),
            ("POST", "/v2/domains/{domain}/records"),
            ("PATCH", "/v1/domains/records/{recordId}"),
            ("DELETE", "/v2/domains/{domain}/records/{recordId}"),
            ("GET", "/v10/projects"),
            ("POST", "/v11/projects"),
            ("GET", "/v9/projects/{idOrName}"),
            ("PATCH", "/v9/projects/{idOrName}"),
            ("DELETE", "/v9/projects/{idOrName}"),
            ("GET", "/v9/projects/{idOrName}/domains"),
            ("POST", "/v10/projects/{idOrName}/domains"),
            ("DELETE", "/v9/projects/{idOrName}/domains/{domain}"),
            ("POST", "/v10/projects/{idOrName}/env"),
            ("DELETE", "/v9/projects/{idOrName}/env/{id}"),
        ],
    },
    "cloudflare": {
        "repo": "cloudflare/api-schemas",
        "path": "openapi.json",
        "base_path": "/client/v4",
        "strip_prefixes": [],
        "operations": [
            ("GET", "/user/tokens/verify"),
            ("GET", "/zones"),
            ("POST", "/zones"),
            ("GET", "/zones/{zone_id}"),
            ("DELETE", "/zones/{zone_id}"),
            ("GET", "/zones/{zone_id}/dns_records"),
            ("POST", "/zones/{zone_id}/dns_records"),
            ("GET", "/zones/{zone_id}/dns_records/{dns_record_id}"),
            ("PATCH", "/zones/{zone_id}/dns_records/{dns_record_id}"),
            ("DELETE", "/zones/{zone_id}/dns_records/{dns_record_id}"),
            ("GET", "/accounts/{account_id}/r2/buckets"),
            ("POST", "/accounts/{account_id}/r2/buckets"),
            ("GET", "/accounts/{account_id}/r2/buckets/{bucket_name}"),
            ("DELETE", "/accounts/{account_id}/r2/buckets/{bucket_name}"),
            ("GET", "/accounts/{account_id}/d1/database"),
            ("POST", "/accounts/{account_id}/d1/database"),
            ("GET", "/accounts/{account_id}/d1/database/{database_id}"),
            ("DELETE", "/accounts/{account_id}/d1/database/{database_id}"),
            ("GET", "/accounts/{account_id}/pages/projects"),
            ("POST", "/accounts/{account_id}/pages/projects"),
            ("GET", "/accounts/{account_id}/pages/projects/{project_name}"),
            ("PATCH", "/accounts/{account_id}/pages/projects/{project_name}"),
            ("DELETE", "/accounts/{account_id}/pages/projects/{project_name}"),
            ("POST", "/accounts/{account_id}/pages/projects/{project_name}/domains"),
            ("DELETE", "/accounts/{account_id}/pages/projects/{project_name}/domains/{domain_name}"),
            ("GET", "/accounts/{account_id}/workers/scripts"),
        ],
    },
}

# --------------------------------------------------------------------------
# YAML loading with YAML 1.2 core-schema scalars (PyYAML defaults to YAML 1.1,
# which would turn `on`/`off`/`yes`/`no` into booleans, `0755` into an octal
# int and bare dates into datetime objects).

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SpecLoader(_BaseLoader):
    pass


SpecLoader.yaml_implicit_resolvers = {}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"]
)


def _construct_int(loader, node):
    value = loader.construct_scalar(node)
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


def _construct_timestamp_as_str(loader, node):
    return loader.construct_scalar(node)


SpecLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
SpecLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_str)


def parse_document(text, name):
    if name.endswith(".json"):
        return json.loads(text)
    return yaml.load(text, Loader=SpecLoader)


# --------------------------------------------------------------------------
# Readers: files on disk, or blobs of a git revision.


class FileReader:
    def __init__(self, main_file):
        self.root = os.path.dirname(os.path.abspath(main_file))
        self.main = os.path.basename(main_file)

    def read(self, rel):
        with open(os.path.join(self.root, *rel.split("/")), encoding="utf-8") as f:
            return f.read()


class GitReader:
    def __init__(self, gitdir, rev, main_path):
        self.gitdir = gitdir
        self.commit = self._git("rev-parse", "--verify", rev + "^{commit}").strip()
        self.date = self._git("log", "-1", "--format=%cI", self.commit).strip()
        self.root = posixpath.dirname(main_path)
        self.main = posixpath.basename(main_path)

    def _git(self, *args):
        return subprocess.run(
            ["git", "-C", self.gitdir] + list(args),
            check=True,
            stdout=subprocess.PIPE,
        ).stdout.decode("utf-8")

    def read(self, rel):
        path = posixpath.join(self.root, rel) if self.root else rel
        return self._git("cat-file", "blob", "%s:%s" % (self.commit, path))


class Documents:
    """Loads the main document and every file a relative $ref points at.
    File names are kept relative to the main document's directory."""

    def __init__(self, reader):
        self.reader = reader
        self.cache = {}

    def load(self, rel):
        if rel not in self.cache:
            self.cache[rel] = parse_document(self.reader.read(rel), rel)
        return self.cache[rel]

    def resolve(self, ref, cur):
        """Return (node, file, canonical-key) for a $ref found in file `cur`."""
        file_part, _, frag = ref.partition("#")
        if file_part:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(cur), file_part))
        else:
            target = cur
        node = self.load(target)
        if frag:
            for tok in frag.lstrip("/").split("/"):
                tok = urllib.parse.unquote(tok).replace("~1", "/").replace("~0", "~")
                if isinstance(node, list):
                    node = node[int(tok)]
                else:
                    node = node[tok]
        return node, target, target + "#" + frag

    def deref(self, node, cur):
        """Follow $ref chains of non-schema objects (operations, responses,
        request bodies)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            node, cur, key = self.resolve(node["$ref"], cur)
            if key in seen:
                raise ValueError("circular $ref " + key)
            seen.add(key)
        return node, cur


# --------------------------------------------------------------------------
# Schema conversion.

DROP_KEYS = {
    "example",
    "examples",
    "xml",
    "externalDocs",
    "discriminator",
    "deprecated",
    "readOnly",
    "writeOnly",
    "nullable",
}
ANNOTATIONS = ("description", "title")
SCHEMA_MAP_KEYS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")
SCHEMA_LIST_KEYS = ("allOf", "oneOf", "anyOf", "prefixItems")
SCHEMA_ONE_KEYS = (
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
)


class Converter:
    def __init__(self, docs):
        self.docs = docs

    def schema(self, node, cur, stack=()):
        if not isinstance(node, dict):
            return copy.deepcopy(node)  # boolean schema
        if "$ref" in node:
            if len(stack) >= MAX_REF_DEPTH:
                return {}
            target, tfile, key = self.docs.resolve(node["$ref"], cur)
            if key in stack:
                return {}  # recursive schema: stop here
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(target, dict) and "$ref" not in json.dumps(siblings):
                # OpenAPI 3.1 style sibling keywords (descriptions, nullable...):
                # they refine the referenced schema.
                merged = dict(target)
                merged.update(siblings)
                return self.schema(merged, tfile, stack + (key,))
            if siblings:
                return self.schema({"allOf": [{"$ref": node["$ref"]}, siblings]}, cur, stack)
            return self.schema(target, tfile, stack + (key,))

        out = {}
        for k, v in node.items():
            if k in DROP_KEYS or k.startswith("x-"):
                continue
            if k in ANNOTATIONS:
                if isinstance(v, str) and len(v) < DESC_MAX:
                    out[k] = v
            elif k in SCHEMA_MAP_KEYS and isinstance(v, dict):
                out[k] = {name: self.schema(s, cur, stack) for name, s in v.items()}
            elif k in SCHEMA_LIST_KEYS and isinstance(v, list):
                out[k] = [self.schema(s, cur, stack) for s in v]
            elif k in SCHEMA_ONE_KEYS:
                if isinstance(v, list):
                    out[k] = [self.schema(s, cur, stack) for s in v]
                else:
                    out[k] = self.schema(v, cur, stack)
            else:
                out[k] = copy.deepcopy(v)

        fix_exclusive_bounds(out)
        fix_type_names(out, cur)

        if isinstance(out.get("allOf"), list):
            rest = {k: v for k, v in out.items() if k != "allOf"}
            merged = merge_schemas([rest] + out["allOf"])
            if merged is not None:
                out = merged

        if node.get("nullable") is True:
            out = make_nullable(out)
        return out


def fix_exclusive_bounds(s):
    """OpenAPI 3.0 `exclusiveMinimum: true` + `minimum: n` -> draft-6+ form."""
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(s.get(flag), bool):
            if s[flag] and bound in s:
                s[flag] = s.pop(bound)
            else:
                del s[flag]


JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
# Non-JSON-Schema type names found in the specs (Vultr writes `type: int` for
# ferretdb_credentials.port); anything else unknown aborts the run.
TYPE_ALIASES = {"int": "integer", "bool": "boolean", "float": "number", "str": "string"}


def fix_type_names(s, where):
    t = s.get("type")
    if t is None:
        return
    names = _types(t)
    fixed = []
    for name in names:
        if name not in JSON_TYPES:
            if name not in TYPE_ALIASES:
                raise ValueError("unknown schema type %r in %s" % (name, where))
            print("note: type %r -> %r (%s)" % (name, TYPE_ALIASES[name], where), file=sys.stderr)
            name = TYPE_ALIASES[name]
        if name not in fixed:
            fixed.append(name)
    s["type"] = fixed[0] if isinstance(t, str) else fixed


def make_nullable(s):
    t = s.get("type")
    if "enum" in s and isinstance(s["enum"], list) and None not in s["enum"]:
        s["enum"] = s["enum"] + [None]
    if isinstance(t, str):
        s["type"] = [t, "null"] if t != "null" else t
        return s
    if isinstance(t, list):
        if "null" not in t:
            s["type"] = t + ["null"]
        return s
    if "enum" in s or not any(k not in ANNOTATIONS for k in s):
        return s  # enum now admits null / schema admits anything
    ann = {k: s[k] for k in ANNOTATIONS if k in s}
    body = {k: v for k, v in s.items() if k not in ANNOTATIONS}
    ann["anyOf"] = [body, {"type": "null"}]
    return ann


def _types(t):
    return [t] if isinstance(t, str) else list(t)


def merge_schemas(parts):
    """Merge schemas that must all hold (allOf) into one, or return None when
    they conflict in a way a plain merge cannot express."""
    result = {}
    for p in parts:
        if not isinstance(p, dict):
            return None
        for k, v in p.items():
            if k == "properties":
                props = result.setdefault("properties", {})
                for name, ps in v.items():
                    if name not in props or props[name] == ps:
                        props[name] = ps
                    else:
                        m = merge_schemas([props[name], ps])
                        props[name] = m if m is not None else {"allOf": [props[name], ps]}
            elif k == "required":
                req = result.setdefault("required", [])
                for r in v:
                    if r not in req:
                        req.append(r)
            elif k in ANNOTATIONS:
                result.setdefault(k, v)
            elif k == "type":
                if "type" not in result:
                    result["type"] = v
                else:
                    a, b = _types(result["type"]), _types(v)
                    both = [x for x in a if x in b]
                    if not both:
                        return None
                    result["type"] = both[0] if len(both) == 1 else both
            elif k == "additionalProperties":
                if v is False or result.get(k) is False:
                    result[k] = False
                elif k in result and result[k] != v:
                    return None
                else:
                    result[k] = v
            elif k in result and result[k] != v:
                return None
            else:
                result[k] = v
    return result


# --------------------------------------------------------------------------
# Operations.


def template_key(path):
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/") or "/")


def strip_prefix(path, prefixes):
    for pre in prefixes:
        if path == pre or path.startswith(pre + "/"):
            return path[len(pre):] or "/"
    return path


def json_body(docs, conv, node, cur):
    """Schema of the application/json content of a response or request body,
    or None."""
    node, cur = docs.deref(node, cur)
    content = (node or {}).get("content") or {}
    media = None
    if "application/json" in content:
        media = content["application/json"]
    else:
        for name in sorted(content):
            if name.split(";")[0].strip().endswith("json"):
                media = content[name]
                break
    if not isinstance(media, dict) or "schema" not in media:
        return None
    return conv.schema(media["schema"], cur)


def build(provider, reader, repo, path, commit, commit_date):
    cfg = PROVIDERS[provider]
    docs = Documents(reader)
    conv = Converter(docs)
    main = reader.main
    spec = docs.load(main)

    index = {}
    for spec_path in spec.get("paths", {}):
        rel = strip_prefix(spec_path, cfg["strip_prefixes"])
        index.setdefault(template_key(rel), []).append((spec_path, rel))

    operations, missing = [], []
    for method, want in cfg["operations"]:
        found = None
        for spec_path, rel in index.get(template_key(want), []):
            item, item_file = docs.deref(spec["paths"][spec_path], main)
            if isinstance(item, dict) and method.lower() in item:
                found = (rel, item, item_file)
                break
        if found is None:
            missing.append("%s %s" % (method, want))
            continue
        rel, item, item_file = found
        op, op_file = docs.deref(item[method.lower()], item_file)

        request = None
        if op.get("requestBody") is not None:
            request = json_body(docs, conv, op["requestBody"], op_file)

        responses = {}
        for code, resp in (op.get("responses") or {}).items():
            code = str(code)
            if not re.match(r"^[245][0-9][0-9]$", code):
                continue
            responses[code] = json_body(docs, conv, resp, op_file)

        operations.append(
            {
                "method": method,
                "path": rel,
                "operation_id": op.get("operationId"),
                "request": request,
                "responses": responses,
            }
        )

    return {
        "source": {
            "repo": repo,
            "path": path,
            "commit": commit,
            "commit_date": commit_date,
            "trimmed_by": TRIMMED_BY,
        },
        "base_path": cfg["base_path"],
        "operations": operations,
        "missing": missing,
    }


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--out", default=os.path.join(os.path.dirname(here), "fixtures", "specs"))
    for p, cfg in PROVIDERS.items():
        ap.add_argument("--%s-git" % p, metavar="GITDIR", help="clone / git dir of %s" % cfg["repo"])
        ap.add_argument("--%s-rev" % p, default="HEAD", metavar="REV")
        ap.add_argument("--%s-path" % p, default=cfg["path"], help="default: %(default)s")
        ap.add_argument("--%s-file" % p, metavar="FILE", help="spec file on disk instead of git")
        ap.add_argument("--%s-commit" % p, metavar="SHA", help="with --%s-file" % p)
        ap.add_argument("--%s-commit-date" % p, metavar="DATE", help="with --%s-file" % p)
        ap.add_argument("--%s-repo" % p, default=cfg["repo"], help="default: %(default)s")
    args = vars(ap.parse_args(argv))

    done = 0
    for p in PROVIDERS:
        opt = lambda name: args[("%s_%s" % (p, name)).replace("-", "_")]
        if opt("git"):
            reader = GitReader(opt("git"), opt("rev"), opt("path"))
            commit, date = reader.commit, reader.date
        elif opt("file"):
            if not (opt("commit") and opt("commit_date")):
                ap.error("--%s-file needs --%s-commit and --%s-commit-date" % (p, p, p))
            reader = FileReader(opt("file"))
            commit, date = opt("commit"), opt("commit_date")
        else:
            continue
        result = build(p, reader, opt("repo"), opt("path"), commit, date)
        out_dir = os.path.join(args["out"], p)
        os.makedirs(out_dir, exist_ok=True)
        out_file = os.path.join(out_dir, "operations.json")
        text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        with open(out_file, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(
            "%s: %d operations, %d missing, %d bytes -> %s"
            % (p, len(result["operations"]), len(result["missing"]), len(text.encode("utf-8")), out_file),
            file=sys.stderr,
        )
        done += 1
    if not done:
        ap.error("no provider given")


if __name__ == "__main__":
    main()
