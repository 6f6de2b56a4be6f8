# shellcheck shell=bash disable=SC2034  # APT_OPTS and APT_ERROR are for the caller
# Debian's archive through apt's ordinary client, for the VM scripts (sourced by fetch-kernel.sh
# and fetch-pwru.sh): the address is read from this machine's apt configuration at run time, a
# suite's package lists go into a private folder with a temporary sources list, so the
# machine's own lists are never touched, and what is fetched is kept in a locked cache folder.

# archive_uri: the Debian archive of this machine: the first `deb` source whose suite is a
# release (no -updates/-security), from deb822 .sources files or one-line .list files.
archive_uri() {
  local f
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && uri != "") {
          n = split(suites, s, " ")
          for (i = 1; i <= n; i++) if (s[i] !~ /[-\/]/) { print uri; found = 1; exit }
        }
        types = ""; uri = ""; suites = ""; enabled = ""; key = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (key == "suites") suites = suites " " $0; next }
      {
        key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
        gsub(/^[ \t]+|[ \t]+$/, "", val)
        if (key == "types") types = val
        else if (key == "uris") { split(val, u, " "); uri = u[1] }
        else if (key == "suites") suites = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { if (!found) flush() }' "$f"
  done | head -n 1 | grep . && return 0
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" {
           i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
           if ($(i + 1) !~ /[-\/]/) { print $i; exit }
         }' | grep .
}

# suite_lists DIR SUITE: reads SUITE's package lists (main, amd64) into the private folder DIR
# (which must exist; apt downloads as user _apt, so it is made world-readable) and sets APT_OPTS,
# the options that make apt-get and apt-cache use them. When the lists cannot be read, returns 1
# with the reason in APT_ERROR.
suite_lists() {
  local dir=$1 suite=$2 uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  APT_ERROR="cannot find the Debian archive in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  uri=$(archive_uri) || return 1
  APT_ERROR="cannot read $keyring: install debian-archive-keyring"
  [ -r "$keyring" ] || return 1
  chmod 755 "$dir"
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb [signed-by=$keyring] $uri $suite main" >"$dir/sources.list"
  APT_OPTS=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=-
            -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o Dir::State::status=/dev/null
            -o APT::Architecture=amd64 -o APT::Architectures::=amd64
            # The archive copy these machines reach may be older than sid's Release file
            # allows; signatures are still checked.
            -o Acquire::Check-Valid-Until=false)
  echo "$(basename "$0"): reading $suite from $uri" >&2
  apt-get "${APT_OPTS[@]}" -qq update >"$dir/update.log" 2>&1 || {
    APT_ERROR="cannot read the $suite package lists from $uri: $(tail -n 5 "$dir/update.log")"
    return 1
  }
}

# cached_or_fetch DIR CACHED FETCH WHAT: the cache folder DIR made and locked (tests of several
# kernels, or two builds, may fetch at the same time), FETCH run unless CACHED finds the files
# or PWRU_VM_REFRESH=1, then CACHED, which prints them. Returns 1 with the reason in APT_ERROR.
cached_or_fetch() {
  local dir=$1 cached=$2 fetch=$3 what=$4
  APT_ERROR="needs apt-get and dpkg-deb (a Debian machine)"
  { command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; } || return 1
  APT_ERROR="cannot create the VM cache $dir (set PWRU_VM_CACHE)"
  mkdir -p "$dir" 2>/dev/null || return 1
  APT_ERROR="cannot write to the VM cache $dir (run as root or set PWRU_VM_CACHE)"
  [ -w "$dir" ] || return 1
  exec 9>"$dir/.lock"
  flock 9
  if [ "${PWRU_VM_REFRESH:-}" = 1 ] || ! "$cached" >/dev/null; then
    "$fetch"
  fi
  APT_ERROR="the cache $dir holds no $what after fetching"
  "$cached"
}
