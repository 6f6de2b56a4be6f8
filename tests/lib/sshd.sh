# An sshd of a test's own (sourced after common.sh): its folder, host key and config, key
# authentication only, nothing of the system's sshd touched. The caller starts it in its network
# namespace: ip netns exec NS /usr/sbin/sshd -D -f DIR/sshd_config -E LOG &
# shellcheck shell=bash

# sshd_server DIR IP CLIENT_PUB: DIR/host_key, DIR/authorized_keys (the client's public key
# CLIENT_PUB), DIR/sshd_config listening on IP:22; and /run/sshd, the privilege separation folder
# that Debian's sshd.service would create at boot.
sshd_server() {
  local dir=$1 ip=$2 pub=$3
  mkdir -p "$dir" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -C "pwru-test-host-$ip" -f "$dir/host_key" ||
    fail "cannot make the host key of $ip"
  cp "$pub" "$dir/authorized_keys"
  cat >"$dir/sshd_config" <<EOF
ListenAddress $ip:22
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel INFO
# The keys sit in the test's scratch folder under /tmp, which is writable by all.
StrictModes no
EOF
}

# sshd_known_host DIR IP: the known_hosts line of sshd_server DIR IP's host key, so that the host
# is known before the first connection: no question, and no other key accepted.
sshd_known_host() {
  echo "$2 $(cut -d' ' -f1,2 "$1/host_key.pub")"
}
