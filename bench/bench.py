"""pier benchmarks: fresh push, no-op re-push, same-registry mount, registry→registry copy and fan-out to three
registries, for pier, skopeo and a curl floor, on docker-registry instances on 127.0.0.1.

Images are made deterministically (AES-CTR keystream of a fixed key, so runs and machines see the same bytes):
  big-1g     1 layer of 1 GiB
  many-16m   64 layers of 16 MiB
  small-100k 500 layers of 100 KiB
  index-2p   a 2-platform index, 8 layers of 4 MiB per platform
  build-100m `pier build --base scratch --add site:/srv/site` of 400 × 256 KiB incompressible files, against
             `buildah bud` (FROM scratch, COPY) + `buildah push oci:` of the same tree, and pier on one core
             (`taskset -c 0`); pier's digest must be the same in every run and on one core
  build-100m-text  the same with 400 × 256 KiB of base64 text (compressible: the parallel gzip case)
  pull-256m  one 256 MiB layer from docker-registry into an OCI layout: `pier copy`, `skopeo copy`, and the floors,
             `curl` GET of the blob into a file, and the same through `tee` into `openssl dgst -sha256` (verified)
  fan-1g     the 1 GiB image published to three registries: pier publish against three curls in parallel
The build, pull and fan cases run their tools interleaved (run 1 of each tool, then run 2, …) and record the load
average beside each figure, since other work on the machine moves absolute times; the ratio table gives the ratio of
medians and the ratio of each run's pair.
BENCH_REGISTRY_DIR=DIR puts the registries' storage under DIR (a tmpfs such as /dev/shm: docker-registry fsyncs every
blob it commits, and a VM disk whose speed swings from run to run then decides the fan-out).
Each figure is the median of RUNS runs (min and max beside it), with peak RSS and CPU seconds from /usr/bin/time and
the peak private dirty memory (heap, stacks: what the process holds beyond the clean pages of its binary and
libraries) of the largest process, sampled from /proc every 20 ms. Each timed run starts after a sync, so no run
pays for writing back an earlier run's data.
"""
import hashlib, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

PIER = os.environ.get("PIER", ".build/release/pier")
RUNS = int(os.environ.get("RUNS", "3"))
CASES = os.environ.get("CASES", "big-1g,many-16m,small-100k,index-2p,build-100m,build-100m-text,pull-256m,fan-1g").split(",")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
WORK = tempfile.mkdtemp(prefix="pier-bench-")
# Where the registries keep their blobs (default: WORK, on disk). docker-registry fsyncs every blob it commits, so on
# a disk whose speed swings from run to run (this VM's: 0.85–2.9 s for the same 1 GiB) the fan-out measures the disk;
# BENCH_REGISTRY_DIR=/dev/shm (tmpfs) leaves the tools and the registries' own CPU (docs/benchmarks.md). Not REGISTRY_…:
# docker-registry reads every REGISTRY_* variable as a setting of its own.
REGISTRY_DIR = tempfile.mkdtemp(prefix="pier-bench-registries-", dir=os.environ["BENCH_REGISTRY_DIR"]) \
    if os.environ.get("BENCH_REGISTRY_DIR") else None


def keystream(seed, size):
    """Deterministic pseudo-random bytes, streamed from openssl (fast, no memory)."""
    key = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return subprocess.Popen(
        f"openssl enc -aes-128-ctr -K {key} -iv 00000000000000000000000000000000 -nosalt < /dev/zero 2>/dev/null | head -c {size}",
        shell=True, stdout=subprocess.PIPE)


def write_blob(layout, data_iter=None, data=None):
    h = hashlib.sha256()
    tmp = os.path.join(layout, "blobs", "sha256", "tmp")
    size = 0
    with open(tmp, "wb") as f:
        if data is not None:
            f.write(data); h.update(data); size = len(data)
        else:
            while True:
                chunk = data_iter.read(1 << 20)
                if not chunk:
                    break
                f.write(chunk); h.update(chunk); size += len(chunk)
    digest = h.hexdigest()
    os.replace(tmp, os.path.join(layout, "blobs", "sha256", digest))
    return {"digest": "sha256:" + digest, "size": size}


def image_manifest(layout, name, layers, layer_size, arch="amd64"):
    descs = []
    for i in range(layers):
        p = keystream(f"{name}-{arch}-{i}", layer_size)
        d = write_blob(layout, data_iter=p.stdout); p.wait()
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **d})
    config = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [x["digest"] for x in descs]}},
                        sort_keys=True).encode()
    c = write_blob(layout, data=config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **c}, "layers": descs},
                          sort_keys=True).encode()
    m = write_blob(layout, data=manifest)
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", **m, "platform": {"os": "linux", "architecture": arch}}


def make_layout(case):
    if case == "fan-1g":
        case = "big-1g"
    if case == "pull-256m":
        return make_single_layer(case, 256 << 20)
    layout = os.path.join(WORK, case)
    if os.path.exists(layout):
        return layout
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    spec = {"big-1g": (1, 1 << 30), "many-16m": (64, 16 << 20), "small-100k": (500, 100 << 10), "index-2p": (8, 4 << 20)}[case]
    if case == "index-2p":
        children = [image_manifest(layout, case, *spec, arch=a) for a in ("amd64", "arm64")]
        index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children},
                           sort_keys=True).encode()
        root = {"mediaType": "application/vnd.oci.image.index.v1+json", **write_blob(layout, data=index)}
    else:
        root = image_manifest(layout, case, *spec)
        root.pop("platform")
    root["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [root]}, f)
    return layout


def make_single_layer(case, size):
    layout = os.path.join(WORK, case)
    if os.path.exists(layout):
        return layout
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    root = image_manifest(layout, case, 1, size)
    root.pop("platform")
    root["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [root]}, f)
    return layout


def make_site(files=400, size=256 << 10, text=False):
    """The build tree: `files` files of `size` bytes under site/ (incompressible, or base64 text that deflate
    shrinks to about 75 %), and a Dockerfile beside it."""
    context = os.path.join(WORK, "build-context" + ("-text" if text else ""))
    site = os.path.join(context, "site")
    if os.path.exists(site):
        return context
    os.makedirs(site)
    for i in range(files):
        p = keystream(f"site-{i}", size * 3 // 4 if text else size)
        with open(os.path.join(site, f"file-{i:03}.bin"), "wb") as f:
            if text:
                import base64
                f.write(base64.encodebytes(p.stdout.read())[:size])
            else:
                shutil.copyfileobj(p.stdout, f)
        p.wait()
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nCOPY site /srv/site\n")
    return context


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def layout_digest(directory, tag):
    index = json.load(open(os.path.join(directory, "index.json")))
    for m in index["manifests"]:
        if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag:
            return m["digest"]
    return None


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


class Registry:
    def __init__(self, name, access_log=None):
        """docker-registry with delete enabled; with access_log, one line per request is written to that file."""
        self.dir = os.path.join(REGISTRY_DIR or WORK, "reg-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        cfg = os.path.join(self.dir, "config.yml")
        accesslog = "" if access_log else ", accesslog: {disabled: true}"
        with open(cfg, "w") as f:
            f.write(f"version: 0.1\nlog: {{level: error{accesslog}}}\n"
                    f"storage: {{filesystem: {{rootdirectory: {self.dir}/data}}, delete: {{enabled: true}}}}\n"
                    f"http: {{addr: 127.0.0.1:{self.port}}}\n")
        out = open(access_log, "wb") if access_log else subprocess.DEVNULL
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=out, stderr=subprocess.STDOUT if access_log else subprocess.DEVNULL)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1); break
            except Exception:
                time.sleep(0.05)

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate(); self.proc.wait()


def descendants(pid):
    """pid and every process below it."""
    found, queue = [], [pid]
    while queue:
        p = queue.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    queue.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return found


def private_dirty_kb(pid):
    """Anonymous and written memory of one process (smaps_rollup Private_Dirty): what it really holds, without
    the clean pages of its binary and libraries that RSS also counts."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns wall seconds, peak RSS MB, CPU seconds, and the peak of the largest
    process's private dirty memory, sampled every 20 ms."""
    fmt = "%e %M %U %S"
    # BENCH_NICE=-19 runs every timed command (pier and its references alike) ahead of other work on a shared
    # machine (see main for the session's autogroup).
    if os.environ.get("BENCH_NICE"):
        cmd = ["nice", "-n", os.environ["BENCH_NICE"]] + cmd
    start = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-f", fmt] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    peak_dirty = 0
    while proc.poll() is None:
        pids = descendants(proc.pid)[1:]  # not /usr/bin/time itself
        peak_dirty = max([peak_dirty] + [private_dirty_kb(p) for p in pids])
        time.sleep(0.02)
    stderr = proc.stderr.read()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {stderr[-800:]}")
    last = stderr.strip().splitlines()[-1].split()
    return {"seconds": wall, "rss_mb": int(last[1]) / 1024, "cpu_s": float(last[2]) + float(last[3]), "dirty_mb": peak_dirty / 1024}


def curl_push(layout, host, repo, script_name="curl.sh"):
    """The floor: curl monolithic POST + PUT of each blob, one after another (what the registry alone costs)."""
    index = json.load(open(os.path.join(layout, "index.json")))
    blobs = []
    def walk(desc):
        data = open(os.path.join(layout, "blobs", "sha256", desc["digest"][7:]), "rb").read()
        doc = json.loads(data)
        if "manifests" in doc:
            for m in doc["manifests"]:
                walk(m)
        else:
            blobs.extend([doc["config"]] + doc["layers"])
    walk(index["manifests"][0])
    script = []
    for b in blobs:
        path = os.path.join(layout, "blobs", "sha256", b["digest"][7:])
        script.append(
            f'loc=$(curl -s -D - -o /dev/null -X POST http://{host}/v2/{repo}/blobs/uploads/ | tr -d "\\r" | sed -n "s/^[Ll]ocation: //p"); '
            f'curl -s -f -o /dev/null -X PUT -H "Content-Type: application/octet-stream" -T {path} "$loc&digest={b["digest"]}"')
    sh = os.path.join(WORK, script_name)
    with open(sh, "w") as f:
        f.write("set -e\n" + "\n".join(script) + "\n")
    return ["bash", sh]


def curl_fan_out(layout, hosts, repo):
    """The fan-out floor: the curl floor to every registry at once (three registries ingesting in parallel)."""
    scripts = [curl_push(layout, h, repo, f"curl-{n}.sh")[1] for n, h in enumerate(hosts)]
    sh = os.path.join(WORK, "curl-fan.sh")
    with open(sh, "w") as f:
        f.write("set -e\n" + "\n".join(f"bash {x} &" for x in scripts) + "\nfor j in $(jobs -p); do wait $j; done\n")
    return ["bash", sh]


SKOPEO_CACHES = ["/var/lib/containers/cache/blob-info-cache-v1.sqlite", "/var/lib/containers/cache/blob-info-cache-v1.boltdb",
                 os.path.expanduser("~/.local/share/containers/cache/blob-info-cache-v1.sqlite"),
                 os.path.expanduser("~/.local/share/containers/cache/blob-info-cache-v1.boltdb")]


def forget_skopeo_blob_cache():
    """skopeo remembers where it saw each blob and mounts from there; pier has no such memory. Forget it, so both
    move the same bytes."""
    for path in SKOPEO_CACHES:
        if os.path.exists(path):
            os.remove(path)


def measure(label, make_cmd, results, case, tool, runs=RUNS, prepare=None):
    samples = []
    for i in range(runs):
        forget_skopeo_blob_cache()
        if prepare:
            prepare(i)
        cmd = make_cmd(i)
        # Every run starts with the earlier runs' writes on disk: a fan-out writes 3 GiB, and a run that starts while
        # the kernel is still writing that back is throttled for it (vmstat: 1-2 GB bursts, 40-70 % iowait), which
        # put ±25 % of noise on the 1 GiB figures.
        os.sync()
        samples.append(timed(cmd))
    secs = [s["seconds"] for s in samples]
    row = {"case": case, "scenario": label, "tool": tool, "median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs),
           "rss_mb": max(s["rss_mb"] for s in samples), "dirty_mb": max(s["dirty_mb"] for s in samples),
           "cpu_s": statistics.median(s["cpu_s"] for s in samples)}
    results.append(row)
    print(f"{case:11} {label:22} {tool:18} {row['median_s']:7.2f}s  (min {row['min_s']:.2f}, max {row['max_s']:.2f})  "
          f"rss {row['rss_mb']:6.1f} MB  dirty {row['dirty_mb']:5.1f} MB  cpu {row['cpu_s']:6.2f}s", file=sys.stderr, flush=True)


def measure_interleaved(label, tools, results, case, runs=RUNS, after=None):
    """Runs run i of every tool before run i+1 of any, so load from other work on the machine falls on all of
    them alike; `after(tool, i)` runs untimed after each run (cleanup, digest check). Records the 1-minute load
    average at each run."""
    samples = {tool: [] for tool in tools}
    loads = {tool: [] for tool in tools}
    for i in range(runs):
        for tool, make_cmd in tools.items():
            forget_skopeo_blob_cache()
            cmd = make_cmd(i)
            os.sync()
            loads[tool].append(load_average())
            samples[tool].append(timed(cmd))
            if after:
                after(tool, i)
    for tool in tools:
        secs = [x["seconds"] for x in samples[tool]]
        row = {"case": case, "scenario": label, "tool": tool, "median_s": statistics.median(secs), "min_s": min(secs),
               "max_s": max(secs), "rss_mb": max(x["rss_mb"] for x in samples[tool]),
               "dirty_mb": max(x["dirty_mb"] for x in samples[tool]),
               "cpu_s": statistics.median(x["cpu_s"] for x in samples[tool]), "load": statistics.median(loads[tool]),
               "runs_s": secs}
        results.append(row)
        print(f"{case:11} {label:22} {tool:18} {row['median_s']:7.2f}s  (min {row['min_s']:.2f}, max {row['max_s']:.2f})  "
              f"rss {row['rss_mb']:6.1f} MB  cpu {row['cpu_s']:6.2f}s  load {row['load']:.2f}", file=sys.stderr, flush=True)


def bench_build(results, case="build-100m"):
    """pier build (all cores, one core, zstd) against buildah bud + push oci: of the same tree."""
    context = make_site(text=case.endswith("text"))
    out = os.path.join(WORK, "build-out")
    digests = {}
    build = [PIER, "build", "--base", "scratch", "--add", f"{context}/site:/srv/site"]
    storage = os.path.join(WORK, "buildah-storage")
    buildah = ["buildah", "--storage-driver", "vfs", "--root", storage, "--runroot", storage + "-run"]
    script = os.path.join(WORK, "buildah.sh")
    with open(script, "w") as f:
        # buildah refuses a DOCKER_CONFIG that has no config.json ("checking authfile").
        f.write("set -e\nunset DOCKER_CONFIG\nout=$1\n"
                + " ".join(buildah) + f" bud --quiet --isolation chroot -f {context}/Dockerfile -t localhost/bench:$2 {context} >/dev/null\n"
                + " ".join(buildah) + " push --quiet localhost/bench:$2 oci:$out:latest\n")
    tools = {
        "pier": lambda i: build + ["--output", f"oci:{out}/pier-{i}:latest"],
        "pier, 1 core (taskset -c 0)": lambda i: ["taskset", "-c", "0"] + build + ["--output", f"oci:{out}/one-{i}:latest"],
        "pier --compression zstd": lambda i: build + ["--compression", "zstd", "--output", f"oci:{out}/zstd-{i}:latest"],
        "buildah bud + push oci:": lambda i: ["bash", script, f"{out}/buildah-{i}", str(i)],
    }
    def after(tool, i):
        directory = {"pier": "pier", "pier, 1 core (taskset -c 0)": "one", "pier --compression zstd": "zstd",
                     "buildah bud + push oci:": "buildah"}[tool]
        digests.setdefault(tool, []).append(layout_digest(f"{out}/{directory}-{i}", "latest"))
        shutil.rmtree(f"{out}/{directory}-{i}", ignore_errors=True)
        if tool.startswith("buildah"):
            subprocess.run(buildah + ["rmi", "-f", f"localhost/bench:{i}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    measure_interleaved("native build", tools, results, case, after=after)
    subprocess.run(buildah + ["rmi", "--all", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    same = len(set(digests["pier"] + digests["pier, 1 core (taskset -c 0)"])) == 1
    print(f"{case} pier digests: {sorted(set(digests['pier'] + digests['pier, 1 core (taskset -c 0)']))} "
          f"(identical across runs and core counts: {same}); zstd: {sorted(set(digests['pier --compression zstd']))}",
          file=sys.stderr, flush=True)
    results.append({"case": case, "scenario": "digest check", "tool": "pier", "identical": same,
                    "digests": sorted(set(digests["pier"] + digests["pier, 1 core (taskset -c 0)"]))})
    if not same:
        raise RuntimeError("pier build gave different digests across runs or core counts")


def bench_pull(results, registry, other, sk):
    """One 256 MiB layer from a registry into an OCI layout: pier copy, skopeo copy, and curl GET of the blob."""
    case = "pull-256m"
    layout = make_layout(case)
    subprocess.run([PIER, "copy", f"oci:{layout}:bench", f"{registry.host}/{case}/app:bench"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = json.load(open(os.path.join(layout, "index.json")))
    manifest = json.load(open(os.path.join(layout, "blobs", "sha256", index["manifests"][0]["digest"][7:])))
    layer = manifest["layers"][0]["digest"]
    out = os.path.join(WORK, "pull-out")
    os.makedirs(out, exist_ok=True)
    ref = f"{registry.host}/{case}/app:bench"
    tools = {
        "pier copy": lambda i: [PIER, "copy", ref, f"oci:{out}/pier-{i}:bench"],
        "skopeo copy": lambda i: sk + [f"docker://{ref}", f"oci:{out}/skopeo-{i}:bench"],
        "curl GET floor": lambda i: ["curl", "-s", "-f", "-o", f"{out}/curl-{i}", f"http://{registry.host}/v2/{case}/app/blobs/{layer}"],
        # What pier does beyond the floor: the digest check, here OpenSSL's SHA-256 (SHA-NI where the CPU has it;
        # coreutils' sha256sum has no such path) reading the download as it arrives.
        "curl | tee | openssl sha256": lambda i: ["bash", "-c", f"set -o pipefail; curl -s -f http://{registry.host}/v2/{case}/app/blobs/{layer} "
                                                 f"| tee {out}/curl-{i} | openssl dgst -sha256 >/dev/null"],
    }
    def after(tool, i):
        for name in (f"pier-{i}", f"skopeo-{i}", f"curl-{i}"):
            path = os.path.join(out, name)
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else (os.path.exists(path) and os.remove(path))
    measure_interleaved("pull to a layout", tools, results, case, after=after)
    tools = {
        "pier copy": lambda i: [PIER, "copy", ref, f"{other.host}/{case}/pcopy{i}:bench"],
        "skopeo copy": lambda i: sk + [f"docker://{ref}", f"docker://{other.host}/{case}/scopy{i}:bench"],
    }
    measure_interleaved("registry→registry", tools, results, case)


def bench_fan(results, regs):
    case = "fan-1g"
    layout = make_layout(case)
    src = f"oci:{layout}:bench"
    a, b, c = regs
    tools = {
        "pier publish": lambda i: [PIER, "publish", "--source", src, "--tag", f"run{i}", "--no-sha-tag", "--latest", "never",
                                   "--to", f"{a.host}/{case}/fan{i}", "--to", f"{b.host}/{case}/fan{i}", "--to", f"{c.host}/{case}/fan{i}"],
        "3× curl floor in parallel": lambda i: curl_fan_out(layout, [r.host for r in regs], f"{case}/cfan{i}"),
    }
    measure_interleaved("fan-out to 3", tools, results, case)


def main():
    os.makedirs(OUT, exist_ok=True)
    if os.environ.get("BENCH_NICE"):
        # Linux schedules sessions (autogroups) fairly against each other whatever a process's nice value, so the
        # priority is given to this session's group: start the bench with `setsid` to keep it to the bench.
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(os.environ["BENCH_NICE"])
        except OSError as error:
            print(f"cannot set the autogroup's nice value: {error}", file=sys.stderr)
    results = []
    regs = [Registry(f"r{i}") for i in range(3)]
    a, b, c = regs
    env_docker = os.path.join(WORK, "docker"); os.makedirs(env_docker, exist_ok=True)
    os.environ["DOCKER_CONFIG"] = env_docker
    sk = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--src-tls-verify=false"]
    try:
        for case in CASES:
            if case in ("build-100m", "build-100m-text"):
                bench_build(results, case)
                continue
            if case == "pull-256m":
                bench_pull(results, a, b, sk)
                continue
            if case == "fan-1g":
                bench_fan(results, regs)
                continue
            layout = make_layout(case)
            src = f"oci:{layout}:bench"
            all_flag = ["--all"] if case == "index-2p" else []
            # Fresh push: an empty registry for every run, so nothing is already there.
            fresh = {}
            def new_registry(i, tool):
                key = (tool, i)
                fresh[key] = Registry(f"fresh-{case}-{tool}-{i}")
                return fresh[key].host
            def drop(tool, i):
                reg = fresh.pop((tool, i))
                reg.stop()
                shutil.rmtree(reg.dir, ignore_errors=True)
            for tool, make in [("pier", lambda h: [PIER, "copy", src, f"{h}/{case}/app:bench"]),
                               ("skopeo", lambda h: sk + all_flag + [src, f"docker://{h}/{case}/app:bench"]),
                               ("curl floor", lambda h: curl_push(layout, h, f"{case}/app"))]:
                if tool == "curl floor" and case == "index-2p":
                    continue
                hosts = {}
                def cmd(i, tool=tool, make=make):
                    if i > 0:
                        drop(tool, i - 1)
                    return make(new_registry(i, tool))
                measure("fresh push", cmd, results, case, tool)
                drop(tool, RUNS - 1)
            # The later scenarios start from one full copy pushed by each tool.
            subprocess.run([PIER, "copy", src, f"{a.host}/{case}/pier0:bench"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(sk + all_flag + [src, f"docker://{a.host}/{case}/skopeo0:bench"], check=True)
            measure("no-op re-push", lambda i: [PIER, "copy", src, f"{a.host}/{case}/pier0:bench"], results, case, "pier")
            measure("no-op re-push", lambda i: sk + all_flag + [src, f"docker://{a.host}/{case}/skopeo0:bench"], results, case, "skopeo")
            measure("same-registry mount", lambda i: [PIER, "copy", f"{a.host}/{case}/pier0:bench", f"{a.host}/{case}/pmount{i}:bench"], results, case, "pier")
            measure("same-registry mount", lambda i: sk + all_flag + [f"docker://{a.host}/{case}/skopeo0:bench", f"docker://{a.host}/{case}/smount{i}:bench"], results, case, "skopeo")
            measure("registry→registry", lambda i: [PIER, "copy", f"{a.host}/{case}/pier0:bench", f"{b.host}/{case}/pcopy{i}:bench"], results, case, "pier")
            measure("registry→registry", lambda i: sk + all_flag + [f"docker://{a.host}/{case}/skopeo0:bench", f"docker://{b.host}/{case}/scopy{i}:bench"], results, case, "skopeo")
            measure("fan-out to 3", lambda i: [PIER, "publish", "--source", src, "--tag", f"run{i}", "--no-sha-tag", "--latest", "never",
                                               "--to", f"{a.host}/{case}/fan{i}", "--to", f"{b.host}/{case}/fan{i}", "--to", f"{c.host}/{case}/fan{i}"],
                    results, case, "pier publish")
            three = os.path.join(WORK, "three.sh")
            def three_skopeo(i):
                with open(three, "w") as f:
                    f.write("set -e\n" + "\n".join(" ".join(sk + all_flag + [src, f"docker://{r.host}/{case}/sfan{i}:bench"]) for r in regs) + "\n")
                return ["bash", three]
            measure("fan-out to 3", three_skopeo, results, case, "3× skopeo copy")
            if case != "index-2p":
                measure("fan-out to 3", lambda i: curl_fan_out(layout, [r.host for r in regs], f"{case}/cfan{i}"), results, case,
                        "3× curl floor in parallel")
    finally:
        for r in regs:
            r.stop()
        shutil.rmtree(WORK, ignore_errors=True)
        if REGISTRY_DIR:
            shutil.rmtree(REGISTRY_DIR, ignore_errors=True)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    def cell(text):
        return text.replace("|", "\\|")  # a tool's name may hold a pipe ("curl | tee | …")
    lines = ["| case | scenario | tool | median s | min s | max s | peak RSS MB | peak private dirty MB | CPU s | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "median_s" not in r:
            lines.append(f"| {r['case']} | {r['scenario']} | {r['tool']} | identical: {r['identical']} | {' '.join(r['digests'])} |")
            continue
        load = f"{r['load']:.2f}" if "load" in r else ""
        lines.append(f"| {r['case']} | {r['scenario']} | {cell(r['tool'])} | {r['median_s']:.2f} | {r['min_s']:.2f} | {r['max_s']:.2f} | "
                     f"{r['rss_mb']:.1f} | {r['dirty_mb']:.1f} | {r['cpu_s']:.2f} | {load} |")
    lines += ["", "| target | case | ratio of medians | per-run ratios (run i of each, interleaved) | goal |",
              "|---|---|---|---|---|"]
    def row(case, scenario, tool):
        return next((r for r in results if "median_s" in r and (r["case"], r["scenario"], r["tool"]) == (case, scenario, tool)), None)
    def median(case, scenario, tool):
        found = row(case, scenario, tool)
        return found["median_s"] if found else None
    def per_run(case, scenario, tool, base):
        x, y = row(case, scenario, tool), row(case, scenario, base)
        if not x or not y or "runs_s" not in x or "runs_s" not in y:
            return ""
        return " ".join(f"{a / b:.2f}" for a, b in zip(x["runs_s"], y["runs_s"]))
    for case, scenario, tool, base, goal in [
            ("big-1g", "fresh push", "pier", "curl floor", "≤ 1.05"), ("big-1g", "fresh push", "pier", "skopeo", "< 1"),
            ("many-16m", "fresh push", "pier", "skopeo", "≤ 0.8"), ("small-100k", "fresh push", "pier", "skopeo", "≤ 0.8"),
            ("big-1g", "fan-out to 3", "pier publish", "3× skopeo copy", "≤ 0.5"),
            ("many-16m", "fan-out to 3", "pier publish", "3× skopeo copy", "≤ 0.5"),
            ("small-100k", "fan-out to 3", "pier publish", "3× skopeo copy", "≤ 0.5"),
            ("index-2p", "fan-out to 3", "pier publish", "3× skopeo copy", "≤ 0.5"),
            ("big-1g", "fan-out to 3", "pier publish", "3× curl floor in parallel", "(machine floor)"),
            ("build-100m", "native build", "pier", "buildah bud + push oci:", "≤ 0.4"),
            ("build-100m", "native build", "pier, 1 core (taskset -c 0)", "pier", "≥ 1.7 (speed-up on 2 cores)"),
            ("build-100m", "native build", "pier --compression zstd", "buildah bud + push oci:", ""),
            ("build-100m-text", "native build", "pier", "buildah bud + push oci:", "≤ 0.4"),
            ("build-100m-text", "native build", "pier, 1 core (taskset -c 0)", "pier", "≥ 1.7 (speed-up on 2 cores)"),
            ("pull-256m", "pull to a layout", "pier copy", "skopeo copy", "≤ 0.8"),
            ("pull-256m", "pull to a layout", "pier copy", "curl GET floor", "≤ 1.1"),
            ("pull-256m", "pull to a layout", "pier copy", "curl | tee | openssl sha256", "(verified floor)"),
            ("pull-256m", "registry→registry", "pier copy", "skopeo copy", "< 1"),
            ("fan-1g", "fan-out to 3", "pier publish", "3× curl floor in parallel", "≤ 1.0")]:
        x, y = median(case, scenario, tool), median(case, scenario, base)
        if x and y:
            lines.append(f"| {scenario}: {cell(tool)} / {cell(base)} | {case} | {x / y:.2f} | {per_run(case, scenario, tool, base)} | {goal} |")
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
