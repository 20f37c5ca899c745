# Run (after wait-for.sh) in the dom0 by `unik run --domu --in-dom0` against
# examples/tokio-echo as a domU: 8 connections at once (bash's /dev/tcp), each sending 2,000
# lines while reading back exactly as many bytes; every connection's echo must equal what
# it sent.
lines() {
    seq 1 2000 | sed "s/^/connection $1 line /"
}
# `exchange BYTES TIMEOUT`: sends stdin over one connection while printing the first BYTES
# bytes that come back, then stops sending. The sender reads the outer stdin through fd 4
# (a background job's own stdin is /dev/null).
exchange() {
    bash -c 'exec 3<>"/dev/tcp/$0/7777" 4<&0 || exit
        cat <&4 >&3 &
        timeout "$2" head -c "$1" <&3
        status=$?
        kill $! 2> /dev/null
        exit $status' "$UNIK_DOMU_ADDRESS" "$1" "$2"
}
answers_ping() {
    [ "$(echo ping | exchange 5 2)" = ping ]
}
wait_for answers_ping
for i in 1 2 3 4 5 6 7 8; do
    lines "$i" | exchange "$(lines "$i" | wc -c)" 20 > "/tmp/echo.$i" &
done
wait
same=0
for i in 1 2 3 4 5 6 7 8; do
    lines "$i" | cmp -s - "/tmp/echo.$i" && same=$((same + 1))
done
echo "echoed whole: $same of 8"
# Processes of the dom0 that crashed meanwhile (the kernel logs each segfault).
echo "dom0 segfaults: $(dmesg | grep -c segfault)"
