#!/usr/bin/env bash
# Opens Statistics > Flow Graph in the real Wireshark (Qt) on the sample capture, chooses the
# "PWRU journeys" flow and reads the picture off the screen (OCR): the places (netns/interface)
# as nodes, the moves between them labelled with their functions, and each dropped journey
# ending in a node named after its drop reason. "All Flows" (the dialog's default) or an empty
# graph shows none of these. Saves a screenshot of the dialog.
#
# usage: flow_test.sh BUILD_DIR OUT.png
#   Needs wireshark (wireshark-qt), Xvfb (xvfb), xdotool, ImageMagick (imagemagick) and
#   tesseract (tesseract-ocr, tesseract-ocr-eng). The screenshot in docs/images/ is made with
#   OUT = docs/images/wireshark-flow.png.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=gui-lib.sh
. "$here/gui-lib.sh"
[ $# -eq 2 ] || fail "usage: flow_test.sh BUILD_DIR OUT.png"
OUT=$2
require_cmd wireshark Xvfb xdotool import convert tesseract
[ "$(id -u)" -ne 0 ] || require_cmd setpriv

gui_setup "$1" sample

gui_start_x
gui_start_wireshark -C pwru -r "$WORK/sample.pcapng"
gui_wait_window 'sample.pcapng' 60
sleep 3

# click_text WHAT REGEX WINDOW: clicks the first word in WINDOW matching REGEX.
click_text() {
  local at
  gui_screenshot "$WORK/menu.png"
  at=$(gui_text_at "$WORK/menu.png" "$2" "$3") ||
    fail "cannot find $1 on the screen; words read: $(cut -f 12 "$WORK/ocr-at.tsv" | xargs)"
  # shellcheck disable=SC2086  # X and Y
  xdotool mousemove $at click 1
}

# Statistics > Flow Graph: the menu lists its items without keyboard shortcuts.
xdotool windowfocus --sync "$WIN" key alt+s
sleep 1
# The open menu is the one window of Wireshark's besides the main one.
menu=$(xdotool search --onlyvisible --class '^wireshark$' | grep -vx "$WIN" | head -1)
[ -n "$menu" ] || fail "Alt+S opened no Statistics menu; windows: $(gui_other_windows)"
click_text "Statistics > Flow Graph" '^Flow$' "$menu"
gui_wait_window '^Wireshark · Flow · sample\.pcapng' 10
dialog=$WIN
# Small enough for the docs, large enough for every node and comment.
xdotool windowsize "$dialog" 1400 360
sleep 2

# Flow type: "All Flows" -> "PWRU journeys", chosen from the list by typing its name.
click_text "the flow type All Flows" '^Flows$' "$dialog"
sleep 1
xdotool type --delay 50 PWRU
xdotool key Return
sleep 3
xdotool mousemove 1910 1075
sleep 0.3
import -window "$dialog" "$OUT" || fail "cannot take the screenshot of the flow graph"
kill -0 "$WS_PID" 2>/dev/null || fail "wireshark exited: $(cat "$WORK/wireshark.log")"

# The nodes, in the order their first arrows draw them: the ping and the SYN go from veth0 in
# netns A to veth1 in netns B, the reset back; both drops end in their reasons' nodes. Read from
# the header strip alone, as one block. OCR may read 0 as O: both sides are compared with O as 0.
convert "$OUT" -crop x60+0+0 +repage -resize 300% -colorspace Gray "$WORK/nodes.png" ||
  fail "cannot crop $OUT"
nodes=$(tesseract "$WORK/nodes.png" - --psm 6 2>/dev/null | tr 'Oo' '00')
for want in 'netns 4026532000/veth0' 'netns 4026532100/veth1' 'dropped: NETFILTER_DROP' \
            'dropped: NO_SOCKET'; do
  grep -qF -- "$(tr 'Oo' '00' <<<"$want")" <<<"$nodes" ||
    fail "the flow graph has no node '$want' ($OUT); read: $nodes"
done
# The arrows: their comments name journey, hop and function, the drops' their reasons (elided
# where the column ends); the status line counts nodes and arrows.
text=$(gui_ocr "$OUT" | tr 'Oo' '00')
for want in 'journey 0 hop 3: netif_rx' 'journey 0 hop 5: kfree_skb dropped it: NETFILTER' \
            'journey 2 hop 2: netif_receive_skb' 'journey 2 hop 4: kfree_skb dropped it: NO_SOCK' \
            'journey 3 hop 2: netif_receive_skb' '4 node(s), 5 item(s)'; do
  grep -qF -- "$(tr 'Oo' '00' <<<"$want")" <<<"$text" ||
    fail "the flow graph does not show '$want' ($OUT); read: $text"
done
# The drops' rows in the profile's drop colour, as in the packet list.
red=$(gui_profile_bg "pwru drop") || exit 1
n=$(gui_color_pixels "$OUT" "$red")
[ "$n" -ge 2000 ] || fail "no drop rows in #$red in $OUT ($n pixels)"

pass "Statistics > Flow Graph > PWRU journeys draws both namespaces' interfaces, the moves and" \
  "the drops with their reasons: $OUT"
