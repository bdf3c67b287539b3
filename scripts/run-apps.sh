#!/usr/bin/env bash
# Start the kiosk and the dashboard together; Ctrl-C stops both.
# They listen on HOST only: localhost unless HOST is set (e.g. HOST=0.0.0.0 to let the
# kiosk tablets on the clinic network reach them; then set CHECKIN_KIOSK_URL to the address
# they use, since it goes into the QR codes).
set -u
: "${KIOSK_PORT:=8501}" "${DASHBOARD_PORT:=8502}" "${HOST:=localhost}" "${BIN:=.venv/bin}"
[ -n "$HOST" ] || HOST=localhost
# Where this script checks that the apps answer: the address they listen on, or this
# machine when they listen on every address.
case "$HOST" in
  0.0.0.0 | :: | "[::]") probe=127.0.0.1 ;;
  \[*\]) probe="$HOST" ;;
  *:*) probe="[$HOST]" ;;  # an IPv6 address
  *) probe="$HOST" ;;
esac
kiosk_url="http://${HOST}:${KIOSK_PORT}"
dashboard_url="http://${HOST}:${DASHBOARD_PORT}"
export CHECKIN_KIOSK_URL="${CHECKIN_KIOSK_URL:-$kiosk_url}"

pids=()
stop() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; exit 0; }
trap stop INT TERM

common=(--server.headless true --browser.gatherUsageStats false --server.address "$HOST")
"$BIN/streamlit" run kiosk/app.py --server.port "$KIOSK_PORT" "${common[@]}" >/dev/null &
pids+=($!)
"$BIN/streamlit" run dashboard/app.py --server.port "$DASHBOARD_PORT" "${common[@]}" >/dev/null &
pids+=($!)
# The connection to the practice system, only when configured: the MLLP listener when
# CHECKIN_HL7_PORT is set, the outbox's sender when CHECKIN_HL7_SEND_HOST and _PORT are.
if [ -n "${CHECKIN_HL7_PORT:-}" ]; then
  "$BIN/python" -m shared.cli listen-hl7 --host "${CHECKIN_HL7_HOST:-127.0.0.1}" \
    --port "$CHECKIN_HL7_PORT" &
  pids+=($!)
fi
if [ -n "${CHECKIN_HL7_SEND_HOST:-}" ] && [ -n "${CHECKIN_HL7_SEND_PORT:-}" ]; then
  "$BIN/python" -m shared.cli send-hl7 --host "$CHECKIN_HL7_SEND_HOST" \
    --port "$CHECKIN_HL7_SEND_PORT" --facility "${CHECKIN_HL7_FACILITY:-}" &
  pids+=($!)
fi

# Wait until both answer their health check, then say how to use them.
for port in "$KIOSK_PORT" "$DASHBOARD_PORT"; do
  for _ in $(seq 1 120); do
    "$BIN/python" -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://$probe:$port/_stcore/health', timeout=1).read()==b'ok' else 1)" 2>/dev/null && break
    if ! kill -0 "${pids[@]}" 2>/dev/null; then echo "An app failed to start (port $port busy?)."; stop; fi
    sleep 0.5
  done
done
echo
echo "Patient check-in is running. Press Ctrl-C to stop both apps."
"$BIN/python" -m shared.cli demo-info --kiosk-url "$kiosk_url" --dashboard-url "$dashboard_url"
echo
wait
