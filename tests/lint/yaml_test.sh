#!/usr/bin/env bash
# The Kubernetes manifests of packaging/kubernetes parse as YAML (python3-yaml), and the DaemonSet
# has what pwrudump needs on a node: privileged, the host's network and PID namespaces, and the
# mounts of the kernel's views. Not a cluster: nothing here applies them.
# usage: yaml_test.sh SOURCE_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
src=$1
python3 -c 'import yaml' 2>/dev/null || skip_or_fail "needs python3-yaml (packaging/install-deps.sh lint)"
python3 - "$src"/packaging/kubernetes/*.yaml <<'PY' || fail "the manifests are not what pwrudump needs"
import sys, yaml
found = False
for path in sys.argv[1:]:
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        assert "apiVersion" in d and "kind" in d, f"{path}: a document without apiVersion/kind"
        if d["kind"] != "DaemonSet":
            continue
        found = True
        pod = d["spec"]["template"]["spec"]
        assert pod.get("hostNetwork") is True, "hostNetwork"
        assert pod.get("hostPID") is True, "hostPID"
        c = pod["containers"][0]
        assert c["securityContext"]["privileged"] is True, "privileged"
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        for need in ("/sys/kernel/btf", "/sys/kernel/tracing", "/sys/fs/bpf", "/host/proc"):
            assert need in mounts, f"mount {need}"
        assert d["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items(), "selector"
assert found, "no DaemonSet"
print("PASS: the manifests parse; the DaemonSet is privileged, on the host's network and PID "
      "namespaces, with the BTF, tracing, bpffs and /proc mounts")
PY
