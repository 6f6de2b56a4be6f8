#!/usr/bin/env bash
# Wireshark (Qt) offers pwrudump's interfaces: starts wireshark without a capture file, with
# pwrudump in the user's personal extcap folder, the build tree's plugin and the "pwru" profile,
# on a virtual X server; keeps a screenshot of the welcome screen and checks that its interface
# list, read off the screen (OCR), shows pwru and pwru-drops with their descriptions, that no
# error dialog opened, and that `tshark -D` run the same way lists "pwru" and "pwru-drops".
#
# usage: interfaces_test.sh BUILD_DIR PWRUDUMP [OUT.png]
#   Needs wireshark (wireshark-qt), tshark, Xvfb (xvfb), xdotool, ImageMagick (imagemagick),
#   tesseract (tesseract-ocr, tesseract-ocr-eng); as root setpriv and setcap (libcap2-bin): see
#   gui-lib.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=gui-lib.sh
. "$here/gui-lib.sh"
{ [ $# -ge 2 ] && [ $# -le 3 ]; } || fail "usage: interfaces_test.sh BUILD_DIR PWRUDUMP [OUT.png]"
PWRUDUMP=$(readlink -f "$2")
[ -x "$PWRUDUMP" ] || fail "no pwrudump at $2"
require_cmd wireshark tshark Xvfb xdotool import convert tesseract
[ "$(id -u)" -ne 0 ] || require_cmd setpriv setcap

gui_setup "$1"
OUT=${3:-$WORK/welcome.png}
gui_install_extcap "$PWRUDUMP"

# What Wireshark's interface list is made of: pwrudump's --extcap-interfaces, run by Wireshark.
gui_run tshark -D >"$WORK/D.out" 2>"$WORK/D.err"
grep -q '\. pwru (pwru: ' "$WORK/D.out" ||
  fail "tshark -D does not list pwru: $(cat "$WORK/D.out" "$WORK/D.err")"
grep -q '\. pwru-drops (pwru-drops: ' "$WORK/D.out" ||
  fail "tshark -D does not list pwru-drops: $(cat "$WORK/D.out" "$WORK/D.err")"
[ -s "$WORK/D.err" ] && fail "tshark -D wrote errors: $(cat "$WORK/D.err")"

gui_start_x
gui_start_wireshark -C pwru
gui_wait_window '^The Wireshark Network Analyzer$' 60
# The interface list fills in once every extcap has answered: read until both lines are there.
PWRU_LINE='pwru: packets through the Linux kernel (eBPF): pwru'
DROPS_LINE='pwru-drops: only packets the kernel drops, and who dropped them: pwru-drops'
for _ in $(seq 15); do
  gui_screenshot "$OUT"
  text=$(gui_ocr "$OUT")
  grep -qF "$PWRU_LINE" <<<"$text" && grep -qF "$DROPS_LINE" <<<"$text" && break
  sleep 1
done
grep -qF "$PWRU_LINE" <<<"$text" ||
  fail "the interface list does not show '$PWRU_LINE' ($OUT); read: $text"
grep -qF "$DROPS_LINE" <<<"$text" ||
  fail "the interface list does not show '$DROPS_LINE' ($OUT); read: $text"

others=$(gui_other_windows)
[ -z "$others" ] || fail "Wireshark opened other windows (an error?): $others"
kill -0 "$WS_PID" 2>/dev/null || fail "wireshark exited: $(cat "$WORK/wireshark.log")"

# Not blank: a drawn welcome screen has text and icons in many colours and grey levels.
ncolors=$(convert "$OUT" -format %k info:) || fail "cannot read $OUT"
[ "$ncolors" -ge 50 ] || fail "the welcome screen looks blank: $ncolors colours in $OUT"
pass "tshark -D and the welcome screen's interface list show pwru and pwru-drops ($ncolors" \
  "colours): $OUT"
