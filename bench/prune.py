"""pier prune benchmark: the dry-run plan of one repository with 500, 2,000 and 5,000 tags on docker-registry.

Each repository holds TAGS tags over TAGS/2 images (every image tagged sha-NNNNN and build-NNNNN, as CI tagging
does), each image dated by its config `created`, one minute apart. The registry is seeded over HTTP directly (one
shared layer, a config and a manifest per image), so seeding costs seconds, not a pier run per tag.

Measured per size, median of RUNS runs of `pier prune --json --keep-last 100 REPO` (a dry run: nothing changes):
wall seconds, requests pier sent (lines of the registry's access log during the run), peak RSS (/usr/bin/time).
    PIER=.build/release/pier RUNS=3 SIZES=500,2000,5000 python3 bench/prune.py
Output: bench/out/prune.md and bench/out/prune.json. No figure is a test expectation.
"""
import hashlib, http.client, json, os, socket, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (shares its Registry and work directory)

PIER = os.environ.get("PIER", ".build/release/pier")
RUNS = int(os.environ.get("RUNS", "3"))
SIZES = [int(x) for x in os.environ.get("SIZES", "500,2000,5000").split(",")]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
WORK = bench.WORK


class LoggedRegistry(bench.Registry):
    """docker-registry with its access log (one line per request) in a file."""
    def __init__(self):
        self.log = os.path.join(WORK, "access.log")
        super().__init__("prune", access_log=self.log)

    def requests_logged(self):
        """Access-log lines so far (the registry writes one per request, with its method and path)."""
        with open(self.log, "rb") as f:
            return sum(1 for line in f if any(m in line for m in (b'"GET ', b'"HEAD ', b'"DELETE ', b'"PUT ', b'"POST ', b'"PATCH ')))


def seed(host, repo, tags):
    """TAGS tags over TAGS/2 images, pushed with one persistent connection."""
    conn = http.client.HTTPConnection(host)
    conn.connect()
    # Headers and body go out as two writes: without TCP_NODELAY each request waits out a delayed ACK (~40 ms).
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(method, path, body=b"", headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse(); response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status}")
        return response

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        location = request("POST", f"/v2/{repo}/blobs/uploads/").getheader("Location")
        location = location.split(host, 1)[-1]
        request("PUT", f"{location}{'&' if '?' in location else '?'}digest={digest}", data, {"Content-Type": "application/octet-stream"})
        return {"digest": digest, "size": len(data)}

    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **blob(b"\x1f\x8b\x08\x00" + b"\x00" * 28)}
    for n in range(tags // 2):
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_767_225_600 + n * 60))  # 2026-01-01 onwards
        config = json.dumps({"architecture": "amd64", "os": "linux", "created": created,
                             "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}, sort_keys=True).encode()
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(config)},
                               "layers": [layer]}, sort_keys=True).encode()
        for tag in (f"sha-{n:05d}", f"build-{n:05d}"):
            request("PUT", f"/v2/{repo}/manifests/{tag}", manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    conn.close()


def timed(cmd):
    fmt = "%e %M"
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", fmt] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr[-800:]}")
    last = proc.stderr.strip().splitlines()[-1].split()
    return {"seconds": wall, "rss_mb": int(last[1]) / 1024, "stdout": proc.stdout}


def main():
    registry = LoggedRegistry()
    rows = []
    try:
        for size in SIZES:
            repo = f"bench/prune-{size}"
            started = time.monotonic()
            seed(registry.host, repo, size)
            seeded = time.monotonic() - started
            runs = []
            for _ in range(RUNS):
                before = registry.requests_logged()
                result = timed([PIER, "prune", "--json", "--keep-last", "100", f"{registry.host}/{repo}"])
                time.sleep(0.2)  # let the registry flush its log
                result["requests"] = registry.requests_logged() - before
                decisions = json.loads(result.pop("stdout"))[0]["decisions"]
                assert len(decisions) == size, (len(decisions), size)
                runs.append(result)
            row = {"tags": size, "images": size // 2, "seed_s": round(seeded, 1),
                   "seconds": statistics.median(r["seconds"] for r in runs),
                   "seconds_min": min(r["seconds"] for r in runs), "seconds_max": max(r["seconds"] for r in runs),
                   "requests": statistics.median(r["requests"] for r in runs),
                   "rss_mb": statistics.median(r["rss_mb"] for r in runs)}
            row["ms_per_tag"] = round(row["seconds"] * 1000 / size, 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        registry.stop()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "prune.json"), "w") as f:
        json.dump(rows, f, indent=2)
    lines = ["| tags | images | wall s (min–max) | ms per tag | requests | peak RSS MB |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['tags']} | {r['images']} | {r['seconds']:.2f} ({r['seconds_min']:.2f}–{r['seconds_max']:.2f}) | "
                     f"{r['ms_per_tag']} | {r['requests']:.0f} | {r['rss_mb']:.1f} |")
    with open(os.path.join(OUT, "prune.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
