# Run (after wait-for.sh) in the dom0 by `unik run --domu --in-dom0` against
# examples/axum as a domU: its JSON
# API through netback and the domU's netfront, then 1,000 requests over 8 connections.
base="http://$UNIK_DOMU_ADDRESS:8080"
wait_for curl -s -o /dev/null -m 2 "$base/"
curl -s "$base/"
curl -s -H 'content-type: application/json' -d '{"text":"from-dom0"}' -w ' %{http_code}\n' "$base/notes"
curl -s "$base/notes/1"; echo
curl -s -o /dev/null -w 'missing note: %{http_code}\n' "$base/notes/9"
curl -s --no-progress-meter -Z --parallel-max 8 -o /dev/null -w '%{http_code}\n' "$base/echo?[1-1000]" > /tmp/codes
answered=$(grep -c '^200$' /tmp/codes)
echo "answered 200: $answered of $(wc -l < /tmp/codes)"
[ "$answered" = 1000 ]
