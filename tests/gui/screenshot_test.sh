#!/usr/bin/env bash
# Opens the sample capture in the real Wireshark (Qt) with the "pwru" profile and the build
# tree's plugin, on a virtual X server, saves a screenshot and checks that it shows the profile's
# colours: the drop row red, the reset yellow, the dropped journey pink, the free grey.
#
# usage: screenshot_test.sh BUILD_DIR OUT.png
#   Needs wireshark (wireshark-qt), Xvfb (xvfb), xdotool and ImageMagick's import and convert
#   (imagemagick). The screenshot in docs/images/ is made with OUT = docs/images/wireshark-pwru.png.
#
# As root Wireshark ignores WIRESHARK_PLUGIN_DIR and WIRESHARK_DATA_DIR, so it runs as
# nobody:nogroup from copies of the plugin, the profile and the capture (see gui-lib.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=gui-lib.sh
. "$here/gui-lib.sh"
[ $# -eq 2 ] || fail "usage: screenshot_test.sh BUILD_DIR OUT.png"
OUT=$2
require_cmd wireshark tshark Xvfb xdotool import convert
[ "$(id -u)" -ne 0 ] || require_cmd setpriv

gui_setup "$1" sample

# Frame 5 (the drop) selected; the window as large as the screen, the packet list as tall as
# the sample, no bytes pane: room for the drop's details.
gui_start_x
gui_start_wireshark -C pwru -r "$WORK/sample.pcapng" -g 5
# Wait for the main window to show the file, then let it draw.
gui_wait_window 'sample.pcapng' 60
win=$WIN
sleep 3
# In the details: open pwru (the third tree: Frame, EXPORTED_PDU, pwru; clicked where this
# layout puts it on Xvfb's 1920x1080 screen) and its journey (the last of its 27 items), and
# select the journey's last field (the 5th: frame 5 has no next event).
xdotool windowfocus --sync "$win" mousemove --window "$win" 80 619 click 1
sleep 0.5
mapfile -t keys < <(echo Right; printf 'Down\n%.0s' $(seq 27); echo Right; printf 'Down\n%.0s' $(seq 5))
xdotool key --delay 30 "${keys[@]}"
sleep 2
gui_screenshot "$OUT"

# The profile's row colours must be on screen (backgrounds from packaging/profiles/pwru).
colors=$(convert "$OUT" -format %c histogram:info:- | tr 'A-F' 'a-f')
for c in 'ff9e9e drop' 'fffc9c reset' 'ffdfdf dropped journey' 'dcdcdc free' \
         'd8e9ff transmit' 'dffada receive'; do
  grep -q "#${c%% *}" <<<"$colors" || fail "no ${c#* } colour #${c%% *} in $OUT"
done
pass "Wireshark with -C pwru shows the sample in the profile's colours: $OUT"
