#!/bin/sh
# Prints a hosts-file line per node of the current kubectl context: each node becomes Wireshark's
# interface pwru@NODE, reached by `kubectl exec` into that node's pwrudump pod (the DaemonSet of
# pwrudump-daemonset.yaml). Append them to the hosts file:
#   packaging/kubernetes/hosts-lines.sh >> ~/.config/pwrudump/hosts
# A line (docs/many-hosts.md) finds the node's pod when the capture starts, so that it survives
# the pods being replaced:
#   NODE kubectl exec -i -n pwrudump $(kubectl get pod -n pwrudump -o name
#        -l app.kubernetes.io/name=pwrudump --field-selector spec.nodeName=NODE) -- pwrudump-exec {}
# kubectl exec runs pwrudump-exec without a shell in between: {} (the arguments quoted once).
# -i and pwrudump-exec (../container/pwrudump-exec) stop pwrudump when kubectl goes away.
set -eu
ns=${PWRUDUMP_NAMESPACE:-pwrudump}
sel=app.kubernetes.io/name=pwrudump
kubectl get pods -n "$ns" -l "$sel" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' |
  sort -u | while read -r node; do
    # Host names in the hosts file are letters, digits, '.', '_' and '-': node names are.
    # shellcheck disable=SC2016  # $(...) is for the hosts file's shell, when a capture starts
    printf '%s kubectl exec -i -n %s $(kubectl get pod -n %s -o name -l %s --field-selector spec.nodeName=%s) -- pwrudump-exec {}\n' \
      "$node" "$ns" "$ns" "$sel" "$node"
  done
