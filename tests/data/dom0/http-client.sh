# Run (after wait-for.sh) in the dom0 by `unik run --domu --in-dom0` against
# examples/http as a domU: the
# domU's address comes from the dom0's DHCP server, over netback and the domU's netfront.
base="http://$UNIK_DOMU_ADDRESS:8080"
wait_for curl -s -o /dev/null -m 2 "$base/"
ping -c 2 -W 2 "$UNIK_DOMU_ADDRESS" > /dev/null && echo "ping: answered"
curl -s "$base/echo?from-dom0"
curl -s -o /dev/null -w 'missing page: %{http_code}\n' "$base/missing"
# 1,000 requests over 8 keep-alive connections at once; every one must be answered 200.
curl -s --no-progress-meter -Z --parallel-max 8 -o /dev/null -w '%{http_code}\n' "$base/echo?[1-1000]" > /tmp/codes
answered=$(grep -c '^200$' /tmp/codes)
echo "answered 200: $answered of $(wc -l < /tmp/codes)"
[ "$answered" = 1000 ]
