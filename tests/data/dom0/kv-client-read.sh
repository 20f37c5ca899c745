# Run (after wait-for.sh) in the dom0 against examples/kv as a domU booted again on the
# volume kv-client-write.sh filled: the keys are back.
base="http://$UNIK_DOMU_ADDRESS:8080"
wait_for curl -s -o /dev/null -m 2 "$base/"
echo "k07: $(curl -s "$base/keys/k07")"
echo "big: $(curl -s "$base/keys/big" | wc -c) bytes"
echo "keys: $(curl -s "$base/keys" | wc -l)"
curl -s "$base/keys" | grep -q '^k00$' && echo "k00 came back"
exit 0
