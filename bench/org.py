"""pier across an organisation: `pier sync` and `pier status` over many repositories × 20 tags on two docker-registry
instances, against a floor of parallel curl HEADs of the same tags.

Each size seeds SIZE repositories of 20 tags (10 images, each tagged sha-NNNNN and build-NNNNN; a config and one
shared layer per image) on the primary over HTTP (bench/prune.py's seeding, 8 repositories at a time), writes a pier.yml with `organisation:` and `repositories:`, then times:
  sync (copy)   the first `pier sync`: every tag copied to the backup
  sync (no-op)  the rerun: every tag HEADed on both registries, nothing copied
  status        `pier status`: tags listed and HEADed on both registries
  curl floor    one `curl -I` per tag per registry (SIZE × 20 × 2 HEADs), CONCURRENCY at a time (xargs -P)
  4 shards      the no-op `pier sync --shard I/4` for I = 1…4, one after another: each shard's wall time and
                repositories (what a CI matrix of 4 jobs would see per job)
with requests counted from the registries' access logs, peak RSS from /usr/bin/time, and the 1-minute load average
at the start of each measurement (other work on the machine moves wall times; request counts do not move).
    PIER=.build/release/pier SIZES=50,200,800 CONCURRENCY=8 python3 bench/org.py
Output: bench/out/org.md and bench/out/org.json. No figure is a test expectation.
"""
import concurrent.futures, hashlib, json, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import prune  # noqa: E402

PIER = os.environ.get("PIER", ".build/release/pier")
SIZES = [int(x) for x in os.environ.get("SIZES", "50,200,800").split(",")]
CONCURRENCY = int(os.environ.get("CONCURRENCY", "8"))
TAGS = 20
SEED_THREADS = 8
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


class Logged(bench.Registry):
    def __init__(self, name):
        self.log = os.path.join(bench.WORK, f"access-{name}.log")
        super().__init__(name, access_log=self.log)

    def requests(self):
        with open(self.log, "rb") as f:
            return sum(1 for line in f if any(m in line for m in (b'"GET ', b'"HEAD ', b'"PUT ', b'"POST ', b'"PATCH ')))


def shard_balance(names, total=4):
    counts = [0] * total
    for name in names:
        counts[int(hashlib.sha256(name.encode()).hexdigest()[:16], 16) % total] += 1
    return counts


def main():
    primary, backup = Logged("primary"), Logged("backup")
    rows = []
    try:
        for size in SIZES:
            names = [f"svc-{n:04d}" for n in range(size)]
            started = time.monotonic()
            # Seeded 8 repositories at a time (each over its own connection): one at a time, 800 took ~12 minutes.
            with concurrent.futures.ThreadPoolExecutor(SEED_THREADS) as pool:
                list(pool.map(lambda name: prune.seed(primary.host, f"org{size}/{name}", TAGS), names))
            seeded = time.monotonic() - started
            config = os.path.join(bench.WORK, f"org-{size}.yml")
            with open(config, "w") as f:
                f.write(f"organisation:\n  primary: {primary.host}/org{size}\n  backups: [{backup.host}/mirror{size}]\n"
                        f"  concurrency: {CONCURRENCY}\nrepositories:\n" + "".join(f"  - {n}\n" for n in names))
            row = {"repositories": size, "tags": size * TAGS, "seed_s": round(seeded, 1),
                   "shards_of_4": shard_balance(names)}
            for label, command in [("sync_copy", "sync"), ("sync_noop", "sync"), ("status", "status")]:
                before = primary.requests() + backup.requests()
                load = os.getloadavg()[0]
                result = prune.timed([PIER, command, "--config", config, "--json", "--quiet"])
                time.sleep(0.3)
                summary = json.loads(result["stdout"])
                assert len(summary["results"]) == size, summary["counts"]
                row[label] = {"seconds": round(result["seconds"], 2), "rss_mb": round(result["rss_mb"], 1),
                              "requests": primary.requests() + backup.requests() - before,
                              "counts": summary["counts"], "load": round(load, 1)}
            row["shards"] = []
            for index in range(1, 5):
                result = prune.timed([PIER, "sync", "--config", config, "--json", "--quiet", "--shard", f"{index}/4"])
                row["shards"].append({"seconds": round(result["seconds"], 2),
                                      "repositories": len(json.loads(result["stdout"])["results"])})
            assert [s["repositories"] for s in row["shards"]] == row["shards_of_4"], row["shards"]
            urls = [f"http://{host}/v2/{path}/{name}/manifests/{kind}-{n:05d}"
                    for host, path in ((primary.host, f"org{size}"), (backup.host, f"mirror{size}"))
                    for name in names for n in range(TAGS // 2) for kind in ("sha", "build")]
            accept = "Accept: application/vnd.oci.image.manifest.v1+json"
            load = os.getloadavg()[0]
            start = time.monotonic()
            subprocess.run(["xargs", "-P", str(CONCURRENCY), "-n", "50", "curl", "-sfI", "-o", "/dev/null", "-H", accept],
                           input="\n".join(urls), text=True, check=True, stdout=subprocess.DEVNULL)
            row["curl_floor"] = {"seconds": round(time.monotonic() - start, 2), "requests": len(urls), "load": round(load, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        primary.stop(); backup.stop()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "org.json"), "w") as f:
        json.dump(rows, f, indent=2)
    lines = ["| repositories × 20 tags | sync (copy) | sync (no-op) | status | curl HEAD floor | requests copy / no-op / status / floor | requests per tag (copy) | peak RSS MB | 4 shards of the no-op sync: s (repositories) | load copy / no-op / status / floor |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['repositories']} | {r['sync_copy']['seconds']:.2f} s | {r['sync_noop']['seconds']:.2f} s | "
            f"{r['status']['seconds']:.2f} s | {r['curl_floor']['seconds']:.2f} s | "
            f"{r['sync_copy']['requests']} / {r['sync_noop']['requests']} / {r['status']['requests']} / {r['curl_floor']['requests']} | "
            f"{r['sync_copy']['requests'] / r['tags']:.2f} | "
            f"{max(r[k]['rss_mb'] for k in ('sync_copy', 'sync_noop', 'status')):.1f} | "
            f"{' / '.join('%.2f (%d)' % (s['seconds'], s['repositories']) for s in r['shards'])} | "
            f"{' / '.join(str(r[k]['load']) for k in ('sync_copy', 'sync_noop', 'status', 'curl_floor'))} |")
    with open(os.path.join(OUT, "org.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
