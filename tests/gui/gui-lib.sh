# Shared by the GUI tests: the real Wireshark (Qt) on a virtual X server, with the build tree's
# plugin, the "pwru" profile as installed, and (optionally) a copy of pwrudump in the user's
# personal extcap folder. Source tests/lib/common.sh first, then this file.
#
# As root Wireshark ignores WIRESHARK_PLUGIN_DIR, WIRESHARK_DATA_DIR and the personal plugin
# folder, so as root Wireshark runs as nobody:nogroup (setpriv) from copies under $WORK, a folder
# under /tmp (mode 0755) that user nobody can enter. Capturing as nobody needs BPF privileges:
# the copy of pwrudump gets them as file capabilities (gui_install_extcap).
#
#   gui_setup BUILD [SCENARIO]   $WORK with plugins/, share/ (the profile), home/; sets GUI_AS;
#                           with SCENARIO, pwru-mkcapture's capture $WORK/SCENARIO.pcapng
#   gui_install_extcap PWRUDUMP [CAPS [READY]]   (CAPS "" gives none)
#                           a copy in home/.config/wireshark/extcap, with file capabilities;
#                           with READY, the copy creates READY once attached (extcap_link)
#   gui_start_x             Xvfb 1920x1080 on a free display; exports DISPLAY
#   gui_run CMD...          CMD as Wireshark's user, with Wireshark's environment
#   gui_start_wireshark ARGS...   wireshark in the background (WS_PID, log in $WORK/wireshark.log)
#   gui_wait_window REGEX [SECONDS]   sets WIN to the visible window whose title matches
#   gui_screenshot OUT.png  the whole screen
#   gui_color_pixels FILE RRGGBB      how many pixels have exactly this colour
#   gui_profile_bg RULE     the background of the profile's colouring rule RULE, as rrggbb
#   gui_other_windows       titles of visible windows other than $WIN (dialogs), one a line
#   gui_ocr PNG [WINDOW]    the text of PNG (of WINDOW's region in it) as read off the screen
#   gui_text_at PNG REGEX [WINDOW]   "X Y": the middle of the first word of PNG (of WINDOW's
#                           region in it) matching REGEX, as read off the screen
# shellcheck shell=bash

# The capabilities pwrudump needs for the tracepoint backend as a user other than root, no more:
# CAP_BPF (maps, programs) and CAP_PERFMON (tracing programs, reading kernel memory); see
# docs/privileges.md. PWRU_GUI_CAPS=cap_bpf,cap_perfmon,cap_syslog+ep adds what the package
# grants for callers by name (nft_do_chain+0x46f rather than an address): the docs' screenshots.
GUI_CAPS=${PWRU_GUI_CAPS:-cap_bpf,cap_perfmon+ep}

XVFB_PID='' WS_PID='' WIN='' GUI_AS=()

# Wireshark killed while capturing leaves dumpcap and pwrudump running (attached): they are
# stopped first, by their ids.
gui_cleanup() {
  local rc=$? pids p
  if [ -n "$WS_PID" ]; then
    pids=$(descendants "$WS_PID")  # dumpcap and the extcaps
    # shellcheck disable=SC2086  # one argument per pid
    [ -n "$pids" ] && kill $pids 2>/dev/null
    kill "$WS_PID" 2>/dev/null && wait "$WS_PID" 2>/dev/null
    for p in $pids; do
      for _ in $(seq 50); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$p" 2>/dev/null
    done
  fi
  if [ -n "$XVFB_PID" ]; then
    kill "$XVFB_PID" 2>/dev/null && wait "$XVFB_PID" 2>/dev/null
  fi
  [ -n "${GUI_CLEANUP_HOOK:-}" ] && "$GUI_CLEANUP_HOOK"
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
  exit $rc
}

gui_setup() {
  BUILD=$(cd "$1" && pwd) || fail "cannot open the build folder $1"
  WORK=$(mktemp -d /tmp/pwru-gui.XXXXXX) || fail "cannot create a temporary folder"
  trap gui_cleanup EXIT
  chmod 0755 "$WORK"
  cp -r "$BUILD/dissector/plugins" "$WORK/plugins" ||
    fail "cannot copy $BUILD/dissector/plugins (build the pwru target)"
  # A data folder that is the global one plus the "pwru" profile as cmake --install lays it out.
  local global f
  global=$(tshark -G folders 2>/dev/null | sed -n 's/^Global configuration:[[:space:]]*//p')
  [ -n "$global" ] || fail "tshark -G folders names no global configuration folder"
  DESTDIR="$WORK/stage" cmake --install "$BUILD" --component profile >"$WORK/install.log" 2>&1 ||
    fail "cannot install the profile: $(cat "$WORK/install.log")"
  mkdir -p "$WORK/share/profiles" "$WORK/home/run" "$WORK/no-extcap"
  for f in "$global"/*; do
    [ "$(basename "$f")" = profiles ] || ln -s "$f" "$WORK/share/"
  done
  cp -r "$WORK/stage$global/profiles/pwru" "$WORK/share/profiles/"
  if [ -n "${2:-}" ]; then
    "$BUILD/tests/dissector/pwru-mkcapture" "$WORK/$2.pcapng" "$2" ||
      fail "pwru-mkcapture failed (build the pwru-mkcapture target)"
  fi
  chmod -R a+rX "$WORK"
  chmod 0700 "$WORK/home/run"
  GUI_AS=()
  if [ "$(id -u)" -eq 0 ]; then
    chown -R nobody:nogroup "$WORK/home"
    GUI_AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  fi
}

# The personal extcap folder is the one Wireshark searches first. The copy and its folder belong
# to root: Wireshark's user runs it and cannot change it.
gui_install_extcap() {
  local pwrudump=$1 caps=${2-$GUI_CAPS} ready=${3:-} dir="$WORK/home/.config/wireshark/extcap"
  local copy="$dir/pwrudump"
  mkdir -p "$dir" || fail "cannot create $dir"
  # With READY, the copy sits beside the folder and the folder holds extcap_link's wrapper.
  [ -n "$ready" ] && copy="$WORK/home/.config/pwrudump"
  cp "$pwrudump" "$copy" || fail "cannot copy $pwrudump"
  [ -n "$ready" ] && extcap_link "$dir" "$copy" "$ready"
  chmod 0755 "$WORK/home/.config" "$WORK/home/.config/wireshark" "$dir" "$copy"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R root:root "$WORK/home/.config"
    # Wireshark writes its own files (recent, profiles) there: the folder stays writable for it.
    chown nobody:nogroup "$WORK/home/.config/wireshark"
    if [ -n "$caps" ]; then
      setcap "$caps" "$copy" || fail "setcap $caps on the copy of pwrudump failed"
    fi
  fi
}

# Xvfb picks the display itself (-displayfd: the first free one, claimed by its lock file) and
# writes its number once it listens, so tests starting side by side never pick the same one.
gui_start_x() {
  local display=''
  Xvfb -displayfd 3 -screen 0 1920x1080x24 -ac -nolisten tcp 3>"$WORK/xvfb.display" \
    >"$WORK/xvfb.log" 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 100); do
    display=$(sed -n '/^[0-9][0-9]*$/p' "$WORK/xvfb.display" 2>/dev/null)
    [ -n "$display" ] && break
    sleep 0.1
  done
  [ -n "$display" ] || fail "Xvfb did not start: $(cat "$WORK/xvfb.log")"
  export DISPLAY=":$display"
  # Wait for an answer, as a client sees it.
  for _ in $(seq 100); do
    xdotool getdisplaygeometry >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "Xvfb on $DISPLAY does not answer: $(cat "$WORK/xvfb.log")"
}

# WIRESHARK_EXTCAP_DIR replaces the global extcap folder with an empty one: an installed
# pwrudump must not stand in for the copy under test.
gui_run() {
  "${GUI_AS[@]}" env -u XDG_CONFIG_HOME HOME="$WORK/home" WIRESHARK_PLUGIN_DIR="$WORK/plugins" \
    WIRESHARK_DATA_DIR="$WORK/share" WIRESHARK_EXTCAP_DIR="$WORK/no-extcap" QT_QPA_PLATFORM=xcb \
    XDG_RUNTIME_DIR="$WORK/home/run" "$@"
}

# The window as large as the screen, the packet list above the details, no bytes pane.
gui_start_wireshark() {
  gui_run wireshark -o gui.geometry_main_x:0 -o gui.geometry_main_y:0 \
    -o gui.geometry_main_width:1920 -o gui.geometry_main_height:1080 \
    -o gui.layout_content_3:NONE "$@" >"$WORK/wireshark.log" 2>&1 &
  WS_PID=$!
}

gui_wait_window() {
  local regex=$1 seconds=${2:-60}
  WIN=
  for _ in $(seq $((seconds * 5))); do
    WIN=$(xdotool search --onlyvisible --name "$regex" 2>/dev/null | head -1)
    [ -n "$WIN" ] && break
    kill -0 "$WS_PID" 2>/dev/null || fail "wireshark exited: $(cat "$WORK/wireshark.log")"
    sleep 0.2
  done
  [ -n "$WIN" ] || fail "no window '$regex' after ${seconds}s; windows: $(gui_other_windows);" \
    "log: $(cat "$WORK/wireshark.log")"
  xdotool windowmove "$WIN" 0 0 windowsize "$WIN" 1920 1080
}

gui_screenshot() {
  mkdir -p "$(dirname "$1")"
  # Away from the rows, so that no hover highlight changes a colour.
  xdotool mousemove 1910 1075
  sleep 0.3
  import -window root "$1" || fail "cannot take the screenshot $1"
}

gui_color_pixels() {
  local c
  c=$(tr 'a-f' 'A-F' <<<"$2")
  convert "$1" -format %c histogram:info:- |
    awk -v c="#$c" '$3 == c { sub(":", "", $1); print $1; f = 1 } END { if (!f) print 0 }'
}

gui_profile_bg() {
  local bg
  bg=$(awk -F'@' -v r="$1" '$2 == r { print $4 }' "$WORK/share/profiles/pwru/colorfilters" |
       sed -n 's/^\[\([0-9]*\),\([0-9]*\),\([0-9]*\)\].*/\1 \2 \3/p')
  [ -n "$bg" ] || fail "no rule '$1' in the profile's colorfilters"
  # 16-bit components; Qt draws their high bytes.
  local r g b
  read -r r g b <<<"$bg"
  printf '%02x%02x%02x' $((r / 257)) $((g / 257)) $((b / 257))
}

# By class: a message box has no WM_NAME, which `search --name` reads, only _NET_WM_NAME.
gui_other_windows() {
  local w
  for w in $(xdotool search --onlyvisible --class '^wireshark$' 2>/dev/null); do
    [ "$w" = "$WIN" ] && continue
    echo "'$(xdotool getwindowname "$w" 2>/dev/null)'" \
      "($(xdotool getwindowgeometry "$w" | sed -n 's/.*Geometry: //p'))"
  done
}

# Text that Qt draws is not selectable on xcb, so the tests read it the way a user does: off the
# screen, enlarged and in grey, through OCR (tesseract). Line breaks stay; see error_test.sh.
gui_ocr() {
  local png=$1 win=${2:-}
  local crop=()
  [ -n "$win" ] && crop=(-crop "$(gui_window_box "$win")" +repage)
  convert "$png" "${crop[@]}" -resize 300% -colorspace Gray "$WORK/ocr.png" ||
    fail "cannot prepare $png for OCR"
  tesseract "$WORK/ocr.png" - 2>/dev/null || fail "tesseract cannot read $png"
}

# WINDOW's region of the screen as ImageMagick crops: WIDTHxHEIGHT+X+Y.
gui_window_box() {
  local geometry
  # WINDOW=... X=... Y=... WIDTH=... HEIGHT=... SCREEN=..., one a line
  geometry=$(xdotool getwindowgeometry --shell "$1") || fail "no geometry of window $1"
  awk -F= '{ v[$1] = $2 } END { printf "%sx%s+%s+%s", v["WIDTH"], v["HEIGHT"], v["X"], v["Y"] }' \
    <<<"$geometry"
}

# Where a menu item or a button is drawn, found the way gui_ocr reads: tesseract's word boxes
# (its TSV: left, top, width and height in columns 7-10, the word in 12) on the same enlarged
# copy, of WINDOW's region only when given (a whole screen takes tesseract half a minute).
gui_text_at() {
  local png=$1 re=$2 win=${3:-} box=0x0+0+0
  local crop=()
  if [ -n "$win" ]; then
    box=$(gui_window_box "$win")
    crop=(-crop "$box" +repage)
  fi
  convert "$png" "${crop[@]}" -resize 300% -colorspace Gray "$WORK/ocr-at.png" ||
    fail "cannot prepare $png for OCR"
  tesseract "$WORK/ocr-at.png" - tsv 2>/dev/null | tee "$WORK/ocr-at.tsv" |
    awk -F'\t' -v re="$re" -v box="$box" 'BEGIN { split(box, b, /[x+]/) }
      NR > 1 && $12 ~ re && !f {
        printf "%d %d\n", b[3] + ($7 + $9 / 2) / 3, b[4] + ($8 + $10 / 2) / 3; f = 1
      } END { exit !f }'
}
