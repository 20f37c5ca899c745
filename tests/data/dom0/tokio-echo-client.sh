# Run (after wait-for.sh) in the dom0 by `unik run --domu --in-dom0` against
# examples/tokio-echo as a domU: bytes sent over curl's telnet client come back, from 8 connections at once.
answers_ping() {
    echo ping | curl -s -m 2 "telnet://$UNIK_DOMU_ADDRESS:7777" | grep -q ping
}
wait_for answers_ping
for i in 1 2 3 4 5 6 7 8; do
    (seq 1 2000 | sed "s/^/connection $i line /" | curl -s -m 20 "telnet://$UNIK_DOMU_ADDRESS:7777" > /tmp/echo.$i) &
done
wait
same=0
for i in 1 2 3 4 5 6 7 8; do
    seq 1 2000 | sed "s/^/connection $i line /" | cmp -s - /tmp/echo.$i && same=$((same + 1))
done
echo "echoed whole: $same of 8"
