"""The Django side of cachex's interoperability tests.

Usage::

    python3 django_side.py URL SERIALIZER COMPRESSOR [--prefix P]
                           [--pickle-version N]

SERIALIZER is json, msgpack or pickle; COMPRESSOR is none, zlib, gzip,
lzma, lz4, zstd or brotli. The script configures a django-redis cache
in-process, reads a JSON list of operations from stdin, runs them in
order and writes a JSON list of results to stdout, one per operation:
``{"ok": <tagged>}`` or ``{"error": "<ExceptionType>: <message>"}``.

Values cross the JS/Python boundary in a tagged JSON form so that no
type is lost::

    {"t": "int", "v": "123"}        decimal string, any size
    {"t": "float", "v": "1.5"}      also "nan", "inf", "-inf"
    {"t": "str", "v": "..."}
    {"t": "bytes", "v": "<base64>"}
    {"t": "bool", "v": true}
    {"t": "none"}
    {"t": "list" | "tuple" | "set", "v": [<tagged>, ...]}
    {"t": "dict", "v": [[<tagged key>, <tagged value>], ...]}
    {"t": "missing"}                results only: get() found no key

Debian's django-redis 5.2 has no gzip or brotli compressor, and its zstd
compressor imports pyzstd, which Debian does not package; the three
classes below stand in for them.
"""

import argparse
import base64
import gzip
import json
import sys
import zlib

EXIT_MISSING = 3

try:
    import brotli
    import django
    import zstandard
    from django.conf import settings
    from django_redis.compressors.base import BaseCompressor
    from django_redis.exceptions import CompressorError
except ImportError as error:
    sys.stderr.write(f"missing Python module: {error.name}\n")
    sys.exit(EXIT_MISSING)


MIN_LENGTH = 15


class GzipCompressor(BaseCompressor):
    """Mirrors django_redis.compressors.gzip.GzipCompressor (django-redis
    5.3 and later; django-cachex's GzipCompressor with min_length=15):
    gzip.compress at its default level 9, for values over 15 bytes."""

    min_length = MIN_LENGTH

    def compress(self, value):
        if len(value) > self.min_length:
            return gzip.compress(value, compresslevel=9)
        return value

    def decompress(self, value):
        try:
            return gzip.decompress(value)
        except (OSError, EOFError, zlib.error) as error:
            raise CompressorError(error)


class ZStdCompressor(BaseCompressor):
    """Mirrors django_redis.compressors.zstd.ZStdCompressor (django-redis
    5.2), which calls pyzstd.compress at its default level 3 for values
    over 15 bytes. Debian packages the zstandard module instead: the
    same format (one frame, content size, no checksum), the same level."""

    min_length = MIN_LENGTH

    def __init__(self, options):
        super().__init__(options)
        self._compressor = zstandard.ZstdCompressor(level=3)

    def compress(self, value):
        if len(value) > self.min_length:
            return self._compressor.compress(value)
        return value

    def decompress(self, value):
        # A streaming decompressor, as pyzstd.decompress, also reads
        # frames that do not record their content size.
        try:
            stream = zstandard.ZstdDecompressor().decompressobj()
            data = stream.decompress(value)
        except zstandard.ZstdError as error:
            raise CompressorError(error)
        if not stream.eof:
            raise CompressorError("truncated zstd frame")
        return data


class BrotliCompressor(BaseCompressor):
    """Brotli as cachex's brotliCompressor writes it: brotli.compress at
    its default quality 11, for values over 15 bytes, in the shape of the
    django-redis compressors. No upstream class to mirror: neither
    django-redis 5.x nor django-cachex ships a brotli compressor."""

    min_length = MIN_LENGTH

    def compress(self, value):
        if len(value) > self.min_length:
            return brotli.compress(value)
        return value

    def decompress(self, value):
        try:
            return brotli.decompress(value)
        except brotli.error as error:
            raise CompressorError(error)


SERIALIZERS = {
    "json": "django_redis.serializers.json.JSONSerializer",
    "msgpack": "django_redis.serializers.msgpack.MSGPackSerializer",
    "pickle": "django_redis.serializers.pickle.PickleSerializer",
}

COMPRESSORS = {
    "none": "django_redis.compressors.identity.IdentityCompressor",
    "zlib": "django_redis.compressors.zlib.ZlibCompressor",
    "gzip": "__main__.GzipCompressor",
    "lzma": "django_redis.compressors.lzma.LzmaCompressor",
    "lz4": "django_redis.compressors.lz4.Lz4Compressor",
    "zstd": "__main__.ZStdCompressor",
    "brotli": "__main__.BrotliCompressor",
}


def to_tagged(value):
    """A Python value in the tagged JSON form."""
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = base64.b64encode(bytes(value)).decode("ascii")
        return {"t": "bytes", "v": data}
    if isinstance(value, tuple):
        return {"t": "tuple", "v": [to_tagged(item) for item in value]}
    if isinstance(value, list):
        return {"t": "list", "v": [to_tagged(item) for item in value]}
    if isinstance(value, dict):
        items = [[to_tagged(k), to_tagged(v)] for k, v in value.items()]
        return {"t": "dict", "v": items}
    if isinstance(value, (set, frozenset)):
        return {"t": "set", "v": [to_tagged(item) for item in value]}
    raise TypeError(f"cannot tag a {type(value).__name__}")


def from_tagged(tagged):
    """The Python value of a tagged JSON value."""
    tag = tagged["t"]
    if tag == "none":
        return None
    if tag == "bool":
        return bool(tagged["v"])
    if tag == "int":
        return int(tagged["v"])
    if tag == "float":
        return float(tagged["v"])
    if tag == "str":
        return tagged["v"]
    if tag == "bytes":
        return base64.b64decode(tagged["v"])
    if tag == "list":
        return [from_tagged(item) for item in tagged["v"]]
    if tag == "tuple":
        return tuple(from_tagged(item) for item in tagged["v"])
    if tag == "set":
        return {from_tagged(item) for item in tagged["v"]}
    if tag == "dict":
        return {from_tagged(k): from_tagged(v) for k, v in tagged["v"]}
    raise ValueError(f"unknown tag {tag!r}")


def configure(url, serializer, compressor, prefix, pickle_version, sentinels=None):
    options = {
        "SERIALIZER": SERIALIZERS[serializer],
        "COMPRESSOR": COMPRESSORS[compressor],
    }
    if pickle_version is not None:
        options["PICKLE_VERSION"] = pickle_version
    extra = {}
    if sentinels:
        # django-redis's Sentinel client: LOCATION names the service, SENTINELS lists them.
        options["CLIENT_CLASS"] = "django_redis.client.SentinelClient"
        options["SENTINELS"] = sentinels
        extra["DJANGO_REDIS_CONNECTION_FACTORY"] = "django_redis.pool.SentinelConnectionFactory"
    settings.configure(
        **extra,
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": prefix,
                "OPTIONS": options,
            }
        }
    )
    django.setup()


class Runner:
    """Runs one operation at a time on the default cache."""

    def __init__(self):
        from django.core.cache import cache
        from django_redis import get_redis_connection

        self.cache = cache
        self.redis = get_redis_connection("default")

    def run(self, op):
        """The tagged result of one operation."""
        handler = getattr(self, "op_" + op["op"], None)
        if handler is None:
            raise ValueError(f"unknown operation {op['op']!r}")
        return handler(op)

    # Keyword arguments that the operation sets, so that absent ones keep
    # Django's defaults (an absent timeout is DEFAULT_TIMEOUT, a null one
    # never expires).
    @staticmethod
    def _kwargs(op, *names):
        return {name: op[name] for name in names if name in op}

    def _redis_key(self, op):
        version = op.get("version")
        return self.cache.client.make_key(op["key"], version=version)

    def op_set(self, op):
        kwargs = self._kwargs(op, "timeout", "version")
        value = from_tagged(op["value"])
        return to_tagged(self.cache.set(op["key"], value, **kwargs))

    def op_add(self, op):
        kwargs = self._kwargs(op, "timeout", "version")
        value = from_tagged(op["value"])
        return to_tagged(self.cache.add(op["key"], value, **kwargs))

    def op_get(self, op):
        missing = object()
        kwargs = self._kwargs(op, "version")
        value = self.cache.get(op["key"], missing, **kwargs)
        return {"t": "missing"} if value is missing else to_tagged(value)

    def op_get_many(self, op):
        kwargs = self._kwargs(op, "version")
        return to_tagged(dict(self.cache.get_many(op["keys"], **kwargs)))

    def op_set_many(self, op):
        data = {key: from_tagged(value) for key, value in op["data"]}
        kwargs = self._kwargs(op, "timeout", "version")
        return to_tagged(self.cache.set_many(data, **kwargs))

    def op_delete(self, op):
        kwargs = self._kwargs(op, "version")
        return to_tagged(self.cache.delete(op["key"], **kwargs))

    def op_delete_many(self, op):
        kwargs = self._kwargs(op, "version")
        return to_tagged(self.cache.delete_many(op["keys"], **kwargs))

    def op_incr(self, op):
        kwargs = self._kwargs(op, "delta", "version")
        return to_tagged(self.cache.incr(op["key"], **kwargs))

    def op_decr(self, op):
        kwargs = self._kwargs(op, "delta", "version")
        return to_tagged(self.cache.decr(op["key"], **kwargs))

    def op_touch(self, op):
        kwargs = self._kwargs(op, "timeout", "version")
        return to_tagged(self.cache.touch(op["key"], **kwargs))

    def op_ttl(self, op):
        kwargs = self._kwargs(op, "version")
        return to_tagged(self.cache.ttl(op["key"], **kwargs))

    def op_pttl(self, op):
        kwargs = self._kwargs(op, "version")
        return to_tagged(self.cache.pttl(op["key"], **kwargs))

    def op_incr_version(self, op):
        kwargs = self._kwargs(op, "delta", "version")
        return to_tagged(self.cache.incr_version(op["key"], **kwargs))

    def op_has_key(self, op):
        kwargs = self._kwargs(op, "version")
        return to_tagged(self.cache.has_key(op["key"], **kwargs))

    def op_keys(self, op):
        return to_tagged(sorted(self.cache.keys(op["pattern"])))

    def op_raw_get(self, op):
        """The bytes stored in Redis at the key, as Django builds it."""
        return to_tagged(self.redis.get(self._redis_key(op)))

    def op_zscore(self, op):
        """The score in a sorted set of a member encoded as Django encodes
        values."""
        member = self.cache.client.encode(from_tagged(op["member"]))
        return to_tagged(self.redis.zscore(self._redis_key(op), member))

    def op_zadd(self, op):
        """ZADD of a member encoded as Django encodes values (as django-cachex
        adds members)."""
        member = self.cache.client.encode(from_tagged(op["member"]))
        return to_tagged(self.redis.zadd(self._redis_key(op), {member: op["score"]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("serializer", choices=sorted(SERIALIZERS))
    parser.add_argument("compressor", choices=sorted(COMPRESSORS))
    parser.add_argument("--prefix", default="")
    parser.add_argument("--pickle-version", type=int)
    parser.add_argument(
        "--sentinel", action="append", default=[], help="host:port of a sentinel"
    )
    args = parser.parse_args()

    configure(
        args.url,
        args.serializer,
        args.compressor,
        args.prefix,
        args.pickle_version,
        [(h, int(p)) for h, p in (a.rsplit(":", 1) for a in args.sentinel)],
    )
    runner = Runner()
    results = []
    for op in json.loads(sys.stdin.buffer.read()):
        try:
            results.append({"ok": runner.run(op)})
        except Exception as error:  # reported to the test, which decides
            results.append({"error": f"{type(error).__name__}: {error}"})
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main()
