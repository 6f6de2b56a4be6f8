#!/usr/bin/env bash
# A capture runs in Wireshark (Qt): `wireshark -k -i pwru -f 'icmp and host B' -C pwru`, as an
# unprivileged user with a copy of pwrudump in the personal extcap folder that holds only the
# capabilities the tracepoint backend needs (gui-lib.sh), in the drop scenario of
# tests/e2e/extcap_test.sh (two namespaces, a veth pair, iptables drops ICMP in B). Pings cross
# once pwrudump is attached, while Wireshark captures; a screenshot of the live packet list must
# show the profile's drop colour, no error dialog may open, and the capture Wireshark saved must
# hold every ping's drop.
#
# Then, in the same window, the saved capture as a user would look at it: one dropped ping's
# journey (display filter, Go to Packet, the journey opened in the details) and Statistics >
# PWRU > Drops, whose tree, read off the screen (OCR), must count every drop by reason,
# interface and function.
#
# usage: capture_test.sh BUILD_DIR PWRUDUMP [OUT_DIR]
#   OUT_DIR (default: a temporary folder) receives the screenshots: wireshark-live.png (the live
#   packet list), wireshark-journey.png, wireshark-drops.png (the dialog). docs/images has them:
#   tests/gui/capture_test.sh BUILD_DIR BUILD_DIR/extcap/pwrudump docs/images
#   PWRU_GUI_CAPS: the copy's capabilities instead of cap_bpf,cap_perfmon+ep (gui-lib.sh).
#   Needs root (namespaces, iptables, setcap), wireshark (wireshark-qt), tshark, Xvfb (xvfb),
#   xdotool, ImageMagick (imagemagick), tesseract (tesseract-ocr, tesseract-ocr-eng), setpriv
#   and setcap (libcap2-bin), ip, iptables, ping.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=gui-lib.sh
. "$here/gui-lib.sh"
{ [ $# -ge 2 ] && [ $# -le 3 ]; } || fail "usage: capture_test.sh BUILD_DIR PWRUDUMP [OUT_DIR]"
PWRUDUMP=$(readlink -f "$2")
[ -x "$PWRUDUMP" ] || fail "no pwrudump at $2"
TSHARK_PLUGIN="$here/../lib/tshark-plugin.sh"

require_root
require_cmd wireshark tshark Xvfb xdotool import convert tesseract setpriv setcap ip iptables ping
PINGS=8

netns_pair
del_netns() {
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
}
GUI_CLEANUP_HOOK=del_netns
gui_setup "$1"
OUT=${3:-$WORK/shots}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
mkdir "$WORK/capture" && chown nobody:nogroup "$WORK/capture"
gui_install_extcap "$PWRUDUMP" "$GUI_CAPS" "$WORK/capture/ready"
ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"

gui_start_x
# The tracepoint backend: the one the capabilities are for (auto picks it on kernels without
# kprobes and fentry, and would need more elsewhere).
gui_start_wireshark -C pwru -k -i pwru -f "icmp and host $IP_B" \
  -o extcap.pwru.backend:tracepoint -w "$WORK/capture/live.pcapng" \
  -o gui.geometry_main_upper_pane:750
gui_wait_window '^Capturing from pwru' 60
wait_attached "$WORK/capture/ready" "pwrudump under Wireshark (log: $(cat "$WORK/wireshark.log"))"
ip netns exec "$NS_A" ping -c $PINGS -i 0.25 -W 1 "$IP_B" >/dev/null
sleep 3  # the live view updates about once a second
gui_screenshot "$OUT/wireshark-live.png"
# An extcap that fails shows "Error by extcap pipe: ..." in a dialog of its own.
others=$(gui_other_windows)
[ -z "$others" ] ||
  fail "Wireshark opened other windows during the capture (see $OUT/wireshark-live.png): $others"

# The drop rows are red: the background of the profile's rule "pwru drop".
red=$(gui_profile_bg "pwru drop") || exit 1
n=$(gui_color_pixels "$OUT/wireshark-live.png" "$red")
# A row is about 1900x17 pixels; text covers part of it: a few rows leave well over 10000.
[ "$n" -ge 10000 ] ||
  fail "the live packet list has $n pixels of the drop colour #$red: no red rows"

# Stop as a user would (Capture > Stop, Ctrl+E); the window then shows the saved file.
xdotool windowfocus --sync "$WIN" key ctrl+e
gui_wait_window '^live\.pcapng' 30
sleep 1
others=$(gui_other_windows)
[ -z "$others" ] || fail "Wireshark opened other windows when the capture stopped: $others"
cp "$WORK/capture/live.pcapng" "$WORK/live.pcapng"

drops=$(fields "$WORK/live.pcapng" -Y 'pwru.drop && pwru.drop_reason == "NETFILTER_DROP"' \
          -e frame.number -e pwru.journey -e pwru.ip.dst -e pwru.ifname -e pwru.probe)
nd=$(count_lines "$drops")
assert_eq "pings seen dropped in the capture Wireshark saved" "$PINGS" "$nd"
while read -r _ _ dst ifname probe; do
  assert_eq "pwru.ip.dst" "$IP_B" "$dst"
  assert_eq "pwru.ifname" "$VETH_B" "$ifname"
  assert_eq "pwru.probe (backend tracepoint)" 1 "$probe"
done <<<"$drops"

# One dropped ping's journey, as a user would look at it: the display filter on its journey,
# the drop selected (Go to Packet), the details pane made taller (the splitter, dragged) and the
# journey opened in the drop's pwru tree. Positions are those of this layout on 1920x1080.
read -r frame journey _ <<<"$(sed -n 2p <<<"$drops")"
xdotool windowfocus --sync "$WIN" key ctrl+slash
sleep 0.3
# In parentheses: a filter that ends in a digit opens the completer's popup, which takes the
# keyboard from the window.
xdotool type --delay 20 "(pwru.journey == $journey)"
xdotool key Return
sleep 1
xdotool key ctrl+g
sleep 0.3
xdotool type --delay 20 "$frame"
xdotool key Return
sleep 1
# The splitter's handle is at y 1034 with the upper pane 750 high (-o above).
xdotool mousemove --window "$WIN" 960 1034 mousedown 1 mousemove --window "$WIN" 960 700 \
  mousemove --window "$WIN" 960 330 mouseup 1
sleep 0.5
# Details rows: Frame, EXPORTED_PDU, pwru, the payload's layers. Select pwru, step down to the
# next layer, expand pwru with its arrow: one step up is then pwru's last item, the journey.
xdotool mousemove --window "$WIN" 80 374 click 1
sleep 0.3
xdotool key Down
sleep 0.3
xdotool mousemove --window "$WIN" 10 374 click 1
sleep 0.3
xdotool key Up Right
sleep 0.3
# Down through the journey's items and back: all of them in view, the journey selected.
mapfile -t keys < <(printf 'Down\n%.0s' $(seq 8); printf 'Up\n%.0s' $(seq 8))
xdotool key --delay 40 "${keys[@]}"
sleep 1
gui_screenshot "$OUT/wireshark-journey.png"
# The drop is selected; the journey's other rows are pink ("pwru dropped journey").
pink=$(gui_profile_bg "pwru dropped journey") || exit 1
np=$(gui_color_pixels "$OUT/wireshark-journey.png" "$pink")
[ "$np" -ge 10000 ] ||
  fail "no pink rows of a dropped journey in $OUT/wireshark-journey.png ($np pixels of #$pink)"

# Statistics > PWRU > Drops (the last entry of the Statistics menu; its second item, the items
# sorted by name: Dropped journeys, Drops, Functions, Journeys), over the whole capture again.
xdotool key ctrl+slash ctrl+a BackSpace Return
sleep 1
xdotool key alt+s
sleep 0.5
xdotool key Up Right
sleep 0.5
xdotool key Down Return
dialog=
for _ in $(seq 50); do
  dialog=$(xdotool search --onlyvisible --name '^Wireshark · Drops · live\.pcapng' | head -1)
  [ -n "$dialog" ] && break
  sleep 0.2
done
[ -n "$dialog" ] || fail "Statistics > PWRU > Drops did not open; windows: $(gui_other_windows)"
sleep 2
xdotool mousemove 1910 1075
import -window "$dialog" "$OUT/wireshark-drops.png" || fail "cannot take the screenshot of Drops"
others=$(gui_other_windows | grep -v "^'Wireshark · Drops · ")
[ -z "$others" ] || fail "Wireshark opened other windows: $others"
kill -0 "$WS_PID" 2>/dev/null || fail "wireshark exited: $(cat "$WORK/wireshark.log")"
# What the dialog shows: every drop counted under Drops and each of its branches.
text=$(gui_ocr "$OUT/wireshark-drops.png")
for row in Drops NETFILTER_DROP "$VETH_B" kfree_skb; do
  grep -Eq "(^|[^[:alnum:]_])$row $nd( |\$)" <<<"$text" ||
    fail "the Drops dialog does not show '$row $nd' ($OUT/wireshark-drops.png); read: $text"
done

pass "wireshark -k -i pwru captured all $nd drops as nobody with $GUI_CAPS; red rows ($n" \
  "pixels), a journey, Drops counting them: $OUT/wireshark-{live,journey,drops}.png"
