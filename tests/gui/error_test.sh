#!/usr/bin/env bash
# An extcap failure reaches the user in Wireshark (Qt): `wireshark -k -i pwru` as an unprivileged
# user whose copy of pwrudump has no capabilities. pwrudump cannot load its programs and exits 4
# with "cannot ...: Operation not permitted" and a hint naming CAP_BPF and CAP_PERFMON;
# Wireshark must show that text in its error dialog. The dialog's text is read the way a user
# reads it: off the screen (OCR), so the check is on what is shown.
#
# usage: error_test.sh BUILD_DIR PWRUDUMP [OUT_PNG]
#   OUT_PNG (default: in a temporary folder): a screenshot of the dialog.
#   Needs root (setpriv), wireshark (wireshark-qt), Xvfb (xvfb), xdotool, ImageMagick,
#   tesseract (tesseract-ocr, tesseract-ocr-eng).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=gui-lib.sh
. "$here/gui-lib.sh"
{ [ $# -ge 2 ] && [ $# -le 3 ]; } || fail "usage: error_test.sh BUILD_DIR PWRUDUMP [OUT_PNG]"
PWRUDUMP=$(readlink -f "$2")
[ -x "$PWRUDUMP" ] || fail "no pwrudump at $2"

require_root
require_cmd wireshark Xvfb xdotool import convert tesseract setpriv

gui_setup "$1"
OUT=${3:-$WORK/wireshark-error.png}
# No capabilities: as nobody, pwrudump lists its interfaces but cannot trace.
gui_install_extcap "$PWRUDUMP" ""
gui_start_x
gui_start_wireshark -k -i pwru -o extcap.pwru.backend:tracepoint
gui_wait_window '[Ww]ireshark' 60

# The error dialog: a second window of Wireshark's.
dialog=
for _ in $(seq 150); do
  for w in $(xdotool search --onlyvisible --class '^wireshark$' 2>/dev/null); do
    [ "$w" = "$WIN" ] || dialog=$w
  done
  [ -n "$dialog" ] && break
  sleep 0.2
done
[ -n "$dialog" ] || fail "no error dialog within 30 s; log: $(cat "$WORK/wireshark.log")"
sleep 1
gui_screenshot "$OUT"

# The message box's text is read off the screen (gui_ocr); its line breaks become spaces.
text=$(gui_ocr "$OUT" "$dialog" | tr '\n' ' ' | tr -s ' ')
[ -n "$text" ] || fail "no text read off the dialog (tesseract); see $OUT"
echo "--- the dialog says ---"
echo "$text"
echo "---"
grep -q 'Error by extcap pipe: pwrudump: cannot .*Operation not permitted' <<<"$text" ||
  fail "the dialog does not show pwrudump's error (pwrudump: cannot ...: Operation not permitted)"
grep -q 'hint: .*CAP_BPF' <<<"$text" || fail "the dialog does not show pwrudump's hint (CAP_BPF)"
pass "Wireshark's error dialog shows pwrudump's message and hint (screenshot: $OUT)"
