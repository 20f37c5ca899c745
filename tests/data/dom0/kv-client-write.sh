# Run (after wait-for.sh) in the dom0 against examples/kv as a domU with a fresh volume:
# 20 keys and a 100,000-byte one stored (each synced to the volume before the answer),
# one deleted. The domU is destroyed after this script: the VM's power cut.
base="http://$UNIK_DOMU_ADDRESS:8080"
wait_for curl -s -o /dev/null -m 2 "$base/"
curl -s "$base/" | grep -o '<h1>kv: a key-value store'
stored=0
for index in $(seq -w 0 19); do
    answer=$(curl -s -X PUT --data-binary "value $index" "$base/keys/k$index")
    [ "$answer" = stored ] && stored=$((stored + 1))
done
echo "stored: $stored of 20"
head -c 100000 /dev/zero | tr '\0' b > /tmp/big
curl -s -X PUT --data-binary @/tmp/big "$base/keys/big"
curl -s -X DELETE "$base/keys/k00"
curl -s -o /dev/null -w 'deleted key: %{http_code}\n' "$base/keys/k00"
